"""The DOCX behind a report's signed URL: the content model laid out with python-docx.

The same order as the PDF: the title, the ``header`` section and the report id, a page break,
then every other section as a ``Heading 1`` with its blocks, its charts (a PNG, a ``Figure
N.`` caption and its values in a small table) and its tables (``Table N.`` captions).

Deterministic: fixed core-property dates, and the zip rewritten with fixed entry timestamps
(python-docx stamps the wall clock).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm, Inches, Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph

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
    Table,
)
from mockserver.content.png_writer import draw_chart_png
from mockserver.content.reading import report_content

__all__ = ["render_docx"]

_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
_MUTED = RGBColor(0x6B, 0x72, 0x80)


def _runs(paragraph: DocxParagraph, line: Line) -> None:
    for span in line:
        run = paragraph.add_run(span.text)
        run.bold, run.italic = span.bold or None, span.italic or None
        if span.code:
            run.font.name = "Courier New"


def _blocks(document: Any, blocks: tuple[Block, ...]) -> None:
    for block in blocks:
        if isinstance(block, Heading):
            heading = document.add_heading(level=2 if block.level <= 3 else 3)
            _runs(heading, block.spans)
        elif isinstance(block, Rule):
            document.add_paragraph("_" * 40).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            for number, line in enumerate(block.lines):
                if number:
                    paragraph.add_run().add_break()
                _runs(paragraph, line)
        elif isinstance(block, ListBlock) and not block.ordered:
            for item in block.items:
                _runs(document.add_paragraph(style="List Bullet"), item)
        elif isinstance(block, ListBlock):
            # Numbered by hand: Word's "List Number" would continue across the document.
            for number, item in enumerate(block.items, start=block.start):
                paragraph = document.add_paragraph()
                paragraph.paragraph_format.left_indent = Cm(0.9)
                paragraph.paragraph_format.first_line_indent = Cm(-0.6)
                paragraph.add_run(f"{number}.\t")
                _runs(paragraph, item)
        else:
            _table(document, block, "")


def _table(document: Any, table: Table | Preformatted, caption: str, size: float = 0) -> None:
    """``table`` under ``caption`` (none if empty); numeric columns are right-aligned."""
    if isinstance(table, Preformatted):
        document.add_paragraph().add_run(table.text).font.size = Pt(8.5)
        return
    if caption:
        document.add_paragraph(caption, style="Caption")
    lines = ([table.heads] if table.heads else []) + list(table.rows)
    rendered = document.add_table(rows=len(lines), cols=table.width)
    rendered.style = "Light List Accent 1"
    numeric = table.numeric_columns
    for row, line in zip(rendered.rows, lines, strict=True):
        for column, (cell, content) in enumerate(zip(row.cells, line, strict=True)):
            paragraph = cell.paragraphs[0]
            _runs(paragraph, content.spans)
            if numeric[column]:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if size:
                for run in paragraph.runs:
                    run.font.size = Pt(size)


def _chart(document: Any, chart: Chart, number: int) -> None:
    document.add_picture(io.BytesIO(draw_chart_png(chart)), width=Inches(6.0))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(f"Figure {number}. {chart.title}", style="Caption")
    if chart.bars:  # the exact values the bars stand for
        _table(document, chart.data_table, "", size=8)


def render_docx(structured_report: Mapping[str, Any] | None, *, report_id: str) -> bytes:
    """``structured_report`` (``output.report``, possibly None) as a DOCX document."""
    content = report_content(structured_report)
    document = docx.Document()
    properties = document.core_properties
    properties.title, properties.author, properties.subject = (
        DOCUMENT_TITLE,
        DOCUMENT_AUTHOR,
        report_id,
    )
    properties.last_modified_by, properties.revision = DOCUMENT_AUTHOR, 1
    properties.created = properties.modified = properties.last_printed = DOCUMENT_DATE
    document.add_heading(DOCUMENT_TITLE, level=0)
    if content.header is not None:
        _blocks(document, content.header.blocks)
    if content.unavailable:
        document.add_paragraph(UNAVAILABLE_TEXT)
    muted = document.add_paragraph().add_run(f"Report ID: {report_id}")
    muted.font.size, muted.font.color.rgb = Pt(9), _MUTED
    if content.body:
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    figures = tables = 0
    for section in content.body:
        document.add_heading(section.title, level=1)
        _blocks(document, section.blocks)
        for chart in section.charts:
            figures += 1
            _chart(document, chart, figures)
        for table in section.tables:
            caption = ""
            if isinstance(table, Table):
                tables += 1
                caption = f"Table {tables}. {table.title or 'Data'}"
            _table(document, table, caption)
    buffer = io.BytesIO()
    document.save(buffer)
    return _with_fixed_zip_dates(buffer.getvalue())


def _with_fixed_zip_dates(package: bytes) -> bytes:
    """The DOCX zip rewritten with fixed entry timestamps."""
    source = zipfile.ZipFile(io.BytesIO(package))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=_ZIP_DATE)
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            rewritten.writestr(fixed, source.read(entry.filename))
    return target.getvalue()
