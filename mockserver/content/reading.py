"""A structured report (``output.report``), read tolerantly into the content model.

Any contract-valid report reads, down to ``None`` (no sections). Each section's ``markdown``
becomes blocks (:mod:`mockserver.content.markdown`), its ``data.charts`` become placed charts
(:mod:`mockserver.content.geometry`) and every other entry of its ``data`` becomes tables.

The row shape of ``motion_tables`` and ``forces_tables`` is not documented, so a table is read
in the likely shapes: ``{"title", "columns", "rows"}`` (:mod:`~mockserver.content.
structured_report` writes this one; ``headers`` for ``columns``, ``name`` or ``region`` for a
missing ``title``) with rows as arrays or objects, a bare list of row objects, or one flat
object (name/value rows). A row shorter than the table is padded; a longer one widens it.
Anything else (a number, an empty table) is shown as its JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from mockserver.content.geometry import build_chart
from mockserver.content.markdown import parse_markdown
from mockserver.content.model import (
    Cell,
    Chart,
    Preformatted,
    ReportContent,
    Section,
    Span,
    Table,
    cell_of,
    plain_text,
)

__all__ = ["humanise", "report_content", "section_content", "table_content"]

_UNTITLED = "Untitled section"


def humanise(key: object) -> str:
    """A column key as a heading: ``peak_g`` -> ``Peak g``."""
    text = plain_text(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _json(value: object) -> Preformatted:
    return Preformatted(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def table_content(table: object) -> Table | Preformatted:
    """One entry of a section's tables, in whichever likely shape it comes."""
    title: object = None
    columns: list[object] = []
    if isinstance(table, Mapping) and isinstance(table.get("rows"), list):
        title = table.get("title") or table.get("name") or table.get("region")
        declared = table.get("columns") or table.get("headers")
        columns = list(declared) if isinstance(declared, list) else []
        raw_rows: list[object] = list(table["rows"])
    elif isinstance(table, list):
        raw_rows = list(table)
    elif isinstance(table, Mapping):
        title = table.get("title")
        raw_rows = [{"name": humanise(k), "value": v} for k, v in table.items() if k != "title"]
    else:
        return _json(table)
    if not columns:
        for row in raw_rows:
            if isinstance(row, Mapping):
                columns.extend(key for key in row if key not in columns)
    rows: list[list[Cell]] = []
    for row in raw_rows:
        if isinstance(row, Mapping):
            rows.append([cell_of(row.get(plain_text(column))) for column in columns])
        elif isinstance(row, list):
            rows.append([cell_of(cell) for cell in row])
        else:
            rows.append([cell_of(row)])
    width = max([len(columns), *(len(row) for row in rows)], default=0)
    if width == 0:
        return _json(table)
    heads = [Cell((Span(humanise(column)),)) for column in columns] if columns else []
    heads += [Cell(())] * (width - len(heads)) if heads else []
    return Table(
        plain_text(title),
        tuple(heads),
        tuple(tuple(row + [Cell((), "empty")] * (width - len(row))) for row in rows),
    )


def section_content(section: Mapping[str, object]) -> Section:
    """A section's markdown as blocks, its ``data.charts`` as charts, other data as tables."""
    data = section.get("data")
    charts: list[Chart] = []
    tables: list[Table | Preformatted] = []
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key == "charts" and isinstance(value, list):
                charts += [build_chart(chart) for chart in value if isinstance(chart, Mapping)]
            elif isinstance(value, list):
                tables += [table_content(entry) for entry in value]
            elif value is not None:
                tables.append(table_content(value))
    markdown = section.get("markdown")
    return Section(
        id=plain_text(section.get("id")),
        type=plain_text(section.get("type")),
        title=plain_text(section.get("title")) or plain_text(section.get("type")) or _UNTITLED,
        blocks=parse_markdown(markdown) if isinstance(markdown, str) else (),
        charts=tuple(charts),
        tables=tuple(tables),
    )


def report_content(report: object) -> ReportContent:
    """``report`` (``output.report``: an object with ``sections``, or None) as content."""
    raw = report.get("sections") if isinstance(report, Mapping) else None
    sections = [s for s in raw if isinstance(s, Mapping)] if isinstance(raw, list) else []
    return ReportContent(tuple(section_content(section) for section in sections))
