"""The content model every writer lays out: number spelling, chart geometry, markdown, tables."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ImageDraw

from mockserver.content.geometry import build_chart, nice_step
from mockserver.content.html_writer import chart_svg
from mockserver.content.markdown import inline_spans, parse_markdown
from mockserver.content.model import (
    Heading,
    ListBlock,
    Paragraph,
    Span,
    Table,
    cell_of,
    format_number,
)
from mockserver.content.png_writer import render_chart_png
from mockserver.content.reading import report_content, table_content

ADL_CHART: dict[str, Any] = {
    "chartType": "CERVICAL_COMPRESSION",
    "title": "Cervical Compression — Crash vs ADL",
    "labels": ["Walking", "Stair climbing", "Sneeze", "Subject crash"],
    "datasets": [{"label": "Force (lbf)", "data": [22, 48, 75, 215.0]}],
    "ylabel": "Cervical Spine Loading (lbf)",
}


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        (39.0, "39"),
        (39, "39"),
        (9.4, "9.4"),
        (-0.0, "0"),
        (1000, "1000"),
        (1900.0, "1900"),
        (0.25, "0.25"),
        (-3.5, "-3.5"),
        (1e15, "1000000000000000"),
        (1e20, "1e+20"),
        (True, "true"),
    ],
)
def test_a_number_has_one_spelling(value: float, spelled: str) -> None:
    assert format_number(value) == spelled


def test_cells_are_typed_and_numeric_columns_found() -> None:
    assert [cell_of(v).kind for v in (1, 2.5, "x", None, [1], False)] == [
        "number",
        "number",
        "text",
        "empty",
        "json",
        "text",
    ]
    table = table_content({"columns": ["a", "b", "c"], "rows": [["x", 1, None], ["y", None, 2]]})
    assert isinstance(table, Table) and table.numeric_columns == (False, True, True)


@pytest.mark.parametrize(
    ("span", "step"), [(215, 50), (10, 2), (12, 2.5), (0.3, 0.1), (0, 1), (1e-30, 1e-9)]
)
def test_the_axis_step_is_one_two_two_and_a_half_or_five_times_a_power_of_ten(
    span: float, step: float
) -> None:
    assert nice_step(span) == pytest.approx(step)


def test_the_chart_axis_is_round_and_above_the_largest_value() -> None:
    chart = build_chart(ADL_CHART)
    assert [tick.text for tick in chart.ticks] == ["0", "50", "100", "150", "200", "250"]
    assert [bar.text for bar in chart.bars] == ["22", "48", "75", "215"]
    assert chart.zero == 0 and max(bar.end for bar in chart.bars) == pytest.approx(215 / 250)
    assert chart.data_table.rows[0][1:] == tuple(cell_of(v) for v in (22, 48, 75, 215))


@settings(max_examples=150)
@given(
    st.lists(
        st.lists(
            st.none() | st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-1000, 10**6),
            max_size=6,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_chart_geometry_fits_the_plot_for_any_values(datasets: list[list[Any]]) -> None:
    chart = build_chart({"labels": ["a", "b"], "datasets": [{"data": d} for d in datasets]})
    values = [v for d in datasets for v in d if v is not None]
    assert len(chart.bars) == len(values)
    if not values:
        assert chart.ticks == ()
        return
    positions = [tick.position for tick in chart.ticks]
    assert positions[0] == pytest.approx(0) and positions[-1] == pytest.approx(1)
    assert positions == sorted(positions)
    for tick in chart.ticks:  # the label says the value: no 0.30000000000000004
        assert float(tick.text) == pytest.approx(tick.value, abs=1e-9 * max(1, abs(tick.value)))
        assert len(tick.text) <= 12
    for bar in chart.bars:
        assert 0 <= bar.left < bar.right <= 1 and -1e-9 <= bar.end <= 1 + 1e-9
        assert bar.text == format_number(bar.value)


def test_the_png_and_the_svg_label_the_axis_and_bars_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    original = ImageDraw.ImageDraw.text

    def record(self: ImageDraw.ImageDraw, xy: Any, text: Any, *args: Any, **kwargs: Any) -> None:
        drawn.append(str(text))
        original(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", record)
    chart = {**ADL_CHART, "datasets": [{"label": "x", "data": [0.1, 0.2, 0.3, 1234.5]}]}
    render_chart_png(chart)
    svg = chart_svg(chart)
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', svg)
    values = re.findall(r'<text class="value"[^>]*>([^<]*)</text>', svg)
    assert values == ["0.1", "0.2", "0.3", "1234.5"]
    assert ticks and [t for t in drawn if t in ticks] == ticks
    assert [t for t in drawn if t in values] == values


def test_inline_spans_nest_bold_and_italic_and_keep_code_literal() -> None:
    assert inline_spans("a **b *c* d** `**d**` _e_") == (
        Span("a "),
        Span("b ", bold=True),
        Span("c", bold=True, italic=True),
        Span(" d", bold=True),
        Span(" "),
        Span("**d**", code=True),
        Span(" "),
        Span("e", italic=True),
    )


def test_markdown_blocks_keep_lines_numbers_and_continuations() -> None:
    blocks = parse_markdown("## Title\nline one\nline two\n\n3. three\n   more\n4. four\n- dot")
    assert blocks == (
        Heading(2, (Span("Title"),)),
        Paragraph(((Span("line one"),), (Span("line two"),))),
        ListBlock(True, 3, ((Span("three more"),), (Span("four"),))),
        ListBlock(False, 1, ((Span("dot"),),)),
    )


def test_a_pipe_table_is_a_table_block() -> None:
    (table,) = parse_markdown("| a | b |\n|---|---|\n| 1 | **2** | 3 |")
    assert isinstance(table, Table) and table.width == 3
    assert [cell.text for cell in table.rows[0]] == ["1", "2", "3"]


@pytest.mark.parametrize("report", [None, {}, {"sections": "no"}, {"sections": []}])
def test_a_report_without_sections_is_unavailable(report: object) -> None:
    content = report_content(report)
    assert content.unavailable and content.header is None and content.body == ()


def test_the_header_section_is_the_title_page_and_the_rest_the_body() -> None:
    content = report_content(
        {"sections": [{"type": "opinions", "title": "O"}, {"type": "header", "title": "H"}, 5]}
    )
    assert content.header is not None and content.header.title == "H"
    assert [s.title for s in content.body] == ["O"]
