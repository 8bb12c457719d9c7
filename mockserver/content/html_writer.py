"""The structured report as HTML for the inspector: safe markdown, SVG charts, plain tables.

Everything here escapes its input first and builds markup from the escaped text, so a section
that carries ``<script>`` shows it as text. The markdown subset is what the report narratives
use: headings, bold and italic, numbered and bullet lists, pipe tables, paragraphs whose
single line breaks are kept (the header section is an address block).
"""

from __future__ import annotations

import html
import json
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from mockserver.content.png_writer import chart_numbers, nice_step

__all__ = ["ChartView", "SectionView", "chart_svg", "markdown_html", "section_view", "table_html"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ORDERED_ITEM = re.compile(r"^\s*(\d+)[.)]\s+(.*)$")
_BULLET_ITEM = re.compile(r"^\s*[-*+]\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_TABLE_DIVIDER = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC = re.compile(
    r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?!\w)"
)
_CODE = re.compile(r"`([^`]+)`")

#: Bar colours, one per dataset, readable on white.
CHART_COLOURS = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b")


def _inline(escaped: str) -> str:
    """Bold, italic and code spans in text that is already HTML-escaped."""
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    escaped = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", escaped)
    return _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", escaped)


def _table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _markdown_table(header: str, rows: Sequence[str]) -> str:
    head = "".join(f"<th>{_inline(cell)}</th>" for cell in _table_cells(header))
    body = "".join(
        "<tr>" + "".join(f"<td>{_inline(cell)}</td>" for cell in _table_cells(row)) + "</tr>"
        for row in rows
    )
    return f'<table class="data-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def markdown_html(text: str) -> Markup:
    """The report markdown as HTML; every character of ``text`` is escaped first.

    Markdown headings become ``<h3>`` (``#`` to ``###``) and ``<h4>``-``<h6>`` (deeper), since
    the section title above them is the ``<h2>``.
    """
    lines = html.escape(text, quote=True).replace("\r\n", "\n").split("\n")
    blocks: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None
    items: list[str] = []
    list_start = 1

    def close_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>\n".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_tag:
            start = f' start="{list_start}"' if list_tag == "ol" and list_start != 1 else ""
            body = "".join(f"<li>{_inline(item)}</li>" for item in items)
            blocks.append(f"<{list_tag}{start}>{body}</{list_tag}>")
            items.clear()
            list_tag = None

    index = 0
    while index < len(lines):
        line = lines[index]
        heading = _HEADING.match(line)
        ordered = _ORDERED_ITEM.match(line)
        bullet = None if _RULE.match(line) else _BULLET_ITEM.match(line)
        is_table = line.lstrip().startswith("|") and index + 1 < len(lines)
        if not line.strip():
            close_paragraph()
            close_list()
        elif heading:
            close_paragraph()
            close_list()
            level = max(3, min(6, len(heading.group(1))))
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif is_table and _TABLE_DIVIDER.match(lines[index + 1]):
            close_paragraph()
            close_list()
            rows: list[str] = []
            index += 2
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                rows.append(lines[index])
                index += 1
            blocks.append(_markdown_table(line, rows))
            continue
        elif _RULE.match(line):
            close_paragraph()
            close_list()
            blocks.append("<hr>")
        elif ordered or bullet:
            close_paragraph()
            tag = "ol" if ordered else "ul"
            if list_tag != tag:
                close_list()
                list_tag = tag
                list_start = int(ordered.group(1)) if ordered else 1
            items.append(ordered.group(2) if ordered else bullet.group(1) if bullet else "")
        elif list_tag and line.startswith((" ", "\t")):
            items[-1] += "<br>" + line.strip()
        else:
            close_list()
            paragraph.append(line.strip())
        index += 1
    close_paragraph()
    close_list()
    return Markup("\n".join(blocks))


def _label_lines(label: str, width: int) -> list[str]:
    """``label`` on at most two lines of about ``width`` characters, cut with an ellipsis."""
    lines = textwrap.wrap(label, max(4, width)) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), max(4, width), placeholder="…")]
    return lines


def _tick_label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.2g}"


def chart_svg(chart: Mapping[str, object]) -> Markup:
    """A grouped bar chart of ``chart`` (``labels``, ``datasets[].data``, ``ylabel``) as SVG.

    One group of bars per label, one bar colour per dataset, each bar labelled with its value;
    the y axis starts at zero and ends at a round number above the largest value.
    """
    raw_labels = chart.get("labels")
    labels = [str(label) for label in raw_labels] if isinstance(raw_labels, list) else []
    raw_datasets = chart.get("datasets")
    datasets = (
        [d for d in raw_datasets if isinstance(d, Mapping)]
        if isinstance(raw_datasets, list)
        else []
    )
    series = [chart_numbers(dataset.get("data")) for dataset in datasets]
    values = [v for data in series for v in data if v is not None]
    width, height = 640, 320
    left, right, top, bottom = 72, 16, 16, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    low = min(0.0, *values) if values else 0.0
    high = max(0.0, *values) if values else 1.0
    step = nice_step(high - low)
    low = math.floor(low / step) * step
    high = max(math.ceil(high / step) * step, low + step)

    def y_of(value: float) -> float:
        return top + plot_h - (value - low) / (high - low) * plot_h

    title = html.escape(str(chart.get("title") or chart.get("chartType") or "Chart"))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{title}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
    ]
    tick = low
    while tick <= high + step / 2:
        y = y_of(tick)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_tick_label(tick)}</text>"
        )
        tick += step
    group_w = plot_w / max(1, len(labels))
    bar_w = min(56.0, group_w * 0.7 / max(1, len(series)))
    for position, label in enumerate(labels):
        centre = left + group_w * (position + 0.5)
        first_x = centre - bar_w * len(series) / 2
        for number, data in enumerate(series):
            value = data[position] if position < len(data) else None
            if value is None:
                continue
            x = first_x + number * bar_w
            y0, y1 = sorted((y_of(0.0), y_of(value)))
            colour = CHART_COLOURS[number % len(CHART_COLOURS)]
            name = html.escape(str(datasets[number].get("label") or ""))
            parts.append(
                f'<rect class="bar" x="{x + 1:.1f}" y="{y0:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{max(0.5, y1 - y0):.1f}" fill="{colour}" data-value="{value:g}">'
                f"<title>{html.escape(label)}: {value:g} {name}</title></rect>"
                f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y0 - 5:.1f}" '
                f'text-anchor="middle">{value:g}</text>'
            )
        lines = "".join(
            f'<tspan x="{centre:.1f}" dy="{0 if number == 0 else 14}">{html.escape(text)}</tspan>'
            for number, text in enumerate(_label_lines(label, int(group_w / 7)))
        )
        parts.append(
            f'<text class="label" x="{centre:.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
            f"{lines}</text>"
        )
    axis_y = y_of(0.0)
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{axis_y:.1f}" y2="{axis_y:.1f}"/>'
    )
    ylabel = html.escape(str(chart.get("ylabel") or ""))
    middle = top + plot_h / 2
    parts.append(
        f'<text class="ylabel" x="16" y="{middle:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {middle:.1f})">{ylabel}</text></svg>'
    )
    return Markup("".join(parts))


def _humanise(key: object) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return html.escape(str(value))
    return html.escape(json.dumps(value, ensure_ascii=False))


def table_html(table: object) -> Markup:
    """One entry of ``motion_tables`` / ``forces_tables`` as an HTML table.

    Their row shape is not documented, so this accepts the likely ones: ``{"title", "columns",
    "rows"}`` with rows as objects or arrays, a bare list of row objects, or one flat object
    (shown as name/value pairs). Anything else is shown as JSON.
    """
    title: object = None
    columns: list[object] = []
    rows: list[list[object]] = []
    if isinstance(table, Mapping) and isinstance(table.get("rows"), list):
        title = table.get("title") or table.get("name") or table.get("region")
        declared = table.get("columns") or table.get("headers")
        raw_rows: list[object] = table["rows"]
        columns = list(declared) if isinstance(declared, list) else []
    elif isinstance(table, list):
        raw_rows = list(table)
    elif isinstance(table, Mapping):
        title = table.get("title")
        raw_rows = [{"name": _humanise(k), "value": v} for k, v in table.items() if k != "title"]
    else:
        return Markup(f"<pre>{_cell(table)}</pre>")
    if not columns:
        for row in raw_rows:
            if isinstance(row, Mapping):
                columns.extend(key for key in row if key not in columns)
    for row in raw_rows:
        if isinstance(row, Mapping):
            rows.append([row.get(str(column)) for column in columns])
        elif isinstance(row, list):
            rows.append(list(row))
        else:
            rows.append([row])
    caption = f"<caption>{html.escape(str(title))}</caption>" if title else ""
    head = "".join(f"<th>{html.escape(_humanise(column))}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in rows
    )
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return Markup(f'<table class="data-table">{caption}{thead}<tbody>{body}</tbody></table>')


@dataclass(frozen=True)
class ChartView:
    """One chart of a section: its title, its SVG and its legend of (dataset label, colour)."""

    title: str
    svg: Markup
    legend: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SectionView:
    """One section of the structured report, ready for the template."""

    id: str
    type: str
    title: str
    body: Markup
    charts: tuple[ChartView, ...]
    tables: tuple[Markup, ...]


def section_view(section: Mapping[str, object]) -> SectionView:
    """A section's markdown as HTML, its ``data.charts`` as SVG and every other data as tables."""
    data = section.get("data")
    charts: list[ChartView] = []
    tables: list[Markup] = []
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key == "charts" and isinstance(value, list):
                for chart in value:
                    if isinstance(chart, Mapping):
                        charts.append(_chart_with_legend(chart))
            elif isinstance(value, list):
                tables.extend(table_html(entry) for entry in value)
            elif value is not None:
                tables.append(table_html(value))
    markdown = section.get("markdown")
    return SectionView(
        id=str(section.get("id") or ""),
        type=str(section.get("type") or ""),
        title=str(section.get("title") or section.get("type") or "Untitled section"),
        body=markdown_html(markdown) if isinstance(markdown, str) else Markup(""),
        charts=tuple(charts),
        tables=tuple(tables),
    )


def _chart_with_legend(chart: Mapping[str, object]) -> ChartView:
    datasets = chart.get("datasets")
    legend = tuple(
        (str(dataset.get("label") or ""), CHART_COLOURS[number % len(CHART_COLOURS)])
        for number, dataset in enumerate(datasets if isinstance(datasets, list) else [])
        if isinstance(dataset, Mapping)
    )
    title = str(chart.get("title") or chart.get("chartType") or "Chart")
    return ChartView(title, chart_svg(chart), legend)
