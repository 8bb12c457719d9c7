"""The structured report and the documents rendered from it, read back with poppler and python-docx."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas
from mockserver.case_profile import BIOMECHANICS_REGIONS, DEMO_PROFILE, profile_for_case
from mockserver.content.pdf_writer import render_docx, render_pdf
from mockserver.content.structured_report import build_structured_report

BIOMECHANICS_ORDER = [
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


def rank(section_type: str) -> int:
    """Position of a section type in the documented wire order."""
    if not section_type.startswith("biomechanics_"):
        return -1 if section_type != "references" else 99
    for index, prefix in enumerate(BIOMECHANICS_ORDER):
        if section_type == prefix or (
            prefix.endswith("_")
            and section_type.startswith(prefix)
            and section_type not in BIOMECHANICS_ORDER
        ):
            return index
    raise AssertionError(section_type)


def types_of(report: dict[str, Any]) -> list[str]:
    return [section["type"] for section in report["sections"]]


def demo_report() -> dict[str, Any]:
    return build_structured_report(DEMO_PROFILE, report_date="2025-04-15")


def accident_only_report() -> dict[str, Any]:
    return build_structured_report(
        profile_for_case("case_ao", include_biomechanics=False), report_date="2025-04-15"
    )


@settings(max_examples=60)
@given(
    case_id=st.text(min_size=1, max_size=12),
    seed=st.integers(0, 1000),
    biomechanics=st.none() | st.booleans(),
)
def test_every_case_yields_a_valid_report_in_documented_order(
    case_id: str, seed: int, biomechanics: bool | None
) -> None:
    profile = profile_for_case(case_id, seed=seed, include_biomechanics=biomechanics)
    report = build_structured_report(profile, report_date="2025-04-15")
    assert schemas.errors(report, "structured-report") == []
    ranks = [rank(t) for t in types_of(report)]
    assert ranks == sorted(ranks)
    assert len(set(s["id"] for s in report["sections"])) == len(report["sections"])
    assert types_of(report)[0] == "header" and types_of(report)[-1] == "references"


@settings(max_examples=60)
@given(case_id=st.text(min_size=1, max_size=12), seed=st.integers(0, 1000))
def test_biomechanics_sections_follow_the_case(case_id: str, seed: int) -> None:
    profile = profile_for_case(case_id, seed=seed, include_biomechanics=True)
    types = types_of(build_structured_report(profile, report_date="2025-04-15"))
    mechanisms = [
        t.removeprefix("biomechanics_injury_mechanism_")
        for t in types
        if t.startswith("biomechanics_injury_mechanism_")
    ]
    forces = [
        t.removeprefix("biomechanics_forces_")
        for t in types
        if t.startswith("biomechanics_forces_")
        and t not in ("biomechanics_forces_intro", "biomechanics_forces_tbi")
    ]
    assert mechanisms == list(profile.alleged_regions)
    assert forces == list(profile.force_regions)
    assert ("biomechanics_forces_tbi" in types) is profile.has_tbi
    assert set(mechanisms) <= set(BIOMECHANICS_REGIONS)


def test_accident_only_reports_have_no_biomechanics_section() -> None:
    assert not [t for t in types_of(accident_only_report()) if t.startswith("biomechanics")]


def test_forces_tables_of_a_region_only_hold_that_region() -> None:
    for section in demo_report()["sections"]:
        if section["type"].startswith("biomechanics_forces_") and "data" in section:
            region = section["type"].removeprefix("biomechanics_forces_")
            assert {table["region"] for table in section["data"]["forces_tables"]} == {region}


def test_loading_considerations_carry_one_chart_per_force_region() -> None:
    loading = next(
        s for s in demo_report()["sections"] if s["type"] == "biomechanics_loading_considerations"
    )
    assert [c["chartType"] for c in loading["data"]["charts"]] == [
        "CERVICAL_COMPRESSION",
        "LUMBAR_COMPRESSION",
    ]


def test_the_demo_case_alleges_cervical_and_lumbar_injuries() -> None:
    types = types_of(demo_report())
    assert "biomechanics_injury_mechanism_cervical_spine" in types
    assert "biomechanics_injury_mechanism_lumbar_spine" in types


def test_header_reads_like_the_reference() -> None:
    header = demo_report()["sections"][0]["markdown"]
    assert header.startswith("April 15, 2025") and "**Case:** Doe v. Miller" in header


def test_narratives_are_written_from_the_case_not_placeholder_text() -> None:
    text = " ".join(s["markdown"] for s in demo_report()["sections"]).lower()
    assert "lorem" not in text and "9.4 mph" in text and "2019 honda civic" in text


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    "report", [demo_report(), accident_only_report()], ids=["demo", "accident-only"]
)
def test_pdf_shows_every_section_title_in_order(report: dict[str, Any], tmp_path: Path) -> None:
    text = re.sub(r"\s+", " ", pdf_text(render_pdf(report, report_id="rpt_1"), tmp_path))
    position = 0
    for section in report["sections"][1:]:
        title = section["title"].replace("—", "-")
        found = text.find(title, position)
        assert found >= 0, f"{title!r} missing or out of order"
        position = found


def test_pdf_draws_the_loading_chart_and_accident_only_has_none(tmp_path: Path) -> None:
    demo = pdf_text(render_pdf(demo_report(), report_id="rpt_1"), tmp_path)
    assert (
        "Cervical Compression - Crash vs ADL" in demo
    )  # the chart's caption; the chart is an image
    assert "Loading Considerations" not in pdf_text(
        render_pdf(accident_only_report(), report_id="rpt_1"), tmp_path
    )


def test_pdf_pages_render_to_images(tmp_path: Path) -> None:
    (tmp_path / "r.pdf").write_bytes(render_pdf(demo_report(), report_id="rpt_1"))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "30", str(tmp_path / "r.pdf"), str(tmp_path / "page")],
        check=True,
    )
    assert len(list(tmp_path.glob("page-*.png"))) >= 2


def test_docx_has_every_section_as_a_heading_in_order_and_the_tables() -> None:
    document = docx.Document(io.BytesIO(render_docx(demo_report(), report_id="rpt_1")))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [s["title"] for s in demo_report()["sections"][1:]]
    assert len(document.tables) >= 3  # motion table, two forces tables, chart data


@pytest.mark.parametrize(
    "report",
    [
        None,
        {"schema_version": "1.0", "sections": []},
        {
            "schema_version": "1.0",
            "sections": [
                {
                    "id": "sec_biomechanics",
                    "type": "biomechanics",
                    "title": "Biomechanical Analysis",
                    "markdown": "### A\n\n**b**",
                    "data": {
                        "charts": [
                            {
                                "chartType": "X",
                                "title": "T",
                                "labels": ["a"],
                                "datasets": [{"label": "l", "data": [1]}],
                                "ylabel": "y",
                            }
                        ],
                        "motion_tables": [],
                        "forces_tables": [],
                    },
                }
            ],
        },
        {
            "schema_version": "1.0",
            "sections": [
                {
                    "id": "s",
                    "type": "opinions",
                    "title": "Ünïcödé — “quotes” ✓",
                    "markdown": "1. ∑ item\n- bullet",
                    "data": {"forces_tables": [{"rows": "not a list"}], "extra": 1},
                }
            ],
        },
    ],
    ids=["null", "no-sections", "monolithic", "odd-text-and-shapes"],
)
def test_any_valid_report_renders_to_both_formats(report: dict[str, Any] | None) -> None:
    assert render_pdf(report, report_id="rpt_1").startswith(b"%PDF-")
    assert render_docx(report, report_id="rpt_1")[:2] == b"PK"


def test_documents_are_byte_identical_for_the_same_report() -> None:
    assert render_pdf(demo_report(), report_id="r") == render_pdf(demo_report(), report_id="r")
    assert render_docx(demo_report(), report_id="r") == render_docx(demo_report(), report_id="r")
