"""The PDF behind a report's signed URL: the content model laid out with fpdf2.

A title page (the document title, the ``header`` section, the report id), then every other
section: its title as a heading, its blocks, its charts as embedded PNGs, each captioned
``Figure N.`` with its values in a small table below, and its tables captioned ``Table N.``.
Any contract-valid report renders, down to ``None`` (a note that the content is unavailable).

Deterministic: a fixed creation date. Text is Helvetica with typographic punctuation
transliterated to Latin-1 (fast); a report with other characters switches to DejaVu Sans when
Debian's ``fonts-dejavu-core`` is installed (about twice as slow), else shows ``?``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from mockserver.content.model import (
    DOCUMENT_AUTHOR,
    DOCUMENT_DATE,
    DOCUMENT_TITLE,
    UNAVAILABLE_TEXT,
    Block,
    Chart,
    Heading,
    Line,
    ListBlock,
    Paragraph,
    Preformatted,
    Rule,
    Section,
    Table,
)
from mockserver.content.png_writer import dejavu_font_path, draw_chart_png
from mockserver.content.reading import report_content

__all__ = ["render_pdf"]

#: Typographic characters of the narratives -> their Latin-1 look-alikes (Helvetica's range).
_LATIN1 = str.maketrans(
    {"\u2026": "..."}
    | dict(zip("\u2014\u2013\u2018\u2019\u201c\u201d\u2022\u2212", "--''\"\"--", strict=True))
)


def _is_latin1(text: str) -> bool:
    return all(ord(character) < 256 for character in text)


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
        # DejaVu is loaded without a bold oblique: bold wins over italic there.
        if self.text_family == "DejaVu" and style == "BI":
            style = "B"
        self.set_font(self.text_family, style, size)
        self.set_text_color(grey)

    def footer(self) -> None:
        if self.page_no() > 1:
            self.set_y(-14)
            self.use("", 8, 120)
            footer = f"{DOCUMENT_TITLE} · {self.report_id} · Page {self.page_no()}"
            self.cell(0, 6, self.plain(footer), align="C")


def _runs(pdf: _ReportPdf, line: Line, height: float, size: float) -> None:
    for span in line:
        pdf.use(("B" if span.bold else "") + ("I" if span.italic else ""), size)
        pdf.write(height, pdf.plain(span.text))
    pdf.use("", size)


def _blocks(pdf: _ReportPdf, blocks: tuple[Block, ...], size: float = 10.5) -> None:
    line_height = size * 0.5
    base = pdf.l_margin
    for block in blocks:
        pdf.set_x(base)
        if isinstance(block, Heading):
            pdf.ln(1.5)
            pdf.use("B", 12 if block.level <= 3 else 11, 40)
            text = "".join(span.text for span in block.spans)
            pdf.multi_cell(0, 6, pdf.plain(text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif isinstance(block, Rule):
            pdf.set_draw_color(200, 200, 200)
            pdf.line(base, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
            pdf.ln(5)
        elif isinstance(block, Paragraph):
            for line in block.lines:
                _runs(pdf, line, line_height, size)
                pdf.ln(line_height)
            pdf.ln(2)
        elif isinstance(block, ListBlock):
            for number, item in enumerate(block.items, start=block.start):
                marker = f"{number}." if block.ordered else ""
                pdf.set_left_margin(base + 8)
                pdf.set_x(base + 1)
                pdf.use("", size)
                if not marker:  # a drawn bullet: Helvetica has no U+2022
                    pdf.set_fill_color(60)
                    pdf.ellipse(base + 2, pdf.get_y() + line_height / 2 - 0.7, 1.4, 1.4, style="F")
                pdf.cell(7, line_height, marker)
                _runs(pdf, item, line_height, size)
                pdf.ln(line_height + 0.8)
                pdf.set_left_margin(base)
            pdf.ln(1.5)
        else:
            _table(pdf, block, "")


def _caption(pdf: _ReportPdf, text: str) -> None:
    pdf.use("I", 9, 90)
    pdf.multi_cell(0, 5, pdf.plain(text), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _table(pdf: _ReportPdf, table: Table | Preformatted, caption: str, size: float = 9) -> None:
    """``table`` under ``caption`` (none if empty); numeric columns are right-aligned."""
    if pdf.get_y() + 30 > pdf.page_break_trigger:
        pdf.add_page()
    if isinstance(table, Preformatted):
        pdf.use("", 8.5, 60)
        pdf.multi_cell(0, 4.5, pdf.plain(table.text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        return
    if caption:
        pdf.use("B", 10, 40)
        pdf.multi_cell(0, 6, pdf.plain(caption), new_x="LMARGIN", new_y="NEXT")
    lines = ([table.heads] if table.heads else []) + list(table.rows)
    texts = [[cell.text for cell in line] for line in lines]
    weights = [max(4, min(40, max(len(line[i]) for line in texts))) for i in range(table.width)]
    align = tuple("RIGHT" if numeric else "LEFT" for numeric in table.numeric_columns)
    pdf.set_draw_color(148, 163, 184)
    pdf.set_fill_color(255)
    heads = FontFace(emphasis="BOLD", fill_color=(226, 232, 240), color=(30, 30, 30))
    pdf.use("", size)
    with pdf.table(
        col_widths=tuple(weights), line_height=size * 5 / 9, first_row_as_headings=bool(table.heads),
        headings_style=heads, borders_layout="HORIZONTAL_LINES", padding=1.2, text_align=align,
    ) as rendered:  # fmt: skip
        for line in texts:
            rendered.row([pdf.plain(text) for text in line])
    pdf.ln(4)


def _chart(pdf: _ReportPdf, chart: Chart, number: int) -> None:
    width = pdf.epw
    height = width * 500 / 900
    if pdf.get_y() + height + 12 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.image(io.BytesIO(draw_chart_png(chart)), x=pdf.l_margin, w=width, h=height)
    _caption(pdf, f"Figure {number}. {chart.title}")
    if chart.bars:  # the exact values the bars stand for
        _table(pdf, chart.data_table, "", size=8)


def _title_page(pdf: _ReportPdf, header: Section | None, empty: bool) -> None:
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
        _blocks(pdf, header.blocks, size=11.5)
    if empty:
        pdf.use("I", 11, 60)
        pdf.multi_cell(0, 6, pdf.plain(UNAVAILABLE_TEXT), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.use("", 9, 110)
    pdf.multi_cell(0, 5, pdf.plain(f"Report ID: {pdf.report_id}"), new_x="LMARGIN", new_y="NEXT")


def render_pdf(structured_report: Mapping[str, Any] | None, *, report_id: str) -> bytes:
    """``structured_report`` (``output.report``, possibly None) as a PDF document."""
    content = report_content(structured_report)
    everything = json.dumps(structured_report, ensure_ascii=False, default=str) + report_id
    pdf = _ReportPdf(report_id, unicode_text=not _is_latin1(everything.translate(_LATIN1)))
    pdf.set_creation_date(DOCUMENT_DATE)
    pdf.set_title(DOCUMENT_TITLE)
    pdf.set_author(DOCUMENT_AUTHOR)
    pdf.set_subject(pdf.plain(report_id))
    _title_page(pdf, content.header, empty=content.unavailable)
    figures = tables = 0
    for index, section in enumerate(content.body):
        if index == 0 or pdf.get_y() + 40 > pdf.page_break_trigger:
            pdf.add_page()
        else:
            pdf.ln(4)
        pdf.use("B", 15, 20)
        pdf.multi_cell(0, 8, pdf.plain(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(37, 99, 235)
        pdf.line(pdf.l_margin, pdf.get_y() + 0.5, pdf.l_margin + 25, pdf.get_y() + 0.5)
        pdf.ln(3.5)
        _blocks(pdf, section.blocks)
        for chart in section.charts:
            figures += 1
            _chart(pdf, chart, figures)
        for table in section.tables:
            caption = ""
            if isinstance(table, Table):
                tables += 1
                caption = f"Table {tables}. {table.title or 'Data'}"
            _table(pdf, table, caption)
    return bytes(pdf.output())
