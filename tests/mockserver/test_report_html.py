"""The inspector's HTML of a structured report: safe markdown, SVG bar charts, tables."""

from __future__ import annotations

import re

import pytest

from mockserver.content.html_writer import chart_svg, markdown_html, section_view, table_html

ADL_CHART = {
    "chartType": "CERVICAL_COMPRESSION",
    "title": "Cervical Compression — Crash vs ADL",
    "labels": ["Walking", "Stair climbing", "Sneeze", "Subject crash"],
    "datasets": [{"label": "Force (lbf)", "data": [22, 48, 75, 215]}],
    "ylabel": "Cervical Spine Loading (lbf)",
}


def test_markdown_escapes_html_before_formatting() -> None:
    html = markdown_html('<script>alert("x")</script> **<b>bold</b>**')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>&lt;b&gt;bold&lt;/b&gt;</strong>" in html


def test_markdown_headings_sit_below_the_section_title() -> None:
    assert markdown_html("### Alleged Injuries") == "<h3>Alleged Injuries</h3>"
    assert markdown_html("#### Detail") == "<h4>Detail</h4>"


def test_markdown_numbered_list_keeps_its_start() -> None:
    assert (
        markdown_html("3. third\n4. fourth") == '<ol start="3"><li>third</li><li>fourth</li></ol>'
    )


def test_markdown_bullet_list() -> None:
    assert markdown_html("- one\n* two") == "<ul><li>one</li><li>two</li></ul>"


def test_markdown_paragraph_keeps_its_line_breaks() -> None:
    html = markdown_html("Jane Smith, Esq.\nLaw Offices of Jane Smith\n\n**Case:** Doe v. Miller")
    assert html == (
        "<p>Jane Smith, Esq.<br>\nLaw Offices of Jane Smith</p>\n"
        "<p><strong>Case:</strong> Doe v. Miller</p>"
    )


def test_markdown_pipe_table_becomes_a_table() -> None:
    html = markdown_html("| Vehicle | Crush |\n|---|---|\n| Civic | 3.1 |")
    assert "<th>Vehicle</th>" in html and "<td>3.1</td>" in html


def test_markdown_italic_does_not_eat_arithmetic() -> None:
    assert markdown_html("2 * 3 * 4 and *soft*") == "<p>2 * 3 * 4 and <em>soft</em></p>"


def test_chart_draws_one_bar_per_value_with_its_value() -> None:
    svg = chart_svg(ADL_CHART)
    values = re.findall(r'<rect class="bar"[^>]*data-value="([^"]+)"', svg)
    assert values == ["22", "48", "75", "215"]


def test_chart_names_its_axis_after_the_ylabel() -> None:
    assert ">Cervical Spine Loading (lbf)</text>" in chart_svg(ADL_CHART)


def test_chart_bar_heights_are_proportional_to_the_values() -> None:
    heights = [
        float(h) for h in re.findall(r'class="bar"[^>]* height="([\d.]+)"', chart_svg(ADL_CHART))
    ]
    assert heights[3] / heights[0] == pytest.approx(215 / 22, rel=0.02)


def test_chart_escapes_its_labels() -> None:
    svg = chart_svg({**ADL_CHART, "labels": ["<img src=x>", "b", "c", "d"]})
    assert "<img" not in svg and "&lt;img src=x&gt;" in svg


def test_chart_survives_missing_data() -> None:
    svg = chart_svg({"title": "Empty"})
    assert svg.startswith("<svg") and 'class="bar"' not in svg


@pytest.mark.parametrize(
    "table",
    [
        {
            "title": "Head motion",
            "columns": ["phase", "peak_g"],
            "rows": [{"phase": "load", "peak_g": 4.1}],
        },
        {"title": "Head motion", "columns": ["phase", "peak_g"], "rows": [["load", 4.1]]},
        [{"phase": "load", "peak_g": 4.1}],
    ],
    ids=["rows-as-objects", "rows-as-arrays", "bare-list"],
)
def test_table_renders_the_likely_row_shapes(table: object) -> None:
    html = table_html(table)
    assert (
        "<th>Phase</th><th>Peak g</th>" in html and '<td>load</td><td class="num">4.1</td>' in html
    )


def test_table_shows_a_flat_object_as_name_value_pairs() -> None:
    html = table_html({"title": "Forces", "peak_force_lbf": 215})
    assert (
        "<caption>Forces</caption>" in html
        and '<td>Peak force lbf</td><td class="num">215</td>' in html
    )


def test_section_view_draws_charts_and_tables_from_data() -> None:
    view = section_view(
        {
            "id": "sec_loading",
            "type": "biomechanics_loading_considerations",
            "title": "Loading Considerations",
            "markdown": "Compared with **daily activities**.",
            "data": {"charts": [ADL_CHART], "motion_tables": [[{"phase": "load"}]]},
        }
    )
    assert [chart.title for chart in view.charts] == [ADL_CHART["title"]]
    assert len(view.tables) == 1 and "<strong>daily activities</strong>" in view.body


def test_section_view_skips_empty_table_lists() -> None:
    view = section_view(
        {
            "id": "s",
            "type": "biomechanics",
            "title": "B",
            "markdown": "",
            "data": {"motion_tables": []},
        }
    )
    assert view.tables == ()
