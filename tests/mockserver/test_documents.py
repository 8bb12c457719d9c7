"""The PDF and DOCX documents, read back with poppler (pdftotext, pdftoppm) and python-docx."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from PIL import Image

from mockserver.content import png_writer
from mockserver.content.docx_writer import render_docx
from mockserver.content.model import DOCUMENT_TITLE, UNAVAILABLE_TEXT
from mockserver.content.pdf_writer import render_pdf
from mockserver.content.png_writer import render_chart_png
from mockserver.content.structured_report import build_structured_report
from mockserver.core.case_profile import DEMO_PROFILE, profile_for_case

from ..conftest import require_binary

REPORT_ID = "rpt_xyz789"
#: The seed's completed example (Get Report reference): one monolithic biomechanics section.
SEED_REPORT: dict[str, Any] = {
    "schema_version": "1.0",
    "sections": [
        {
            "id": "sec_header",
            "type": "header",
            "title": "Report Header",
            "markdown": "April 15, 2026\n\nJane Smith, Esq.\nLaw Offices of Jane Smith\n\n"
            "**Case:** Doe v. Miller",
        },
        {
            "id": "sec_assignment",
            "type": "assignment",
            "title": "Assignment",
            "markdown": "Silent Witness was utilized to review...",
        },
        {
            "id": "sec_opinions",
            "type": "opinions",
            "title": "Opinions",
            "markdown": "**Accident Reconstruction**\n\n1. The Honda Civic experienced...",
        },
        {
            "id": "sec_biomechanics",
            "type": "biomechanics",
            "title": "Biomechanical Analysis",
            "markdown": "### Alleged Injuries & Health Considerations\n\n...",
            "data": {
                "charts": [
                    {
                        "chartType": "CERVICAL_COMPRESSION",
                        "title": "Cervical Compression — Crash vs ADL",
                        "labels": ["Walking", "Stair climbing", "Sneeze", "Subject crash"],
                        "datasets": [{"label": "Force (lbf)", "data": [22, 48, 75, 215]}],
                        "ylabel": "Cervical Spine Loading (lbf)",
                    }
                ],
                "motion_tables": [],
                "forces_tables": [],
            },
        },
    ],
}
ODD_REPORT: dict[str, Any] = {
    "schema_version": "1.0",
    "future_field": {"x": 1},
    "sections": [
        {
            "id": "sec_opinions",
            "type": "opinions",
            "title": "Ünïcödé — “quotes” ✓ 漢字",
            "markdown": "# Top\n\n1) ∑ item\n   continued\n- **unclosed bold\n\n---\n\n| a | b |\n"
            "|---|---|\n| 1 | 2 |\n\n*emphasis* and __strong__ and `code`",
            "extra": True,
            "data": {
                "forces_tables": [
                    {"rows": "not a list"},
                    {"title": "Row objects", "rows": [{"phase": "load", "peak_g": 4.1}]},
                    [1, 2, 3],
                    {"title": "Ragged", "columns": ["a"], "rows": [[1, 2, 3], [], "x"]},
                ],
                "motion_tables": [{"rows": []}],
                "charts": [
                    {"title": "Broken chart", "labels": "no", "datasets": [{"data": ["a"]}]}
                ],
                "unknown": [1],
            },
        },
        {"id": "sec_bare", "type": "references", "title": "", "markdown": ""},
    ],
}


def demo_report() -> dict[str, Any]:
    return build_structured_report(DEMO_PROFILE, report_date="2026-04-15")


def accident_only_report() -> dict[str, Any]:
    profile = profile_for_case("case_accident_only", seed=3, include_biomechanics=False)
    return build_structured_report(profile, report_date="2026-04-15")


REPORTS = {"demo": demo_report(), "accident-only": accident_only_report()}


def require(tool: str) -> str:
    return require_binary(tool, package="poppler-utils")


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, whitespace collapsed, as pdftotext reads it."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        [require("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [re.sub(r"\s+", " ", page) for page in text.split("\f")]


def body_titles(report: dict[str, Any]) -> list[str]:
    """The titles of every section but the header, which is the title page."""
    return [s["title"] for s in report["sections"] if s["type"] != "header"]


def chart_titles(report: dict[str, Any]) -> list[str]:
    return [
        chart["title"] for s in report["sections"] for chart in s.get("data", {}).get("charts", [])
    ]


def table_count(report: dict[str, Any]) -> int:
    return sum(
        len(s.get("data", {}).get(key, []))
        for s in report["sections"]
        for key in ("motion_tables", "forces_tables")
    )


def latin1_view(text: str) -> str:
    """``text`` as the Helvetica PDF spells it (typographic dashes transliterated)."""
    return text.replace("—", "-").replace("–", "-")


@pytest.mark.parametrize("name", list(REPORTS))
def test_pdf_shows_every_section_title_in_order(name: str, tmp_path: Path) -> None:
    report = REPORTS[name]
    text = " ".join(pdf_pages(render_pdf(report, report_id=REPORT_ID), tmp_path))
    position = 0
    for title in body_titles(report):
        found = text.find(latin1_view(title), position)
        assert found >= 0, f"{title!r} missing or out of order"
        position = found + len(title)


def test_pdf_title_page_shows_title_header_and_report_id(tmp_path: Path) -> None:
    first_page = pdf_pages(render_pdf(demo_report(), report_id=REPORT_ID), tmp_path)[0]
    for expected in (DOCUMENT_TITLE, "April 15, 2026", "Jane Smith, Esq.", "Case: Doe v. Miller"):
        assert expected in first_page
    assert REPORT_ID in first_page


def test_pdf_captions_each_chart_and_accident_only_has_no_loading_section(tmp_path: Path) -> None:
    demo = " ".join(pdf_pages(render_pdf(demo_report(), report_id=REPORT_ID), tmp_path))
    for number, title in enumerate(chart_titles(demo_report()), start=1):
        assert f"Figure {number}. {latin1_view(title)}" in demo
    accident_only = " ".join(
        pdf_pages(render_pdf(accident_only_report(), report_id=REPORT_ID), tmp_path)
    )
    assert "Loading Considerations" not in accident_only and "Figure 1." not in accident_only


def test_the_page_with_the_chart_renders_to_a_png_showing_the_bars(tmp_path: Path) -> None:
    pdf = render_pdf(demo_report(), report_id=REPORT_ID)
    pages = pdf_pages(pdf, tmp_path)
    page = next(number for number, text in enumerate(pages, start=1) if "Figure 1." in text)
    command = [require("pdftoppm"), "-png", "-r", "50", "-f", str(page), "-l", str(page)]
    subprocess.run([*command, str(tmp_path / "report.pdf"), str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page-*.png")
    pixels = Image.open(png).convert("RGB").tobytes()
    bar_blue = sum(  # CHART_COLOURS[0], #2563eb
        1
        for r, g, b in zip(pixels[0::3], pixels[1::3], pixels[2::3], strict=True)
        if b > 180 and r < 90 and 70 < g < 130
    )
    assert bar_blue > 100


def test_docx_has_every_section_title_as_a_heading_in_order_with_charts_and_tables() -> None:
    for report in REPORTS.values():
        document = docx.Document(io.BytesIO(render_docx(report, report_id=REPORT_ID)))
        headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
        assert headings == body_titles(report)
        assert len(document.inline_shapes) == len(chart_titles(report))
        # each table of the report, and under each chart a table of its values
        assert len(document.tables) == table_count(report) + len(chart_titles(report))
        captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
        for number, title in enumerate(chart_titles(report), start=1):
            assert f"Figure {number}. {title}" in captions
    assert table_count(demo_report()) == 6 and len(chart_titles(demo_report())) == 2


def test_docx_title_page_and_table_cells() -> None:
    document = docx.Document(io.BytesIO(render_docx(demo_report(), report_id=REPORT_ID)))
    assert document.paragraphs[0].text == DOCUMENT_TITLE
    assert document.paragraphs[0].style.name == "Title"
    texts = [p.text for p in document.paragraphs]
    assert "Case: Doe v. Miller" in "\n".join(texts) and f"Report ID: {REPORT_ID}" in texts
    first_table = document.tables[0]
    assert [cell.text for cell in first_table.rows[0].cells] == ["Parameter", "Value", "Unit"]
    assert [cell.text for cell in first_table.rows[1].cells] == ["Vehicle delta-V", "9.4", "mph"]


@pytest.mark.parametrize(
    "report",
    [SEED_REPORT, ODD_REPORT, None, {"schema_version": "1.0", "sections": []}, {}],
    ids=["seed-monolithic", "odd-shapes-and-unicode", "null", "no-sections", "no-keys"],
)
def test_any_contract_valid_report_renders_to_both_formats(report: Any, tmp_path: Path) -> None:
    pdf = render_pdf(report, report_id=REPORT_ID)
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]
    document = docx.Document(io.BytesIO(render_docx(report, report_id=REPORT_ID)))
    assert document.paragraphs[0].text == DOCUMENT_TITLE
    text = " ".join(pdf_pages(pdf, tmp_path))
    if not report or not report.get("sections"):
        assert UNAVAILABLE_TEXT in text
        assert UNAVAILABLE_TEXT in [p.text for p in document.paragraphs]


def test_the_seed_report_draws_its_chart_under_its_biomechanics_heading(tmp_path: Path) -> None:
    text = " ".join(pdf_pages(render_pdf(SEED_REPORT, report_id=REPORT_ID), tmp_path))
    assert "Biomechanical Analysis" in text
    assert "Figure 1. Cervical Compression - Crash vs ADL" in text
    document = docx.Document(io.BytesIO(render_docx(SEED_REPORT, report_id=REPORT_ID)))
    assert len(document.inline_shapes) == 1
    (values,) = document.tables  # the chart's values, under it
    assert [[cell.text for cell in row.cells] for row in values.rows] == [
        ["", "Walking", "Stair climbing", "Sneeze", "Subject crash"],
        ["Force (lbf)", "22", "48", "75", "215"],
    ]


def test_odd_tables_become_real_tables_or_text() -> None:
    document = docx.Document(io.BytesIO(render_docx(ODD_REPORT, report_id=REPORT_ID)))
    cells = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert ["Phase", "Peak g"] in cells and ["load", "4.1"] in cells
    assert ["1", "2", "3"] in cells  # a ragged row widens its table
    assert ["Rows", "not a list"] in cells  # an object without a list of rows: name/value pairs
    assert ["| a | b |"] not in cells and ["1", "2"] in cells  # a markdown pipe table


def test_unicode_text_uses_dejavu_when_installed(tmp_path: Path) -> None:
    if png_writer.dejavu_font_path() is None:
        pytest.skip("fonts-dejavu-core is not installed: the PDF shows '?' instead")
    text = " ".join(pdf_pages(render_pdf(ODD_REPORT, report_id=REPORT_ID), tmp_path))
    assert "Ünïcödé — “quotes” ✓" in text


def test_without_dejavu_everything_still_renders_in_latin1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(png_writer, "DEJAVU_DIRECTORY", tmp_path / "no-fonts")
    png_writer._font.cache_clear()
    try:
        text = " ".join(pdf_pages(render_pdf(ODD_REPORT, report_id=REPORT_ID), tmp_path))
        assert 'Ünïcödé - "quotes" ?' in text
        assert render_chart_png(SEED_REPORT["sections"][3]["data"]["charts"][0])[:4] == b"\x89PNG"
    finally:
        png_writer._font.cache_clear()


@pytest.mark.parametrize("render", [render_pdf, render_docx], ids=["pdf", "docx"])
def test_the_same_report_gives_byte_identical_documents(render: Any) -> None:
    assert render(demo_report(), report_id=REPORT_ID) == render(demo_report(), report_id=REPORT_ID)
    assert render(None, report_id="r") == render(None, report_id="r")


def test_docx_zip_entries_carry_a_fixed_timestamp() -> None:
    package = zipfile.ZipFile(io.BytesIO(render_docx(demo_report(), report_id=REPORT_ID)))
    assert {entry.date_time for entry in package.infolist()} == {(2000, 1, 1, 0, 0, 0)}


def test_chart_png_is_deterministic_and_sized() -> None:
    chart = SEED_REPORT["sections"][3]["data"]["charts"][0]
    png = render_chart_png(chart, width_px=640, height_px=360)
    assert png == render_chart_png(chart, width_px=640, height_px=360)
    assert Image.open(io.BytesIO(png)).size == (640, 360)
