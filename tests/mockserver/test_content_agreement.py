"""The inspector page, the PDF and the DOCX of one report cannot disagree.

For reports derived from several case profiles, every table cell and every chart value is read
back from what a user gets: the inspector's HTML page (``/_mock/reports/<id>``), the PDF as
poppler's ``pdftotext`` reads it and the DOCX as python-docx reads it, all served by the mock.
Each must show the same formatted strings, in the same order (a 39.0 is not "39" in one and
"39.0" in another).
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
import pytest
from flask.testing import FlaskClient

from mockserver import create_app
from mockserver.content.structured_report import build_structured_report
from mockserver.core.case_profile import DEMO_PROFILE, CaseProfile, profile_for_case

from ..conftest import require_binary

PROFILES: dict[str, CaseProfile] = {
    "demo": DEMO_PROFILE,
    "accident-only": profile_for_case("case_accident_only", seed=3, include_biomechanics=False),
    # Whole numbers carried as floats (12.0 mph, 5.0 g): the "39" against "39.0" trap.
    "whole-floats": dataclasses.replace(DEMO_PROFILE, delta_v_mph=12.0, peak_acceleration_g=5.0),
    # No force region: the peak-acceleration chart instead of the ADL charts.
    "tbi-only": dataclasses.replace(DEMO_PROFILE, alleged_regions=("tbi",), force_regions=()),
    "every-region": dataclasses.replace(
        DEMO_PROFILE,
        collision_type="side-impact",
        force_regions=("cervical_spine", "thoracic_spine", "shoulder", "hip", "knee", "foot_ankle"),
    ),
    "seeded": profile_for_case("case_seeded_17", seed=17, include_biomechanics=True),
}
_NUMBER = re.compile(r"^[-+]?\d[\d,]*(\.\d+)?$")
_FOOTER = re.compile(r"^Expert Accident Reconstruction Report · \S+ · Page \d+$")


@dataclasses.dataclass
class Item:
    """A table (its rows of cell texts) or a chart (its bar values, in drawing order)."""

    kind: str
    rows: list[list[str]]


class _PageReader(HTMLParser):
    """The data tables and the SVG charts of an inspector report page, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Item] = []
        self._depth: list[str] = []  # what each open table/svg is
        self._cell: list[str] | None = None
        self._value: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "data-table" in classes:
            self.items.append(Item("table", []))
        elif tag == "svg" and "chart" in classes:
            self.items.append(Item("chart", [[]]))
        elif tag == "tr" and self.items and self.items[-1].kind == "table":
            self.items[-1].rows.append([])
        elif tag in ("td", "th") and self.items and self.items[-1].kind == "table":
            self._cell = []
        elif tag == "text" and "value" in classes:
            self._value = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.items[-1].rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "text" and self._value is not None:
            self.items[-1].rows[0].append("".join(self._value))
            self._value = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._value is not None:
            self._value.append(data)


def page_items(page: str) -> list[Item]:
    reader = _PageReader()
    reader.feed(page)
    return reader.items


def docx_items(document: Any, charted: list[bool]) -> list[Item]:
    """The DOCX tables; those under a chart become its values, series after series per label."""
    items = []
    for table, is_chart in zip(document.tables, charted, strict=True):
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if is_chart:  # heads are the labels, each further row a series: read by label
            values = [row[1:] for row in rows[1:]]
            by_label = [v for column in zip(*values, strict=True) for v in column if v]
            items.append(Item("chart", [by_label]))
        else:
            items.append(Item("table", rows))
    return items


def pdf_words(pdf: bytes, tmp_path: Path) -> list[str]:
    """The PDF's words in content-stream order, page footers left out."""
    tool = require_binary("pdftotext", package="poppler-utils")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        [tool, "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line.strip() for line in text.replace("\f", "\n").splitlines()]
    return [word for line in lines if not _FOOTER.match(line) for word in line.split()]


def latin1_view(text: str) -> str:
    """``text`` as the Helvetica PDF spells it (typographic dashes transliterated)."""
    return text.replace("—", "-").replace("–", "-")


def assert_pdf_shows(words: list[str], anchor: list[str], item: Item) -> None:
    """After the caption ``anchor``, the item's words in order, with exactly its numbers.

    Matching words one by one means a "39.0" never passes for a "39"; and between the first
    and the last matched word, the PDF holds no number the item does not show.
    """
    start = next((i for i in range(len(words)) if words[i : i + len(anchor)] == anchor), None)
    assert start is not None, f"caption {' '.join(anchor)!r} not in the PDF"
    expected = [w for row in item.rows for cell in row for w in latin1_view(cell).split()]
    position, matched = start + len(anchor), []
    for word in expected:
        found = words.index(word, position) if word in words[position:] else -1
        assert found >= 0, f"{word!r} of {' '.join(anchor)} not in the PDF after its caption"
        matched.append(found)
        position = found + 1
    region = words[matched[0] : matched[-1] + 1]
    assert [w for w in region if _NUMBER.match(w)] == [w for w in expected if _NUMBER.match(w)]


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    app = create_app({"TESTING": True, "TIME_SCALE": 0, "SIGNING_SECRET": "agreement"})
    with app.test_client() as client:
        yield client


def served(client: FlaskClient, report: dict[str, Any]) -> tuple[str, bytes, bytes]:
    """The inspector page, the PDF and the DOCX of a completed report with ``report``."""
    script = {
        "api_key": "sk-agreement",
        "case_id": "case_agreement",
        "timeline": [
            {"after_seconds": 0, "status": "pending", "progress": {"message": "Starting"}},
            {"after_seconds": 1, "status": "completed", "progress": {"message": "Done"}},
        ],
        "report": report,
    }
    created = client.post("/_mock/reports", json=script)
    assert created.status_code == 200, created.get_json()
    report_id = created.get_json()["data"]["id"]
    client.post("/_mock/clock/advance", json={"seconds": 1})
    page = client.get(f"/_mock/reports/{report_id}")
    assert page.status_code == 200
    documents = []
    for extension in ("pdf", "docx"):
        download = client.get(
            f"/_mock/reports/{report_id}/download/{extension}", follow_redirects=True
        )
        assert download.status_code == 200
        documents.append(download.data)
    return page.get_data(as_text=True), documents[0], documents[1]


@pytest.mark.parametrize("name", list(PROFILES))
def test_page_pdf_and_docx_show_the_same_cells_and_chart_values(
    client: FlaskClient, name: str, tmp_path: Path
) -> None:
    report = build_structured_report(PROFILES[name], report_date="2026-04-15")
    page, pdf, docx_bytes = served(client, report)
    on_page = page_items(page)
    charts = [s["data"]["charts"] for s in report["sections"] if "charts" in s.get("data", {})]
    table_entries = sum(
        len(s.get("data", {}).get(key, []))
        for s in report["sections"]
        for key in ("motion_tables", "forces_tables")
    )
    assert len(on_page) == table_entries + sum(len(c) for c in charts)
    assert all(item.rows and any(item.rows) for item in on_page)

    document = docx.Document(io.BytesIO(docx_bytes))
    in_docx = docx_items(document, [item.kind == "chart" for item in on_page])
    assert in_docx == on_page

    words = pdf_words(pdf, tmp_path)
    tables = figures = 0
    for item in on_page:
        if item.kind == "table":
            tables += 1
            assert_pdf_shows(words, ["Table", f"{tables}."], item)
        else:
            figures += 1
            assert_pdf_shows(words, ["Figure", f"{figures}."], item)


def test_the_whole_floats_profile_really_carries_whole_floats() -> None:
    """The trap is armed: the report's JSON carries 12.0, which must show as "12" everywhere."""
    report = build_structured_report(PROFILES["whole-floats"], report_date="2026-04-15")
    cells = [
        cell
        for section in report["sections"]
        for table in section.get("data", {}).get("motion_tables", [])
        for row in table["rows"]
        for cell in row
    ]
    assert any(isinstance(cell, float) and cell.is_integer() for cell in cells)
