"""The PDF and DOCX behind the signed URLs, rendered from the structured report.

A title page from the header section, then every section with its heading, its markdown
(``###`` headings, ``**bold**``, numbered and bulleted lists, paragraphs), its charts drawn as
bar charts and its tables as tables. Any valid structured report renders, including the seed's
monolithic ``biomechanics`` section and a null report. Output is deterministic: the same
report gives the same bytes.

Pure: returns bytes, touches no files.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import docx
from docx.shared import Pt
from fpdf import FPDF

__all__ = ["DOCUMENT_TITLE", "render_docx", "render_pdf"]

DOCUMENT_TITLE = "Expert Accident Reconstruction Report"
_FIXED_DATE = datetime(2000, 1, 1, tzinfo=UTC)
_UNAVAILABLE = "The structured content of this report is not available."
_LIST_ITEM = re.compile(r"^(\d+\.|[-*])\s+(.*)$")
_ITALIC = re.compile(r"(?<!\*)\*(?!\*)([^*]+)\*(?!\*)")
# fpdf2's core fonts are Latin-1: map the typographic characters the narratives use.
_LATIN1 = str.maketrans(
    {
        "\u2014": "-",  # em dash
        "\u2013": "-",  # en dash
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2022": "-",  # bullet
    }
)


def _latin1(text: str) -> str:
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _sections(report: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not isinstance(report, Mapping):
        return []
    return [s for s in report.get("sections") or [] if isinstance(s, Mapping)]


def _header_lines(sections: Sequence[Mapping[str, Any]]) -> list[str]:
    header = next((s for s in sections if s.get("type") == "header"), None)
    return [] if header is None else str(header.get("markdown", "")).splitlines()


def _charts(section: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = section.get("data")
    charts = data.get("charts") if isinstance(data, Mapping) else None
    return [c for c in charts or [] if isinstance(c, Mapping)]


def _tables(section: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = section.get("data")
    if not isinstance(data, Mapping):
        return []
    found = [*(data.get("motion_tables") or []), *(data.get("forces_tables") or [])]
    return [t for t in found if isinstance(t, Mapping) and isinstance(t.get("rows"), list)]


def _chart_values(chart: Mapping[str, Any]) -> list[tuple[str, float]]:
    labels = [str(label) for label in chart.get("labels") or []]
    datasets = chart.get("datasets") or []
    values = datasets[0].get("data", []) if datasets and isinstance(datasets[0], Mapping) else []
    return [
        (label, float(value))
        for label, value in zip(labels, values, strict=False)
        if isinstance(value, int | float)
    ]


# --- PDF ----------------------------------------------------------------------------------------


class _ReportPdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 8, f"Page {self.page_no()}", align="C")


def _pdf_markdown(pdf: FPDF, markdown: str) -> None:
    for line in markdown.splitlines():
        text = _latin1(line.strip())
        if not text:
            pdf.ln(2)
        elif text.startswith("#"):
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(0, 6, text.lstrip("#").strip(), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 10)
        else:
            item = _LIST_ITEM.match(text)
            prefix = (item.group(1) + " ") if item else ""
            body = item.group(2) if item else text
            pdf.set_x(pdf.l_margin + (6 if item else 0))
            body = _ITALIC.sub(r"__\1__", body)  # fpdf2 writes italics as __text__
            pdf.multi_cell(0, 5, prefix + body, markdown=True, new_x="LMARGIN", new_y="NEXT")


def _pdf_chart(pdf: FPDF, chart: Mapping[str, Any]) -> None:
    values = _chart_values(chart)
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(0, 6, _latin1(str(chart.get("title", "Chart"))), new_x="LMARGIN", new_y="NEXT")
    if not values:
        return
    if pdf.get_y() > pdf.h - 90:
        pdf.add_page()
    top, height, left, width = (
        pdf.get_y() + 2,
        50.0,
        pdf.l_margin + 14,
        pdf.w - pdf.l_margin - pdf.r_margin - 14,
    )
    peak = max(v for _, v in values) or 1.0
    bar = width / len(values)
    pdf.set_draw_color(80, 80, 80)
    pdf.line(left, top, left, top + height)
    pdf.line(left, top + height, left + width, top + height)
    pdf.set_font("Helvetica", "", 7)
    for index, (label, value) in enumerate(values):
        bar_height = height * value / peak
        x = left + index * bar + bar * 0.15
        last = index == len(values) - 1
        pdf.set_fill_color(200, 60, 50) if last else pdf.set_fill_color(70, 110, 170)
        pdf.rect(x, top + height - bar_height, bar * 0.7, bar_height, style="F")
        pdf.set_xy(x, top + height - bar_height - 4)
        pdf.cell(bar * 0.7, 4, f"{value:g}", align="C")
        pdf.set_xy(x - bar * 0.1, top + height + 1)
        pdf.cell(bar * 0.9, 4, _latin1(label)[:22], align="C")
    pdf.set_xy(pdf.l_margin, top + height / 2)
    pdf.cell(12, 4, _latin1(str(chart.get("ylabel", "")))[:14])
    pdf.set_y(top + height + 8)
    pdf.set_font("Helvetica", "", 10)


def _pdf_table(pdf: FPDF, table: Mapping[str, Any]) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(0, 6, _latin1(str(table.get("title", "Table"))), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    rows = [[_latin1(str(cell)) for cell in row] for row in table["rows"] if isinstance(row, list)]
    columns = [_latin1(str(c)) for c in table.get("columns") or []]
    with pdf.table(first_row_as_headings=bool(columns)) as grid:
        for row in ([columns] if columns else []) + rows:
            grid.row(row)
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)


def render_pdf(structured_report: Mapping[str, Any] | None, *, report_id: str) -> bytes:
    """The report as a PDF."""
    sections = _sections(structured_report)
    pdf = _ReportPdf(format="Letter")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title(DOCUMENT_TITLE)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.ln(40)
    pdf.multi_cell(0, 10, DOCUMENT_TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("Helvetica", "", 11)
    for line in _header_lines(sections):
        pdf.multi_cell(0, 6, _latin1(line), align="C", markdown=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(0, 5, f"Report {report_id}", align="C", new_x="LMARGIN", new_y="NEXT")
    if not sections:
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, _UNAVAILABLE, align="C", new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        if section.get("type") == "header":
            continue
        pdf.add_page() if pdf.get_y() > pdf.h - 60 else pdf.ln(6)
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, _latin1(str(section.get("title", ""))), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        _pdf_markdown(pdf, str(section.get("markdown", "")))
        for chart in _charts(section):
            _pdf_chart(pdf, chart)
        for table in _tables(section):
            _pdf_table(pdf, table)
    return bytes(pdf.output())


# --- DOCX ---------------------------------------------------------------------------------------


def _docx_runs(paragraph: Any, text: str) -> None:
    text = _ITALIC.sub(r"\1", text)
    for index, part in enumerate(text.split("**")):
        if part:
            paragraph.add_run(part).bold = index % 2 == 1


def _docx_markdown(document: Any, markdown: str) -> None:
    for line in markdown.splitlines():
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            document.add_heading(text.lstrip("#").strip(), level=3)
            continue
        item = _LIST_ITEM.match(text)
        if item:
            style = "List Number" if item.group(1)[0].isdigit() else "List Bullet"
            _docx_runs(document.add_paragraph(style=style), item.group(2))
        else:
            _docx_runs(document.add_paragraph(), text)


def _docx_chart(document: Any, chart: Mapping[str, Any]) -> None:
    document.add_paragraph(str(chart.get("title", "Chart")), style="Caption")
    values = _chart_values(chart)
    if not values:
        return
    grid = document.add_table(rows=1, cols=2)
    grid.style = "Table Grid"
    grid.rows[0].cells[0].text = "Label"
    grid.rows[0].cells[1].text = str(chart.get("ylabel", "Value"))
    for label, value in values:
        cells = grid.add_row().cells
        cells[0].text, cells[1].text = label, f"{value:g}"


def _docx_table(document: Any, table: Mapping[str, Any]) -> None:
    document.add_paragraph(str(table.get("title", "Table")), style="Caption")
    rows = [[str(cell) for cell in row] for row in table["rows"] if isinstance(row, list)]
    columns = [str(c) for c in table.get("columns") or []]
    width = max([len(columns), *(len(r) for r in rows)], default=1)
    grid = document.add_table(rows=0, cols=width)
    grid.style = "Table Grid"
    for row in ([columns] if columns else []) + rows:
        cells = grid.add_row().cells
        for index, cell in enumerate(row):
            cells[index].text = cell


def render_docx(structured_report: Mapping[str, Any] | None, *, report_id: str) -> bytes:
    """The report as a DOCX."""
    sections = _sections(structured_report)
    document = docx.Document()
    document.core_properties.created = _FIXED_DATE.replace(tzinfo=None)
    document.core_properties.modified = _FIXED_DATE.replace(tzinfo=None)
    document.core_properties.title = DOCUMENT_TITLE
    document.styles["Normal"].font.size = Pt(10.5)
    document.add_heading(DOCUMENT_TITLE, level=0)
    for line in _header_lines(sections):
        if line.strip():
            _docx_runs(document.add_paragraph(), line.strip())
    document.add_paragraph(f"Report {report_id}")
    if not sections:
        document.add_paragraph(_UNAVAILABLE)
    for section in sections:
        if section.get("type") == "header":
            continue
        document.add_heading(str(section.get("title", "")), level=1)
        _docx_markdown(document, str(section.get("markdown", "")))
        for chart in _charts(section):
            _docx_chart(document, chart)
        for table in _tables(section):
            _docx_table(document, table)
    buffer = io.BytesIO()
    document.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def _deterministic_zip(data: bytes) -> bytes:
    """The DOCX with fixed timestamps in its zip entries, so identical reports give identical bytes."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return target_buffer.getvalue()
