"""The strategies: everything they generate is valid under schemas/, and shrinks small."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import schemas
from contract_tests import UsageError
from contract_tests.examples import (
    explicit_consumer_reports,
    explicit_fault_lifecycles,
    explicit_lifecycles,
)
from contract_tests.model import Lifecycle
from contract_tests.strategies import (
    completed_report_data,
    fault_plans,
    lifecycles,
    progress_objects,
    strict_lifecycles,
    structured_reports,
)


def served_report(lifecycle: Lifecycle, index: int) -> dict[str, Any]:
    """The report object the mock serves at one observation."""
    observation = lifecycle.timeline[index]
    output = None
    if observation.status == "completed":
        report = None if lifecycle.derive_report else lifecycle.report
        output = {
            "pdf_url": "http://127.0.0.1/a.pdf",
            "docx_url": "http://127.0.0.1/a.docx",
            "report": report,
        }
    return {
        **lifecycle.extra_fields,
        "id": "rpt_1",
        "case_id": "case_1",
        "type": "technical_report",
        "status": observation.status,
        "progress": observation.progress,
        "output": output,
        "created_at": "2026-01-15T10:30:00Z",
        "updated_at": "2026-01-15T10:30:00Z",
    }


@settings(max_examples=150)
@given(strict_lifecycles() | lifecycles())
def test_every_generated_lifecycle_is_a_valid_script_and_serves_valid_reports(
    lifecycle: Lifecycle,
) -> None:
    if lifecycle.not_found:
        return
    assert (
        schemas.errors(lifecycle.script(api_key="sk-kit", case_id="c"), "scripted-report-request")
        == []
    )
    for index in range(len(lifecycle.timeline)):
        assert (
            schemas.errors(
                {"success": True, "data": served_report(lifecycle, index)}, "report-response"
            )
            == []
        )


@settings(max_examples=150)
@given(lifecycles())
def test_steps_advance_in_documented_order(lifecycle: Lifecycle) -> None:
    order = ["delta_v_calculation", "biomechanics_analysis", "report_generation"]
    steps = [
        o.progress.get("current_step")
        for o in lifecycle.timeline
        if o.progress and o.progress.get("current_step")
    ]
    assert [order.index(s) for s in steps] == sorted(order.index(s) for s in steps)
    if lifecycle.analysis == "accident_only":
        assert "biomechanics_analysis" not in steps


@settings(max_examples=150)
@given(completed_report_data())
def test_every_generated_completed_report_is_valid(data: dict[str, Any]) -> None:
    assert schemas.errors(data, "report") == []


@settings(max_examples=150)
@given(structured_reports())
def test_every_generated_structured_report_is_valid_with_unique_ids(report: dict[str, Any]) -> None:
    assert schemas.errors(report, "structured-report") == []
    ids = [s["id"] for s in report["sections"]]
    assert len(ids) == len(set(ids))


def test_explicit_examples_are_valid() -> None:
    for lifecycle in explicit_lifecycles() + explicit_fault_lifecycles():
        if not lifecycle.not_found:
            assert (
                schemas.errors(
                    lifecycle.script(api_key="sk-kit", case_id="c"), "scripted-report-request"
                )
                == []
            )
    for data in explicit_consumer_reports():
        assert schemas.errors(data, "report") == []


def test_a_failing_lifecycle_shrinks_to_a_short_plain_one() -> None:
    smallest = find(
        lifecycles(),
        lambda found: found.terminal is not None and found.terminal.status == "completed",
    )
    assert [o.status for o in smallest.timeline] == ["pending", "completed"]
    assert smallest.timeline[-1].after_seconds == 1
    assert smallest.timeline[0].progress == {
        "current_step": None,
        "steps_completed": [],
        "message": "Starting analysis...",
    }


def test_a_fault_plan_shrinks_to_one_503_on_the_first_poll() -> None:
    plan = find(fault_plans(), lambda faults: True)
    assert [(f.poll, f.kind) for f in plan] == [(1, "503")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: lifecycles(("sideways",)), "paths=\\('sideways',\\)"),
        (lambda: lifecycles(()), "paths=\\(\\)"),
        (lambda: progress_objects(None, [], "m", shapes=("odd",)), "shapes=\\('odd',\\)"),
        (lambda: fault_plans(0), "max_poll=0"),
    ],
)
def test_bad_arguments_are_rejected_up_front_naming_them(make: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make()


@given(st.data())
def test_progress_shapes_can_be_limited(data: st.DataObject) -> None:
    progress = data.draw(progress_objects("report_generation", [], "m", shapes=("null",)))
    assert progress is None
