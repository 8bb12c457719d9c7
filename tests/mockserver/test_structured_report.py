"""The structured report derived from a case: documented wire order, per-region sections, data."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas
from mockserver.content.structured_report import build_structured_report
from mockserver.core.case_profile import (
    BIOMECHANICS_REGIONS,
    DEMO_PROFILE,
    REGION_TITLES,
    CaseProfile,
    profile_for_case,
)

REPORT_DATE = "2026-04-15"
NON_BIOMECHANICS_HEAD = [
    "header",
    "assignment",
    "opinions",
    "ar_intro",
    "ar_similar_cases",
    "ar_acceleration",
    "ar_liability",
]
#: The documented wire order of the biomechanics types; a trailing "_" is a per-region prefix.
BIOMECHANICS_WIRE_ORDER = [
    "biomechanics_alleged_injuries_and_health",
    "biomechanics_injury_mechanisms_intro",
    "biomechanics_injury_mechanism_",
    "biomechanics_occupant_motion",
    "biomechanics_occupant_motion_analysis",
    "biomechanics_forces_intro",
    "biomechanics_forces_tbi",
    "biomechanics_forces_",
    "biomechanics_loading_considerations",
]
FORCES_NON_REGION = ("biomechanics_forces_intro", "biomechanics_forces_tbi")


def wire_rank(section_type: str) -> int:
    """Where ``section_type`` sits in the (documented and inferred) order of the sections."""
    if section_type in NON_BIOMECHANICS_HEAD:
        return NON_BIOMECHANICS_HEAD.index(section_type)
    if section_type == "references":
        return 100
    for index, kind in enumerate(BIOMECHANICS_WIRE_ORDER):
        if section_type == kind:
            return 10 + index
    for index, kind in enumerate(BIOMECHANICS_WIRE_ORDER):
        region = section_type.removeprefix(kind)
        if kind.endswith("_") and section_type.startswith(kind) and region in BIOMECHANICS_REGIONS:
            return 10 + index
    raise AssertionError(f"undocumented section type {section_type!r}")


def report_for(profile: CaseProfile) -> dict[str, Any]:
    return build_structured_report(profile, report_date=REPORT_DATE)


def types_of(report: dict[str, Any]) -> list[str]:
    return [section["type"] for section in report["sections"]]


def section_of(report: dict[str, Any], section_type: str) -> dict[str, Any]:
    (found,) = [s for s in report["sections"] if s["type"] == section_type]
    return found


def with_regions(alleged: tuple[str, ...], forces: tuple[str, ...]) -> CaseProfile:
    return dataclasses.replace(DEMO_PROFILE, alleged_regions=alleged, force_regions=forces)


def region_sections(report: dict[str, Any], prefix: str) -> list[str]:
    return [
        t.removeprefix(prefix)
        for t in types_of(report)
        if t.startswith(prefix) and t not in FORCES_NON_REGION
    ]


def assert_in_wire_order(report: dict[str, Any]) -> None:
    ranks = [wire_rank(t) for t in types_of(report)]
    assert ranks == sorted(ranks), types_of(report)


@pytest.mark.parametrize("case_id", ["case_abc123", "case_ao", "case_x"])
def test_accident_only_case_has_no_biomechanics_section(case_id: str) -> None:
    report = report_for(profile_for_case(case_id, include_biomechanics=False))
    assert not [t for t in types_of(report) if t.startswith("biomechanics")]
    assert types_of(report) == [*NON_BIOMECHANICS_HEAD, "references"]


def test_biomechanics_sections_follow_the_documented_wire_order() -> None:
    profile = with_regions(
        ("cervical_spine", "lumbar_spine", "knee", "tbi"), ("cervical_spine", "knee")
    )
    report = report_for(profile)
    assert_in_wire_order(report)
    assert types_of(report) == [
        *NON_BIOMECHANICS_HEAD,
        "biomechanics_alleged_injuries_and_health",
        "biomechanics_injury_mechanisms_intro",
        "biomechanics_injury_mechanism_cervical_spine",
        "biomechanics_injury_mechanism_lumbar_spine",
        "biomechanics_injury_mechanism_knee",
        "biomechanics_injury_mechanism_tbi",
        "biomechanics_occupant_motion",
        "biomechanics_occupant_motion_analysis",
        "biomechanics_forces_intro",
        "biomechanics_forces_tbi",
        "biomechanics_forces_cervical_spine",
        "biomechanics_forces_knee",
        "biomechanics_loading_considerations",
        "references",
    ]


def test_one_injury_mechanism_section_per_alleged_region_titled_after_it() -> None:
    profile = with_regions(("thoracic_spine", "shoulder", "foot_ankle"), ("shoulder",))
    report = report_for(profile)
    assert region_sections(report, "biomechanics_injury_mechanism_") == list(
        profile.alleged_regions
    )
    for region in profile.alleged_regions:
        title = section_of(report, f"biomechanics_injury_mechanism_{region}")["title"]
        assert title == REGION_TITLES[region]


def test_forces_sections_only_for_force_regions() -> None:
    profile = with_regions(("cervical_spine", "hip", "knee"), ("hip",))
    assert region_sections(report_for(profile), "biomechanics_forces_") == ["hip"]


@pytest.mark.parametrize(
    ("alleged", "forces", "has_forces_tbi", "has_intro"),
    [
        (("cervical_spine", "tbi"), ("cervical_spine",), True, True),
        (("tbi",), (), True, True),
        (("cervical_spine",), ("cervical_spine",), False, True),
        (("knee",), (), False, False),
    ],
)
def test_forces_tbi_iff_tbi_alleged_and_forces_intro_iff_any_forces(
    alleged: tuple[str, ...], forces: tuple[str, ...], has_forces_tbi: bool, has_intro: bool
) -> None:
    types = types_of(report_for(with_regions(alleged, forces)))
    assert ("biomechanics_forces_tbi" in types) is has_forces_tbi
    assert ("biomechanics_forces_intro" in types) is has_intro
    if has_forces_tbi:
        assert "data" not in section_of(
            report_for(with_regions(alleged, forces)), "biomechanics_forces_tbi"
        )


def test_forces_intro_title_names_the_plaintiff() -> None:
    intro = section_of(report_for(DEMO_PROFILE), "biomechanics_forces_intro")
    assert intro["title"] == "Forces Exerted On Jane Doe"


def test_forces_tables_of_a_region_only_hold_that_region() -> None:
    profile = with_regions(
        ("cervical_spine", "lumbar_spine", "hip"), ("cervical_spine", "lumbar_spine", "hip")
    )
    report = report_for(profile)
    for region in profile.force_regions:
        tables = section_of(report, f"biomechanics_forces_{region}")["data"]["forces_tables"]
        assert tables and {table["region"] for table in tables} == {region}
        assert all(REGION_TITLES[region] in table["title"] for table in tables)


def test_tables_have_the_inferred_title_columns_rows_shape() -> None:
    report = report_for(DEMO_PROFILE)
    tables = [
        table
        for section in report["sections"]
        for key in ("motion_tables", "forces_tables")
        for table in section.get("data", {}).get(key, [])
    ]
    assert len(tables) == 2 + 2 * len(DEMO_PROFILE.force_regions)
    for table in tables:
        assert isinstance(table["title"], str) and table["rows"]
        assert all(isinstance(column, str) for column in table["columns"])
        assert all(len(row) == len(table["columns"]) for row in table["rows"])
        assert all(isinstance(cell, str | int | float) for row in table["rows"] for cell in row)


def test_only_documented_sections_carry_data() -> None:
    carriers = {
        s["type"]: sorted(s["data"]) for s in report_for(DEMO_PROFILE)["sections"] if "data" in s
    }
    assert carriers == {
        "biomechanics_occupant_motion_analysis": ["motion_tables"],
        "biomechanics_forces_cervical_spine": ["forces_tables"],
        "biomechanics_forces_lumbar_spine": ["forces_tables"],
        "biomechanics_loading_considerations": ["charts"],
    }


def test_loading_considerations_carry_one_adl_chart_per_force_region() -> None:
    charts = section_of(report_for(DEMO_PROFILE), "biomechanics_loading_considerations")["data"][
        "charts"
    ]
    assert [chart["chartType"] for chart in charts] == [
        "CERVICAL_COMPRESSION",
        "LUMBAR_COMPRESSION",
    ]
    cervical = charts[0]
    assert cervical["title"] == "Cervical Compression — Crash vs ADL"
    assert cervical["labels"] == ["Walking", "Stair climbing", "Sneeze", "Subject crash"]
    assert cervical["ylabel"] == "Cervical Spine Loading (lbf)"
    (dataset,) = cervical["datasets"]
    assert dataset["label"] == "Force (lbf)" and len(dataset["data"]) == len(cervical["labels"])


def test_loading_considerations_without_force_regions_chart_the_acceleration() -> None:
    report = report_for(with_regions(("tbi",), ()))
    (chart,) = section_of(report, "biomechanics_loading_considerations")["data"]["charts"]
    assert chart["chartType"] == "PEAK_ACCELERATION"
    assert chart["datasets"][0]["data"][-1] == DEMO_PROFILE.peak_acceleration_g


def test_crash_load_grows_with_delta_v_and_stays_below_tolerance_at_low_speed() -> None:
    def cervical_row(delta_v: float) -> list[Any]:
        profile = dataclasses.replace(DEMO_PROFILE, delta_v_mph=delta_v)
        section = section_of(report_for(profile), "biomechanics_forces_cervical_spine")
        row: list[Any] = section["data"]["forces_tables"][0]["rows"][0]
        return row

    slow, fast = cervical_row(5.0), cervical_row(20.0)
    assert slow[1] < fast[1]
    assert slow[1] < slow[2]  # crash load below the injury tolerance
    adl = section_of(report_for(DEMO_PROFILE), "biomechanics_loading_considerations")
    values = adl["data"]["charts"][0]["datasets"][0]["data"]
    assert values[-1] > min(values[:-1])  # the crash exceeds some everyday activity


def test_same_profile_and_date_give_the_same_report() -> None:
    profile = profile_for_case("case_same", seed=7, include_biomechanics=True)
    first = json.dumps(report_for(profile), sort_keys=True)
    assert json.dumps(report_for(profile), sort_keys=True) == first


def test_the_demo_case_yields_cervical_and_lumbar_sections() -> None:
    types = types_of(report_for(DEMO_PROFILE))
    for region in ("cervical_spine", "lumbar_spine"):
        assert f"biomechanics_injury_mechanism_{region}" in types
        assert f"biomechanics_forces_{region}" in types


def test_header_reads_like_the_reference() -> None:
    header = section_of(report_for(DEMO_PROFILE), "header")
    assert (header["id"], header["title"]) == ("sec_header", "Report Header")
    assert header["markdown"].startswith(
        "April 15, 2026\n\nJane Smith, Esq.\nLaw Offices of Jane Smith\n\n**Case:** Doe v. Miller"
    )


def test_narratives_are_written_from_the_case_not_placeholder_text() -> None:
    for profile in (DEMO_PROFILE, profile_for_case("case_words", include_biomechanics=False)):
        report = report_for(profile)
        text = "\n".join(section["markdown"] for section in report["sections"]).lower()
        assert "lorem" not in text and "ipsum" not in text
        assert profile.caption in section_of(report, "header")["markdown"]
        assert f"{profile.delta_v_mph:.1f} mph" in text
        assert profile.plaintiff_vehicle.lower() in text
        assert section_of(report, "assignment")["markdown"].startswith(
            "Silent Witness was utilized to review"
        )
        opinions = section_of(report, "opinions")["markdown"]
        assert "**Accident Reconstruction**" in opinions and "\n1. " in opinions
        assert ("**Biomechanics**" in opinions) is profile.has_biomechanics
        assert section_of(report, "references")["markdown"].startswith("1. ")


def test_an_invalid_report_date_is_rejected() -> None:
    with pytest.raises(ValueError):
        build_structured_report(DEMO_PROFILE, report_date="15/04/2026")


@settings(max_examples=80)
@given(
    case_id=st.text(min_size=1, max_size=16),
    seed=st.integers(0, 2**16),
    include_biomechanics=st.none() | st.booleans(),
)
def test_every_case_gives_ordered_sections_with_unique_ids(
    case_id: str, seed: int, include_biomechanics: bool | None
) -> None:
    profile = profile_for_case(case_id, seed=seed, include_biomechanics=include_biomechanics)
    report = report_for(profile)
    assert report["schema_version"] == "1.0"
    assert schemas.errors(report, "structured-report") == []
    assert_in_wire_order(report)
    ids = [section["id"] for section in report["sections"]]
    assert len(ids) == len(set(ids))
    assert all(s["id"] == f"sec_{s['type']}" for s in report["sections"])
    assert region_sections(report, "biomechanics_injury_mechanism_") == list(
        profile.alleged_regions
    )
    assert region_sections(report, "biomechanics_forces_") == list(profile.force_regions)
    assert ("biomechanics_forces_tbi" in types_of(report)) is profile.has_tbi
    if profile.has_biomechanics:
        loading = section_of(report, "biomechanics_loading_considerations")
        assert loading["data"]["charts"]


@pytest.mark.parametrize("include_biomechanics", [True, False])
@pytest.mark.parametrize("case_id", ["case_abc123", "case_demo", "case_ü"])
def test_derived_reports_validate_against_the_structured_report_schema(
    case_id: str, include_biomechanics: bool
) -> None:
    profile = profile_for_case(case_id, include_biomechanics=include_biomechanics)
    assert schemas.errors(report_for(profile), "structured-report") == []
    assert schemas.errors(report_for(DEMO_PROFILE), "structured-report") == []
