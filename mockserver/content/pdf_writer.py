"""The PDF and DOCX behind the signed URLs, rendered from the structured report.

A title page from the ``header`` section, then every other section: its title as a heading, its
markdown (``#`` headings, ``**bold**``, ``*italic*``, lists, paragraphs with kept line breaks;
anything else as plain text), ``data.charts`` as embedded PNG bar charts captioned with their
titles, and ``data.motion_tables`` / ``data.forces_tables`` as tables when they have the
``{"title", "columns", "rows"}`` shape of :mod:`mockserver.content.structured_report` (else as JSON text).
Any contract-valid report renders, down to ``None`` (a note that the content is unavailable).

Deterministic: fixed creation dates and zip timestamps. PDF text is Helvetica with typographic
punctuation transliterated to Latin-1 (fast); a report with other characters switches to DejaVu
Sans when Debian's ``fonts-dejavu-core`` is installed (about twice as slow), else shows ``?``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm, Inches, Pt, RGBColor
from docx.text.paragraph import Paragraph
from fpdf import FPDF
from fpdf.fonts import FontFace

from mockserver.content.png_writer import dejavu_font_path, render_chart_png

__all__ = ["DOCUMENT_TITLE", "UNAVAILABLE_TEXT", "render_docx", "render_pdf"]

DOCUMENT_TITLE = "Expert Accident Reconstruction Report"
UNAVAILABLE_TEXT = "The structured content of this report is unavailable."
#: Every document claims this creation date, so renders never depend on the wall clock.
_FIXED_DATE = datetime(2000, 1, 1, tzinfo=UTC)
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
_AUTHOR = "Silent Witness (mock)"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ORDERED = re.compile(r"^\s*(\d{1,9})[.)]\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_STRONG = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
#: Typographic characters of the narratives -> their Latin-1 look-alikes (Helvetica's range).
_LATIN1 = str.maketrans(
    {"\u2026": "..."}
    | dict(zip("\u2014\u2013\u2018\u2019\u201c\u201d\u2022\u2212", "--''\"\"--", strict=True))
)


# --- the report, read tolerantly ---------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """One markdown block: ``heading`` (level), ``paragraph`` (its lines), ``ordered`` (start),
    ``bullet`` (items) or ``rule``."""

    kind: str
    lines: tuple[str, ...]
    number: int = 0


def _blocks(markdown: str) -> list[_Block]:
    blocks: list[_Block] = []
    for line in markdown.replace("\r\n", "\n").split("\n"):
        heading, ordered = _HEADING.match(line), _ORDERED.match(line)
        bullet = None if _RULE.match(line) else _BULLET.match(line)
        last = blocks[-1] if blocks else None
        if not line.strip():
            blocks.append(_Block("blank", ()))
        elif heading:
            blocks.append(_Block("heading", (heading.group(2),), len(heading.group(1))))
        elif _RULE.match(line):
            blocks.append(_Block("rule", ()))
        elif ordered or bullet:
            item = ordered or bullet
            assert item is not None
            kind, text = ("ordered" if ordered else "bullet"), item.group(item.lastindex or 0)
            if last is not None and last.kind == kind:
                blocks[-1] = _Block(kind, (*last.lines, text), last.number)
            else:
                blocks.append(_Block(kind, (text,), int(ordered.group(1)) if ordered else 0))
        elif last is not None and last.kind in ("ordered", "bullet") and line[:1] in " \t":
            blocks[-1] = _Block(
                last.kind, (*last.lines[:-1], f"{last.lines[-1]} {line.strip()}"), last.number
            )
        elif last is not None and last.kind == "paragraph":
            blocks[-1] = _Block("paragraph", (*last.lines, line.strip()))
        else:
            blocks.append(_Block("paragraph", (line.strip(),)))
    return [block for block in blocks if block.kind != "blank"]


def _spans(text: str) -> list[tuple[str, str]]:
    """``text`` as (piece, style) runs; style is ``""``, ``"B"`` or ``"I"``."""
    spans: list[tuple[str, str]] = []
    for strong_split, piece in enumerate(_STRONG.split(text)):
        if piece is None:
            continue
        if strong_split % 3:  # a captured group of _STRONG: bold text
            spans.append((piece, "B"))
            continue
        for italic_split, part in enumerate(_EMPHASIS.split(piece)):
            if part:
                spans.append((part, "I" if italic_split % 2 else ""))
    return [span for span in spans if span[0]]


def _is_latin1(text: str) -> bool:
    return all(ord(character) < 256 for character in text)


def _sections(report: object) -> list[Mapping[str, Any]]:
    raw = report.get("sections") if isinstance(report, Mapping) else None
    return [s for s in raw if isinstance(s, Mapping)] if isinstance(raw, list) else []


def _text(value: object, fallback: str = "") -> str:
    return value if isinstance(value, str) else fallback


def _title(section: Mapping[str, Any]) -> str:
    return _text(section.get("title")) or _text(section.get("type")) or "Untitled section"


def _data_list(section: Mapping[str, Any], key: str) -> list[object]:
    data = section.get("data")
    value = data.get(key) if isinstance(data, Mapping) else None
    return list(value) if isinstance(value, list) else []


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # 39.0 -> "39"
    if isinstance(value, str | int | float | bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _grid(table: object) -> tuple[str, list[list[str]], bool] | None:
    """A table in the inferred shape (rows of lists or objects) as (title, lines, has_heads)."""
    if not isinstance(table, Mapping) or not isinstance(table.get("rows"), list):
        return None
    declared = table.get("columns")
    columns = [_cell(column) for column in declared] if isinstance(declared, list) else []
    if not columns:
        for row in table["rows"]:
            if isinstance(row, Mapping):
                columns.extend(str(key) for key in row if str(key) not in columns)
    rows: list[list[str]] = []
    for row in table["rows"]:
        if isinstance(row, Mapping):
            rows.append([_cell(row.get(column)) for column in columns])
        else:
            rows.append([_cell(cell) for cell in row] if isinstance(row, list) else [_cell(row)])
    width = max([len(columns), *(len(row) for row in rows)], default=0)
    if width == 0:
        return None
    lines = ([columns] if columns else []) + rows
    return (
        _cell(table.get("title")),
        [line + [""] * (width - len(line)) for line in lines],
        bool(columns),
    )


def _tables(section: Mapping[str, Any]) -> list[object]:
    return _data_list(section, "motion_tables") + _data_list(section, "forces_tables")


def _charts(section: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [chart for chart in _data_list(section, "charts") if isinstance(chart, Mapping)]


def _split_header(report: object) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]]]:
    """The first ``header`` section (the title page) and every other section."""
    sections = _sections(report)
    header = next((s for s in sections if s.get("type") == "header"), None)
    return header, [s for s in sections if s is not header]


# --- PDF -------------------------------------------------------------------------------------


class _ReportPdf(FPDF):
    """US Letter; DejaVu Sans if ``unicode_text`` and installed; the report id in the footer."""

    def __init__(self, report_id: str, *, unicode_text: bool) -> None:
        super().__init__(format="Letter", unit="mm")
        self.report_id = report_id
        self.text_family = "Helvetica"
        paths = {style: dejavu_font_path(style) for style in ("", "B", "I")}
        if unicode_text and all(paths.values()):
            for style, path in paths.items():
                self.add_font("DejaVu", style, str(path))
            self.text_family = "DejaVu"
        self.set_margins(22, 20, 22)
        self.set_auto_page_break(auto=True, margin=20)

    def plain(self, text: str) -> str:
        """``text`` as the current font can show it."""
        if self.text_family == "DejaVu":
            return text
        return "".join(c if ord(c) < 256 else "?" for c in text.translate(_LATIN1))

    def use(self, style: str = "", size: float = 10.5, grey: int = 30) -> None:
        self.set_font(self.text_family, style, size)
        self.set_text_color(grey)

    def footer(self) -> None:
        if self.page_no() > 1:
            self.set_y(-14)
            self.use("", 8, 120)
            footer = f"{DOCUMENT_TITLE} · {self.report_id} · Page {self.page_no()}"
            self.cell(0, 6, self.plain(footer), align="C")


def _pdf_runs(pdf: _ReportPdf, text: str, height: float, size: float) -> None:
    for piece, style in _spans(text):
        pdf.use(style, size)
        pdf.write(height, pdf.plain(piece))
    pdf.use("", size)


def _pdf_markdown(pdf: _ReportPdf, markdown: str, size: float = 10.5) -> None:
    line_height = size * 0.5
    base = pdf.l_margin
    for block in _blocks(markdown):
        pdf.set_x(base)
        if block.kind == "heading":
            pdf.ln(1.5)
            pdf.use("B", 12 if block.number <= 3 else 11, 40)
            pdf.multi_cell(0, 6, pdf.plain(block.lines[0]), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif block.kind == "rule":
            pdf.set_draw_color(200, 200, 200)
            pdf.line(base, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
            pdf.ln(5)
        elif block.kind == "paragraph":
            for line in block.lines:
                _pdf_runs(pdf, line, line_height, size)
                pdf.ln(line_height)
            pdf.ln(2)
        else:
            for number, item in enumerate(block.lines, start=block.number):
                marker = f"{number}." if block.kind == "ordered" else ""
                pdf.set_left_margin(base + 8)
                pdf.set_x(base + 1)
                pdf.use("", size)
                if not marker:  # a drawn bullet: Helvetica has no U+2022
                    pdf.set_fill_color(60)
                    pdf.ellipse(base + 2, pdf.get_y() + line_height / 2 - 0.7, 1.4, 1.4, style="F")
                pdf.cell(7, line_height, marker)
                _pdf_runs(pdf, item, line_height, size)
                pdf.ln(line_height + 0.8)
                pdf.set_left_margin(base)
            pdf.ln(1.5)


def _pdf_caption(pdf: _ReportPdf, text: str) -> None:
    pdf.use("I", 9, 90)
    pdf.multi_cell(0, 5, pdf.plain(text), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _pdf_chart(pdf: _ReportPdf, chart: Mapping[str, Any], number: int) -> None:
    width = pdf.epw
    height = width * 500 / 900
    if pdf.get_y() + height + 12 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.image(io.BytesIO(render_chart_png(chart)), x=pdf.l_margin, w=width, h=height)
    title = _text(chart.get("title")) or _text(chart.get("chartType"), "Chart")
    _pdf_caption(pdf, f"Figure {number}. {title}")


def _pdf_table(pdf: _ReportPdf, table: object, number: int) -> None:
    grid = _grid(table)
    if pdf.get_y() + 30 > pdf.page_break_trigger:
        pdf.add_page()
    if grid is None:
        pdf.use("", 8.5, 60)
        pdf.multi_cell(0, 4.5, pdf.plain(_cell(table)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        return
    title, lines, has_heads = grid
    pdf.use("B", 10, 40)
    pdf.multi_cell(
        0, 6, pdf.plain(f"Table {number}. {title or 'Data'}"), new_x="LMARGIN", new_y="NEXT"
    )
    weights = [max(4, min(40, max(len(line[i]) for line in lines))) for i in range(len(lines[0]))]
    pdf.set_draw_color(148, 163, 184)
    pdf.set_fill_color(255)
    heads = FontFace(emphasis="BOLD", fill_color=(226, 232, 240), color=(30, 30, 30))
    pdf.use("", 9)
    with pdf.table(
        col_widths=tuple(weights), line_height=5, first_row_as_headings=has_heads,
        headings_style=heads, borders_layout="HORIZONTAL_LINES", padding=1.2,
    ) as rendered:  # fmt: skip
        for line in lines:
            rendered.row([pdf.plain(cell) for cell in line])
    pdf.ln(4)


def _pdf_title_page(pdf: _ReportPdf, header: Mapping[str, Any] | None, empty: bool) -> None:
    pdf.add_page()
    pdf.set_y(70)
    pdf.use("B", 24, 20)
    pdf.multi_cell(0, 11, pdf.plain(DOCUMENT_TITLE), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(37, 99, 235)
    pdf.set_line_width(0.8)
    pdf.line(pdf.w / 2 - 30, pdf.get_y() + 5, pdf.w / 2 + 30, pdf.get_y() + 5)
    pdf.set_line_width(0.2)
    pdf.ln(18)
    if header is not None:
        _pdf_markdown(pdf, _text(header.get("markdown")), size=11.5)
    if empty:
        pdf.use("I", 11, 60)
        pdf.multi_cell(0, 6, pdf.plain(UNAVAILABLE_TEXT), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.use("", 9, 110)
    pdf.multi_cell(0, 5, pdf.plain(f"Report ID: {pdf.report_id}"), new_x="LMARGIN", new_y="NEXT")


def render_pdf(structured_report: Mapping[str, Any] | None, *, report_id: str) -> bytes:
    """``structured_report`` (``output.report``, possibly None) as a PDF document."""
    header, sections = _split_header(structured_report)
    everything = json.dumps(structured_report, ensure_ascii=False, default=str) + report_id
    pdf = _ReportPdf(report_id, unicode_text=not _is_latin1(everything.translate(_LATIN1)))
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title(DOCUMENT_TITLE)
    pdf.set_author(_AUTHOR)
    pdf.set_subject(pdf.plain(report_id))
    _pdf_title_page(pdf, header, empty=not sections and header is None)
    figures = tables = 0
    for index, section in enumerate(sections):
        if index == 0 or pdf.get_y() + 40 > pdf.page_break_trigger:
            pdf.add_page()
        else:
            pdf.ln(4)
        pdf.use("B", 15, 20)
        pdf.multi_cell(0, 8, pdf.plain(_title(section)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(37, 99, 235)
        pdf.line(pdf.l_margin, pdf.get_y() + 0.5, pdf.l_margin + 25, pdf.get_y() + 0.5)
        pdf.ln(3.5)
        _pdf_markdown(pdf, _text(section.get("markdown")))
        for chart in _charts(section):
            figures += 1
            _pdf_chart(pdf, chart, figures)
        for table in _tables(section):
            tables += 1
            _pdf_table(pdf, table, tables)
    return bytes(pdf.output())


# --- DOCX ------------------------------------------------------------------------------------


def _docx_runs(paragraph: Paragraph, text: str) -> None:
    for piece, style in _spans(text):
        run = paragraph.add_run(piece)
        run.bold, run.italic = style == "B" or None, style == "I" or None


def _docx_markdown(document: Any, markdown: str) -> None:
    for block in _blocks(markdown):
        if block.kind == "heading":
            document.add_heading(block.lines[0], level=2 if block.number <= 3 else 3)
        elif block.kind == "rule":
            document.add_paragraph("_" * 40).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind == "paragraph":
            paragraph = document.add_paragraph()
            for number, line in enumerate(block.lines):
                if number:
                    paragraph.add_run().add_break()
                _docx_runs(paragraph, line)
        elif block.kind == "bullet":
            for item in block.lines:
                _docx_runs(document.add_paragraph(style="List Bullet"), item)
        else:  # numbered by hand: Word's "List Number" would continue across the document
            for number, item in enumerate(block.lines, start=block.number):
                paragraph = document.add_paragraph()
                paragraph.paragraph_format.left_indent = Cm(0.9)
                paragraph.paragraph_format.first_line_indent = Cm(-0.6)
                paragraph.add_run(f"{number}.\t")
                _docx_runs(paragraph, item)


def _docx_table(document: Any, table: object, number: int) -> None:
    grid = _grid(table)
    if grid is None:
        document.add_paragraph().add_run(_cell(table)).font.size = Pt(8.5)
        return
    title, lines, _ = grid
    document.add_paragraph(f"Table {number}. {title or 'Data'}", style="Caption")
    rendered = document.add_table(rows=len(lines), cols=len(lines[0]))
    rendered.style = "Light List Accent 1"
    for row, line in zip(rendered.rows, lines, strict=True):
        for cell, text in zip(row.cells, line, strict=True):
            cell.text = text


def render_docx(structured_report: Mapping[str, Any] | None, *, report_id: str) -> bytes:
    """``structured_report`` (``output.report``, possibly None) as a DOCX document."""
    header, sections = _split_header(structured_report)
    document = docx.Document()
    properties = document.core_properties
    properties.title, properties.author, properties.subject = DOCUMENT_TITLE, _AUTHOR, report_id
    properties.last_modified_by, properties.revision = _AUTHOR, 1
    properties.created = properties.modified = properties.last_printed = _FIXED_DATE
    document.add_heading(DOCUMENT_TITLE, level=0)
    if header is not None:
        _docx_markdown(document, _text(header.get("markdown")))
    if not sections and header is None:
        document.add_paragraph(UNAVAILABLE_TEXT)
    muted = document.add_paragraph().add_run(f"Report ID: {report_id}")
    muted.font.size, muted.font.color.rgb = Pt(9), RGBColor(0x6B, 0x72, 0x80)
    if sections:
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    figures = tables = 0
    for section in sections:
        document.add_heading(_title(section), level=1)
        _docx_markdown(document, _text(section.get("markdown")))
        for chart in _charts(section):
            figures += 1
            document.add_picture(io.BytesIO(render_chart_png(chart)), width=Inches(6.0))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            title = _text(chart.get("title")) or _text(chart.get("chartType"), "Chart")
            document.add_paragraph(f"Figure {figures}. {title}", style="Caption")
        for table in _tables(section):
            tables += 1
            _docx_table(document, table, tables)
    buffer = io.BytesIO()
    document.save(buffer)
    return _with_fixed_zip_dates(buffer.getvalue())


def _with_fixed_zip_dates(package: bytes) -> bytes:
    """The DOCX zip rewritten with fixed entry timestamps (python-docx stamps the wall clock)."""
    source = zipfile.ZipFile(io.BytesIO(package))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=_ZIP_DATE)
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            rewritten.writestr(fixed, source.read(entry.filename))
    return target.getvalue()
