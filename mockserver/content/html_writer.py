"""The content model as HTML for the inspector: blocks, tables and SVG bar charts.

Every piece of report text is escaped as it is written, so a section that carries
``<script>`` shows it as text. The result is :class:`SafeHtml`, a ``str`` that Jinja's
autoescaping trusts through the ``__html__`` protocol (no web library needed here). Numbers,
table shapes and chart geometry come from the model, as they do for the PDF and DOCX.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

from mockserver.content.geometry import build_chart
from mockserver.content.markdown import parse_markdown
from mockserver.content.model import (
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
from mockserver.content.reading import section_content, table_content

__all__ = [
    "ChartView",
    "SafeHtml",
    "SectionView",
    "chart_svg",
    "markdown_html",
    "section_view",
    "table_html",
]


class SafeHtml(str):
    """HTML built from escaped text; Jinja inserts it as it is."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _spans(line: Line) -> str:
    parts = []
    for span in line:
        text = _escape(span.text)
        if span.code:
            text = f"<code>{text}</code>"
        if span.italic:
            text = f"<em>{text}</em>"
        if span.bold:
            text = f"<strong>{text}</strong>"
        parts.append(text)
    return "".join(parts)


def _table(table: Table | Preformatted) -> str:
    if isinstance(table, Preformatted):
        return f"<pre>{_escape(table.text)}</pre>"
    numeric = table.numeric_columns
    caption = f"<caption>{_escape(table.title)}</caption>" if table.title else ""
    head = "".join(f"<th>{_spans(cell.spans)}</th>" for cell in table.heads)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_spans(cell.spans)}</td>'
            if numeric[column]
            else f"<td>{_spans(cell.spans)}</td>"
            for column, cell in enumerate(row)
        )
        + "</tr>"
        for row in table.rows
    )
    return f'<table class="data-table">{caption}{thead}<tbody>{body}</tbody></table>'


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        level = max(3, min(6, block.level))  # the section title above is the <h2>
        return f"<h{level}>{_spans(block.spans)}</h{level}>"
    if isinstance(block, Paragraph):
        return "<p>" + "<br>\n".join(_spans(line) for line in block.lines) + "</p>"
    if isinstance(block, ListBlock):
        tag = "ol" if block.ordered else "ul"
        start = f' start="{block.start}"' if block.ordered and block.start != 1 else ""
        items = "".join(f"<li>{_spans(item)}</li>" for item in block.items)
        return f"<{tag}{start}>{items}</{tag}>"
    if isinstance(block, Rule):
        return "<hr>"
    return _table(block)


def markdown_html(text: str) -> SafeHtml:
    """Report markdown as HTML; headings become ``<h3>``-``<h6>`` under the section's ``<h2>``."""
    return SafeHtml("\n".join(_block(block) for block in parse_markdown(text)))


def table_html(table: object) -> SafeHtml:
    """One entry of a section's tables (in any likely shape) as an HTML table, or its JSON."""
    return SafeHtml(_table(table_content(table)))


# --- SVG charts --------------------------------------------------------------------------------

_WIDTH, _HEIGHT = 640, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 72, 16, 16, 48


def _label_lines(label: str, width: int) -> list[str]:
    """``label`` on at most two lines of about ``width`` characters, cut with an ellipsis."""
    lines = textwrap.wrap(label, max(4, width)) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), max(4, width), placeholder="…")]
    return lines


def _svg(chart: Chart) -> str:
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def x_of(fraction: float) -> float:
        return _LEFT + fraction * plot_w

    def y_of(fraction: float) -> float:
        return _TOP + plot_h - fraction * plot_h

    title = _escape(chart.title)
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{title}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
    ]
    for tick in chart.ticks:
        y = y_of(tick.position)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_escape(tick.text)}</text>"
        )
    for bar in chart.bars:
        x, right = x_of(bar.left), x_of(bar.right)
        top, bottom = y_of(max(bar.base, bar.end)), y_of(min(bar.base, bar.end))
        label_y = bottom + 14 if bar.end < bar.base else top - 5  # under a negative bar
        label = _escape(f"{chart.labels[bar.group]}: {bar.text} {chart.series[bar.series].label}")
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{top:.1f}" width="{right - x - 2:.1f}" '
            f'height="{max(0.5, bottom - top):.1f}" fill="{chart.series[bar.series].colour}" '
            f'data-value="{_escape(bar.text)}"><title>{label}</title></rect>'
            f'<text class="value" x="{(x + right) / 2:.1f}" y="{label_y:.1f}" '
            f'text-anchor="middle">{_escape(bar.text)}</text>'
        )
    group_w = plot_w / max(1, len(chart.labels))
    for group, label in enumerate(chart.labels):
        centre = x_of(chart.group_centre(group))
        lines = "".join(
            f'<tspan x="{centre:.1f}" dy="{0 if number == 0 else 14}">{_escape(text)}</tspan>'
            for number, text in enumerate(_label_lines(label, int(group_w / 7)))
        )
        parts.append(
            f'<text class="label" x="{centre:.1f}" y="{_TOP + plot_h + 18}" '
            f'text-anchor="middle">{lines}</text>'
        )
    if chart.ticks:
        axis_y = y_of(chart.zero)
        parts.append(
            f'<line class="axis" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" '
            f'y1="{axis_y:.1f}" y2="{axis_y:.1f}"/>'
        )
    else:
        parts.append(
            f'<text class="label" x="{_WIDTH / 2:.1f}" y="{_TOP + plot_h / 2:.1f}" '
            'text-anchor="middle">No data</text>'
        )
    middle = _TOP + plot_h / 2
    parts.append(
        f'<text class="ylabel" x="16" y="{middle:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {middle:.1f})">{_escape(chart.ylabel)}</text></svg>'
    )
    return "".join(parts)


def chart_svg(chart: Mapping[str, object]) -> SafeHtml:
    """A report chart as a grouped bar chart in SVG, each bar labelled with its value."""
    return SafeHtml(_svg(build_chart(chart)))


# --- views for the inspector's template --------------------------------------------------------


@dataclass(frozen=True)
class ChartView:
    """One chart of a section: its title, its SVG and its legend of (dataset label, colour)."""

    title: str
    svg: SafeHtml
    legend: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SectionView:
    """One section of the structured report, ready for the template."""

    id: str
    type: str
    title: str
    body: SafeHtml
    charts: tuple[ChartView, ...]
    tables: tuple[SafeHtml, ...]


def section_view(section: Mapping[str, object]) -> SectionView:
    """A section's markdown as HTML, its ``data.charts`` as SVG and every other data as tables."""
    content = section_content(section)
    return SectionView(
        id=content.id,
        type=content.type,
        title=content.title,
        body=SafeHtml("\n".join(_block(block) for block in content.blocks)),
        charts=tuple(
            ChartView(
                chart.title,
                SafeHtml(_svg(chart)),
                tuple((series.label, series.colour) for series in chart.series),
            )
            for chart in content.charts
        ),
        tables=tuple(SafeHtml(_table(table)) for table in content.tables),
    )
