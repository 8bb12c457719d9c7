"""The structured report (``output.report``) of a completed report, derived from its case.

Documented (Get Report reference): ``{"schema_version": "1.0", "sections": [...]}``, each
section ``{id, type, title, markdown, data?}``; the biomechanics content split into ordered
sections whose types, titles and ``data`` keys follow the reference's table; accident-only
cases carry no biomechanics section at all.

Inferred, because the reference is silent:

* where the biomechanics sections sit: after the ``ar_*`` sections, before ``references``;
* ``id`` is ``"sec_" + type`` (the reference shows ``sec_header``, ``sec_biomechanics``);
* the row shape of ``motion_tables`` and ``forces_tables``. Every table here is::

      {"title": str, "columns": [str, ...], "rows": [[str | int | float, ...], ...]}

  with one cell per column in each row; every ``forces_tables`` entry also carries
  ``"region": <region key>`` so a consumer can check the per-region filtering;
* the numbers. They are plausible engineering estimates, not science: loads grow linearly with
  the case's delta-V, tolerances shrink with the occupant's age, and the crash pulse is a
  half-sine fitted to the case's delta-V and peak acceleration.

Deterministic and pure: the same profile and date always give the same dictionary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mockserver.content import narratives
from mockserver.content.narratives import LoadFigures, MotionFigures
from mockserver.core.case_profile import REGION_TITLES, CaseProfile

__all__ = [
    "SCHEMA_VERSION",
    "build_structured_report",
    "motion_figures",
    "region_loads",
]

SCHEMA_VERSION = "1.0"
_G = 9.81  # m/s^2
_MPH = 0.44704  # m/s
_SUBJECT_CRASH = "Subject crash"


@dataclass(frozen=True)
class _LoadRow:
    """One load of a region: its name, growth per mph of delta-V, unit and healthy tolerance."""

    name: str
    per_mph: float
    unit: str
    tolerance: float


@dataclass(frozen=True)
class _RegionModel:
    """How a region is loaded and what its crash load is compared with."""

    chart_type: str
    chart_name: str
    ylabel: str
    daily_activities: tuple[tuple[str, float], ...]  # ascending load, in the first row's unit
    rows: tuple[_LoadRow, ...]  # the first row is the one charted


_REGION_MODELS: dict[str, _RegionModel] = {
    "cervical_spine": _RegionModel(
        "CERVICAL_COMPRESSION",
        "Cervical Compression",
        "Cervical Spine Loading (lbf)",
        (("Walking", 22), ("Stair climbing", 48), ("Sneeze", 75)),
        (
            _LoadRow("Axial compression", 23.0, "lbf", 1000),
            _LoadRow("Anterior-posterior shear", 9.0, "lbf", 700),
            _LoadRow("Extension moment", 1.6, "ft-lbf", 42),
        ),
    ),
    "thoracic_spine": _RegionModel(
        "THORACIC_COMPRESSION",
        "Thoracic Compression",
        "Thoracic Spine Loading (lbf)",
        (("Sitting upright", 90), ("Lifting a 20 lb box", 250), ("Jumping from a step", 400)),
        (
            _LoadRow("Axial compression", 30.0, "lbf", 1500),
            _LoadRow("Flexion moment", 2.2, "ft-lbf", 150),
        ),
    ),
    "lumbar_spine": _RegionModel(
        "LUMBAR_COMPRESSION",
        "Lumbar Compression",
        "Lumbar Spine Loading (lbf)",
        (("Standing", 130), ("Bending to tie shoes", 400), ("Lifting a 30 lb object", 750)),
        (
            _LoadRow("Axial compression", 40.0, "lbf", 1400),
            _LoadRow("Anterior-posterior shear", 6.0, "lbf", 225),
        ),
    ),
    "shoulder": _RegionModel(
        "SHOULDER_LOADING",
        "Shoulder Loading",
        "Shoulder Loading (lbf)",
        (("Reaching overhead", 40), ("Pushing open a door", 60), ("Carrying groceries", 90)),
        (
            _LoadRow("Shoulder belt load", 14.0, "lbf", 900),
            _LoadRow("Glenohumeral joint force", 6.0, "lbf", 500),
        ),
    ),
    "hip": _RegionModel(
        "HIP_JOINT_FORCE",
        "Hip Joint Force",
        "Hip Joint Force (lbf)",
        (("Walking", 540), ("Stair climbing", 650), ("Jogging", 900)),
        (_LoadRow("Femoral axial load", 38.0, "lbf", 1900),),
    ),
    "knee": _RegionModel(
        "KNEE_LOADING",
        "Knee Loading",
        "Knee Loading (lbf)",
        (("Walking", 450), ("Stair descent", 630), ("Squatting", 900)),
        (
            _LoadRow("Knee-to-bolster force", 35.0, "lbf", 2250),
            _LoadRow("Tibial axial load", 20.0, "lbf", 1200),
        ),
    ),
    "foot_ankle": _RegionModel(
        "ANKLE_LOADING",
        "Ankle Loading",
        "Ankle Loading (lbf)",
        (("Walking", 630), ("Stair descent", 700), ("Jumping down a step", 1100)),
        (_LoadRow("Axial ankle load", 40.0, "lbf", 1800),),
    ),
}

#: Everyday accelerations (g) the whole-body chart compares the crash with.
_DAILY_ACCELERATIONS = (
    ("Plopping into a chair", 3.5),
    ("Bumper car collision", 4.6),
    ("Amusement park ride", 6.0),
)
#: Share of a region's frontal-crash loading that each collision type delivers.
_COLLISION_FACTORS = {
    "rear-end": {"hip": 0.45, "knee": 0.45, "foot_ankle": 0.45},
    "side-impact": {"hip": 0.7, "knee": 0.7, "foot_ankle": 0.7, "shoulder": 1.3},
}
_DIRECTIONS = {"rear-end": "rearward", "side-impact": "lateral", "frontal-offset": "forward"}
_HEAD_AMPLIFICATION = {"rearward": 1.6, "lateral": 1.3, "forward": 1.4}
_EXCURSION_IN_PER_MPH = {"rearward": 0.35, "lateral": 0.4, "forward": 0.5}
_RESTRAINTS = {
    "rearward": "seatback and head restraint",
    "lateral": "seat bolster and door panel",
    "forward": "seat belt",
}


def _age_factor(age: int) -> float:
    """Tolerances fall by 0.6% a year after 30 (inferred)."""
    return 1.0 - 0.006 * max(0, age - 30)


def _rounded(value: float, unit: str) -> float:
    return round(value) if unit == "lbf" else round(value, 1)


def region_loads(profile: CaseProfile) -> list[LoadFigures]:
    """The charted load of each of ``profile.force_regions``, in that order."""
    return [
        _load(profile, region, _REGION_MODELS[region].rows[0]) for region in profile.force_regions
    ]


def _load(profile: CaseProfile, region: str, row: _LoadRow) -> LoadFigures:
    factor = _COLLISION_FACTORS.get(profile.collision_type, {}).get(region, 1.0)
    return LoadFigures(
        region=region,
        quantity=row.name.lower(),
        unit=row.unit,
        crash=_rounded(row.per_mph * profile.delta_v_mph * factor, row.unit),
        tolerance=_rounded(row.tolerance * _age_factor(profile.occupant_age), row.unit),
        daily_activities=_REGION_MODELS[region].daily_activities,
    )


def motion_figures(profile: CaseProfile) -> MotionFigures:
    """The crash pulse and the occupant's response.

    A half-sine pulse of peak ``a`` lasting ``T`` has delta-V ``2aT/pi`` and mean ``2a/pi``; ``T``
    is clamped to 70-200 ms, since invented cases may pair any delta-V with any peak.
    """
    delta_v = profile.delta_v_mph * _MPH
    pulse_s = min(0.2, max(0.07, math.pi * delta_v / (2 * profile.peak_acceleration_g * _G)))
    direction = _DIRECTIONS.get(profile.collision_type, "forward")
    return MotionFigures(
        pulse_ms=round(pulse_s * 1000),
        mean_acceleration_g=round(2 / math.pi * profile.peak_acceleration_g, 1),
        head_peak_g=round(profile.peak_acceleration_g * _HEAD_AMPLIFICATION[direction], 1),
        excursion_in=round(profile.delta_v_mph * _EXCURSION_IN_PER_MPH[direction], 1),
        direction=direction,
    )


def _motion_tables(profile: CaseProfile, motion: MotionFigures) -> list[dict[str, Any]]:
    pulse = motion.pulse_ms
    restraint = _RESTRAINTS[motion.direction]
    return [
        {
            "title": "Occupant Kinematics",
            "columns": ["Parameter", "Value", "Unit"],
            "rows": [
                ["Vehicle delta-V", profile.delta_v_mph, "mph"],
                ["Peak vehicle acceleration", profile.peak_acceleration_g, "g"],
                ["Crash pulse duration", pulse, "ms"],
                ["Mean vehicle acceleration", motion.mean_acceleration_g, "g"],
                ["Peak head acceleration", motion.head_peak_g, "g"],
                [f"Torso excursion ({motion.direction})", motion.excursion_in, "in"],
            ],
        },
        {
            "title": "Occupant Motion Timeline",
            "columns": ["Phase", "Time (ms)", "Description"],
            "rows": [
                ["Contact", 0, "Vehicles first touch; the occupant is still at rest"],
                ["Loading", round(pulse * 0.35), f"Loading of the torso by the {restraint} begins"],
                ["Peak excursion", round(pulse * 0.8), f"Motion is stopped by the {restraint}"],
                ["Rebound", pulse + 60, "The occupant returns toward the original posture"],
                ["Motion complete", pulse + 200, "The occupant is at rest relative to the seat"],
            ],
        },
    ]


def _forces_tables(profile: CaseProfile, region: str) -> list[dict[str, Any]]:
    model = _REGION_MODELS[region]
    title = REGION_TITLES[region]
    loads = [_load(profile, region, row) for row in model.rows]
    charted = loads[0]
    return [
        {
            "title": f"{title} — Estimated Loads",
            "region": region,
            "columns": ["Load", "Subject crash", "Injury tolerance", "Unit", "% of tolerance"],
            "rows": [
                [row.name, load.crash, load.tolerance, row.unit, load.percent_of_tolerance]
                for row, load in zip(model.rows, loads, strict=True)
            ],
        },
        {
            "title": f"{title} — Activities of Daily Living",
            "region": region,
            "columns": ["Activity", f"{model.rows[0].name} ({charted.unit})"],
            "rows": [[name, load] for name, load in model.daily_activities]
            + [[_SUBJECT_CRASH, charted.crash]],
        },
    ]


def _chart(load: LoadFigures) -> dict[str, Any]:
    model = _REGION_MODELS[load.region]
    return {
        "chartType": model.chart_type,
        "title": f"{model.chart_name} — Crash vs ADL",
        "labels": [name for name, _ in load.daily_activities] + [_SUBJECT_CRASH],
        "datasets": [
            {
                "label": f"Force ({load.unit})",
                "data": [value for _, value in load.daily_activities] + [load.crash],
            }
        ],
        "ylabel": model.ylabel,
    }


def _acceleration_chart(profile: CaseProfile) -> dict[str, Any]:
    return {
        "chartType": "PEAK_ACCELERATION",
        "title": "Peak Acceleration — Crash vs ADL",
        "labels": [name for name, _ in _DAILY_ACCELERATIONS] + [_SUBJECT_CRASH],
        "datasets": [
            {
                "label": "Acceleration (g)",
                "data": [value for _, value in _DAILY_ACCELERATIONS]
                + [profile.peak_acceleration_g],
            }
        ],
        "ylabel": "Peak Acceleration (g)",
    }


def _section(
    kind: str, title: str, markdown: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    section: dict[str, Any] = {"id": f"sec_{kind}", "type": kind, "title": title}
    section["markdown"] = markdown
    if data is not None:
        section["data"] = data
    return section


def _biomechanics_sections(profile: CaseProfile, motion: MotionFigures) -> list[dict[str, Any]]:
    loads = region_loads(profile)
    sections = [
        _section(
            "biomechanics_alleged_injuries_and_health",
            "Alleged Injuries & Health Considerations",
            narratives.alleged_injuries_markdown(profile),
        ),
        _section(
            "biomechanics_injury_mechanisms_intro",
            "Injury Mechanisms & Tolerances",
            narratives.injury_mechanisms_intro_markdown(profile),
        ),
    ]
    sections += [
        _section(
            f"biomechanics_injury_mechanism_{region}",
            REGION_TITLES[region],
            narratives.injury_mechanism_markdown(profile, region),
        )
        for region in profile.alleged_regions
    ]
    sections += [
        _section(
            "biomechanics_occupant_motion",
            "Occupant Motion",
            narratives.occupant_motion_markdown(profile, motion),
        ),
        _section(
            "biomechanics_occupant_motion_analysis",
            "Occupant Motion Analysis",
            narratives.occupant_motion_analysis_markdown(motion),
            {"motion_tables": _motion_tables(profile, motion)},
        ),
    ]
    if loads or profile.has_tbi:
        sections.append(
            _section(
                "biomechanics_forces_intro",
                f"Forces Exerted On {profile.plaintiff_name}",
                narratives.forces_intro_markdown(profile, loads),
            )
        )
    if profile.has_tbi:
        sections.append(
            _section(
                "biomechanics_forces_tbi",
                REGION_TITLES["tbi"],
                narratives.forces_tbi_markdown(motion),
            )
        )
    sections += [
        _section(
            f"biomechanics_forces_{load.region}",
            REGION_TITLES[load.region],
            narratives.forces_region_markdown(profile, load),
            {"forces_tables": _forces_tables(profile, load.region)},
        )
        for load in loads
    ]
    charts = [_chart(load) for load in loads] or [_acceleration_chart(profile)]
    sections.append(
        _section(
            "biomechanics_loading_considerations",
            "Loading Considerations",
            narratives.loading_considerations_markdown(profile, loads, motion),
            {"charts": charts},
        )
    )
    return sections


def build_structured_report(profile: CaseProfile, *, report_date: str) -> dict[str, Any]:
    """The structured report of ``profile``'s case, dated ``report_date`` (``YYYY-MM-DD``).

    Raises ``ValueError`` when ``report_date`` is not an ISO date.
    """
    motion = motion_figures(profile)
    loads = region_loads(profile)
    sections = [
        _section("header", "Report Header", narratives.header_markdown(profile, report_date)),
        _section("assignment", "Assignment", narratives.assignment_markdown(profile)),
        _section("opinions", "Opinions", narratives.opinions_markdown(profile, motion, loads)),
        _section("ar_intro", "Accident Reconstruction", narratives.ar_intro_markdown(profile)),
        _section(
            "ar_similar_cases", "Similar Crash Tests", narratives.ar_similar_cases_markdown(profile)
        ),
        _section(
            "ar_acceleration",
            "Delta-V and Acceleration",
            narratives.ar_acceleration_markdown(profile, motion),
        ),
        _section("ar_liability", "Liability Analysis", narratives.ar_liability_markdown(profile)),
    ]
    if profile.has_biomechanics:
        sections += _biomechanics_sections(profile, motion)
    sections.append(_section("references", "References", narratives.references_markdown(profile)))
    return {"schema_version": SCHEMA_VERSION, "sections": sections}
