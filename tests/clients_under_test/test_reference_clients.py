"""The documented clients pass every contract rule; the JavaScript one runs under the preload clock."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from clients_under_test import consumers, exponential_backoff, fixed_interval
from contract_tests import CheckResult, check_client, check_command, check_consumer, render_result

EXAMPLES = 30
#: The JavaScript client: the explicit lifecycles plus a few generated ones, at 200x real time.
JS_EXAMPLES = 3
ROOT = Path(__file__).resolve().parents[2]
JS_CLIENT = ROOT / "clients_under_test" / "wait_for_report.js"
#: The polling function of the reference's Get Report page, verbatim (see docs/api-contract.md).
GET_REPORT_PAGE = ROOT / "docs" / "reference-examples" / "wait-for-report.js"


@pytest.mark.parametrize(
    "client",
    [fixed_interval.wait_for_report, exponential_backoff.wait_for_report],
    ids=["fixed_interval", "exponential_backoff"],
)
def test_the_polling_guides_client_passes_every_rule(client: Any) -> None:
    result = check_client(client, examples=EXAMPLES)
    assert result.passed, render_result(result)


def test_the_outline_consumer_passes_every_rule() -> None:
    result = check_consumer(consumers.outline, examples=EXAMPLES)
    assert result.passed, render_result(result)


@pytest.mark.long_running
def test_the_get_report_pages_javascript_client_passes_far_faster_than_real_time() -> None:
    """One check for both claims: the long-running test sorts first, apart from the rest of
    this module, so a module-scoped result was checked twice, once per worker or per visit."""
    js_result: CheckResult = check_command(f"node {JS_CLIENT} {{report_id}}", examples=JS_EXAMPLES)
    assert js_result.passed, render_result(js_result)
    assert js_result.virtual_seconds > 50 * js_result.wall_seconds, (
        "not checked far faster than real time\n" + render_result(js_result)
    )


def _function_text(source: str, name: str) -> str:
    """``async function name(...) {...}`` without whitespace (the seed lost its indentation)."""
    start = source.index(f"async function {name}(")
    depth = 0
    for end in range(source.index("{", start), len(source)):
        depth += {"{": 1, "}": -1}.get(source[end], 0)
        if depth == 0:
            return re.sub(r"\s+", "", source[start : end + 1])
    raise AssertionError(f"async function {name} is not closed")


def test_the_javascript_client_runs_the_documented_function_unchanged() -> None:
    documented = _function_text(GET_REPORT_PAGE.read_text(), "waitForReport")
    assert _function_text(JS_CLIENT.read_text(), "waitForReport") == documented


def test_the_javascript_client_without_its_environment_exits_2_with_usage() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SW_")}
    ran = subprocess.run(
        ["node", str(JS_CLIENT), "rpt_xyz789"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=30,
    )
    assert (ran.returncode, ran.stdout) == (2, "")
    assert "usage: SW_BASE_URL=" in ran.stderr


def _report(sections: list[str] | None) -> dict[str, Any]:
    report = None
    if sections is not None:
        report = {
            "schema_version": "1.0",
            "sections": [
                {"id": f"sec_{kind}", "type": kind, "title": kind.title(), "markdown": "."}
                for kind in sections
            ],
        }
    return {"id": "rpt_1", "status": "completed", "output": {"report": report}}


def test_outline_nests_each_region_under_its_intro_inside_one_biomechanics_heading() -> None:
    data = _report(
        [
            "header",
            "biomechanics_injury_mechanisms_intro",
            "biomechanics_injury_mechanism_knee",
            "biomechanics_forces_intro",
            "biomechanics_forces_tbi",
            "biomechanics_forces_knee",
            "references",
        ]
    )

    def shape(entries: list[consumers.OutlineEntry]) -> list[Any]:
        return [(e["type"], shape(e["children"])) for e in entries]

    assert shape(consumers.outline(data)) == [
        ("header", []),
        (
            "biomechanics",
            [
                (
                    "biomechanics_injury_mechanisms_intro",
                    [("biomechanics_injury_mechanism_knee", [])],
                ),
                (
                    "biomechanics_forces_intro",
                    [("biomechanics_forces_tbi", []), ("biomechanics_forces_knee", [])],
                ),
            ],
        ),
        ("references", []),
    ]


def test_outline_of_a_report_without_structured_content_is_empty() -> None:
    assert consumers.outline(_report(None)) == []
