"""The structured report of a completed report: ordered sections, as the reference documents.

Order: header, assignment, opinions, the ``ar_*`` sections, then (only when biomechanics
applies) the split ``biomechanics_*`` sections in the documented wire order, then references.
Where the biomechanics block sits among the others is *inferred* (the reference is silent);
so are the row shapes of ``motion_tables`` and ``forces_tables``, which are
``{"title", "columns", "rows"}`` here.

Pure and deterministic: the same profile and date give the same report.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from mockserver.case_profile import REGION_TITLES, CaseProfile

__all__ = ["SCHEMA_VERSION", "build_structured_report"]

SCHEMA_VERSION = "1.0"

# Activities of daily living with typical peak loads (lbf) per region; the crash value is
# derived from the case's delta-V. Inferred, plausible orders of magnitude for a mock.
_ADL_LOADS: dict[str, tuple[tuple[str, float], ...]] = {
    "cervical_spine": (
        ("Walking", 22),
        ("Stair climbing", 48),
        ("Sneeze", 75),
        ("Plopping into a chair", 110),
    ),
    "thoracic_spine": (
        ("Walking", 60),
        ("Bending to tie shoes", 140),
        ("Lifting a 20 lb bag", 210),
    ),
    "lumbar_spine": (
        ("Walking", 180),
        ("Sitting down", 260),
        ("Lifting a 20 lb bag", 520),
        ("Jumping", 640),
    ),
    "shoulder": (("Reaching overhead", 45), ("Carrying groceries", 70), ("Pushing a door", 95)),
    "hip": (("Walking", 250), ("Stair climbing", 380), ("Jogging", 600)),
    "knee": (("Walking", 300), ("Stair descent", 520), ("Squatting", 700)),
    "foot_ankle": (("Standing", 90), ("Walking", 180), ("Jogging", 400)),
}
# Crash load per mph of delta-V, per region (inferred).
_LOAD_PER_MPH = {
    "cervical_spine": 21.0,
    "thoracic_spine": 18.0,
    "lumbar_spine": 45.0,
    "shoulder": 9.0,
    "hip": 28.0,
    "knee": 24.0,
    "foot_ankle": 14.0,
}


def _long_date(iso_date: str) -> str:
    moment = date.fromisoformat(iso_date)
    return f"{moment:%B} {moment.day}, {moment.year}"


def _section(
    kind: str, title: str, markdown: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    section: dict[str, Any] = {
        "id": f"sec_{kind}",
        "type": kind,
        "title": title,
        "markdown": markdown,
    }
    if data is not None:
        section["data"] = data
    return section


def _crash_load(profile: CaseProfile, region: str) -> int:
    return round(profile.delta_v_mph * _LOAD_PER_MPH[region])


def _accident_sections(profile: CaseProfile, report_date: str) -> list[dict[str, Any]]:
    occupant = profile.plaintiff_name
    surname = occupant.split()[-1]
    opinions = [
        f"1. The {profile.plaintiff_vehicle} experienced a {profile.collision_type} impact with a "
        f"change in velocity (delta-V) of approximately **{profile.delta_v_mph:.1f} mph**.",
        f"2. The peak acceleration of the {profile.plaintiff_vehicle} was approximately "
        f"**{profile.peak_acceleration_g:.1f} g**, within the range of documented staged collisions.",
        f"3. The {profile.defendant_vehicle} was the striking vehicle; its driver had the last clear "
        "opportunity to avoid the collision.",
    ]
    if profile.has_biomechanics:
        opinions += [
            "",
            "**Biomechanics**",
            "",
            f"4. The loads on {occupant} were compared with injury tolerances and with the loads of "
            "activities of daily living for each alleged injury.",
        ]
    return [
        _section(
            "header",
            "Report Header",
            f"{_long_date(report_date)}\n\n{profile.attorney_name}\n{profile.law_firm}\n\n"
            f"**Case:** {profile.caption}\n\n**Date of incident:** {_long_date(profile.accident_date)}",
        ),
        _section(
            "assignment",
            "Assignment",
            "Silent Witness was utilized to review the available evidence and to reconstruct the "
            f"collision of {_long_date(profile.accident_date)} at {profile.accident_location}, "
            f"involving a {profile.plaintiff_vehicle} occupied by {occupant} and a "
            f"{profile.defendant_vehicle} driven by {profile.defendant_name}. We were asked to "
            "determine the severity of the impact"
            + (
                " and the biomechanical loads on the occupant." if profile.has_biomechanics else "."
            ),
        ),
        _section("opinions", "Opinions", "**Accident Reconstruction**\n\n" + "\n".join(opinions)),
        _section(
            "ar_intro",
            "Accident Reconstruction",
            "### Methodology\n\nThe crush profiles of both vehicles were measured from the damage "
            "photographs and compared with crash-test stiffness data for the same makes and models. "
            "Conservation of momentum and energy then yields the change in velocity of each vehicle.",
        ),
        _section(
            "ar_similar_cases",
            "Similar Crash Tests",
            f"Staged {profile.collision_type} tests of comparable vehicles with similar damage "
            f"produced delta-V values between {max(profile.delta_v_mph - 2.5, 1):.1f} and "
            f"{profile.delta_v_mph + 2.5:.1f} mph, consistent with this analysis.\n\n"
            "- Insurance Institute for Highway Safety bumper tests\n- NHTSA vehicle crash test database",
        ),
        _section(
            "ar_acceleration",
            "Vehicle Acceleration",
            f"The {profile.plaintiff_vehicle} reached a peak acceleration of "
            f"**{profile.peak_acceleration_g:.1f} g** over a crash pulse of roughly 100 ms, for a "
            f"delta-V of **{profile.delta_v_mph:.1f} mph**.",
        ),
        _section(
            "ar_liability",
            "Liability",
            f"The physical evidence is consistent with the {profile.defendant_vehicle} striking the "
            f"{profile.plaintiff_vehicle}. Nothing in the evidence indicates that {surname}'s "
            "vehicle contributed to the collision.",
        ),
    ]


def _region_text(region: str) -> str:
    if region == "tbi":
        return (
            "Traumatic brain injury requires either a head impact or rotational accelerations well "
            "above those of this collision's occupant kinematics."
        )
    return (
        f"Injury to the {REGION_TITLES[region].lower()} occurs when the applied load exceeds the "
        "tissue tolerance documented in the biomechanical literature."
    )


def _forces_table(profile: CaseProfile, region: str) -> dict[str, Any]:
    rows: list[list[str | float]] = [[name, float(load)] for name, load in _ADL_LOADS[region]]
    rows.append(["Subject crash", float(_crash_load(profile, region))])
    return {
        "title": f"{REGION_TITLES[region]} loads",
        "region": region,
        "columns": ["Activity", "Load (lbf)"],
        "rows": rows,
    }


def _chart(profile: CaseProfile, region: str) -> dict[str, Any]:
    labels = [name for name, _ in _ADL_LOADS[region]] + ["Subject crash"]
    data = [float(load) for _, load in _ADL_LOADS[region]] + [float(_crash_load(profile, region))]
    title = REGION_TITLES[region]
    return {
        "chartType": f"{region.upper()}_COMPRESSION",
        "title": f"{title} Compression — Crash vs ADL",
        "labels": labels,
        "datasets": [{"label": "Force (lbf)", "data": data}],
        "ylabel": f"{title} Loading (lbf)",
    }


def _acceleration_chart(profile: CaseProfile) -> dict[str, Any]:
    return {
        "chartType": "PEAK_ACCELERATION",
        "title": "Peak Acceleration — Crash vs ADL",
        "labels": ["Sitting down hard", "Amusement ride", "Subject crash"],
        "datasets": [
            {"label": "Acceleration (g)", "data": [4.0, 5.5, profile.peak_acceleration_g]}
        ],
        "ylabel": "Acceleration (g)",
    }


def _biomechanics_sections(profile: CaseProfile) -> list[dict[str, Any]]:
    rng = random.Random(profile.case_id)
    occupant = profile.plaintiff_name
    alleged = ", ".join(REGION_TITLES[r] for r in profile.alleged_regions)
    sections = [
        _section(
            "biomechanics_alleged_injuries_and_health",
            "Alleged Injuries & Health Considerations",
            f"{occupant}, aged {profile.occupant_age}, was the {profile.occupant_seated_position}. "
            f"Alleged injuries: {alleged}.",
        ),
        _section(
            "biomechanics_injury_mechanisms_intro",
            "Injury Mechanisms & Tolerances",
            "Each alleged injury is assessed against its mechanism and the tolerance of the tissue.",
        ),
    ]
    sections += [
        _section(
            f"biomechanics_injury_mechanism_{region}", REGION_TITLES[region], _region_text(region)
        )
        for region in profile.alleged_regions
    ]
    excursion = round(2.0 + profile.delta_v_mph * rng.uniform(0.35, 0.45), 1)
    motion_table = {
        "title": "Occupant kinematics",
        "columns": ["Measure", "Value"],
        "rows": [
            ["Delta-V (mph)", profile.delta_v_mph],
            ["Peak acceleration (g)", profile.peak_acceleration_g],
            ["Head excursion (in)", excursion],
        ],
    }
    sections += [
        _section(
            "biomechanics_occupant_motion",
            "Occupant Motion",
            f"In a {profile.collision_type} collision the occupant moves relative to the vehicle "
            "until restrained by the seat, the seat belt and the head restraint.",
        ),
        _section(
            "biomechanics_occupant_motion_analysis",
            "Occupant Motion Analysis",
            f"The head of {occupant} moved about {excursion} in relative to the torso, within the "
            "range of voluntary motion.",
            {"motion_tables": [motion_table]},
        ),
    ]
    if profile.force_regions or profile.has_tbi:
        sections.append(
            _section(
                "biomechanics_forces_intro",
                f"Forces Exerted On {occupant}",
                "The forces on each body region were computed from the crash pulse and compared "
                "with those of everyday activities.",
            )
        )
    if profile.has_tbi:
        sections.append(
            _section("biomechanics_forces_tbi", "Traumatic Brain Injury", _region_text("tbi"))
        )
    for region in profile.force_regions:
        load = _crash_load(profile, region)
        sections.append(
            _section(
                f"biomechanics_forces_{region}",
                REGION_TITLES[region],
                f"The peak load on the {REGION_TITLES[region].lower()} was about **{load} lbf**.",
                {"forces_tables": [_forces_table(profile, region)]},
            )
        )
    charts = [_chart(profile, region) for region in profile.force_regions] or [
        _acceleration_chart(profile)
    ]
    sections.append(
        _section(
            "biomechanics_loading_considerations",
            "Loading Considerations",
            "The charts compare the crash loads with activities of daily living.",
            {"charts": charts},
        )
    )
    return sections


def _references(profile: CaseProfile) -> dict[str, Any]:
    items = [
        "1. SAE 2003-01-0491, *Low Speed Rear Impact Occupant Response*.",
        "2. NHTSA, *Vehicle Crash Test Database*.",
        "3. Brach, R. M., *Vehicle Accident Analysis and Reconstruction Methods*, SAE, 2011.",
    ]
    if profile.has_biomechanics:
        items.append(
            "4. Nightingale, R. W., et al., *Cervical Spine Injury Tolerance*, Stapp Car Crash Journal."
        )
    return _section("references", "References", "\n".join(items))


def build_structured_report(profile: CaseProfile, *, report_date: str) -> dict[str, Any]:
    """``output.report`` for a case: ``{"schema_version": "1.0", "sections": [...]}``."""
    sections = _accident_sections(profile, report_date)
    if profile.has_biomechanics:
        sections += _biomechanics_sections(profile)
    sections.append(_references(profile))
    return {"schema_version": SCHEMA_VERSION, "sections": sections}
