"""Each rule on hand-made runs: it fires on the defect it names and stays quiet otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests.checks import RULES
from contract_tests.errors import RuleViolation
from contract_tests.model import Lifecycle, Observation
from contract_tests.runs import ClientRun, Request, StopReason

PENDING = Observation(0, "pending", {"message": "Starting analysis..."})
PROCESSING = Observation(10, "processing", None)
COMPLETED = Observation(100, "completed", {"message": "Report generation complete"})
FAILED = Observation(
    100, "failed", {"message": "Delta-V calculation failed: insufficient image quality"}
)
DONE = Lifecycle("completed", "accident_only", (PENDING, PROCESSING, COMPLETED))
FAILS = Lifecycle("failed: delta-V", "accident_only", (PENDING, PROCESSING, FAILED))


def run_of(lifecycle: Lifecycle, poll_times: list[float], **outcome: Any) -> ClientRun:
    run = ClientRun(lifecycle=lifecycle, report_id="rpt_1", **outcome)
    for at in poll_times:
        run.requests.append(
            Request(at, "GET", "/api/reports/rpt_1", 200, lifecycle.observation_at(at), True)
        )
    run.ended_at = poll_times[-1] if poll_times else 0
    return run


def broken(rule: str, run: ClientRun) -> bool:
    try:
        RULES[rule].enforce(run)
    except RuleViolation:
        return True
    return False


COMPLETED_DATA = {"id": "rpt_1", "status": "completed", "output": {"pdf_url": "u", "docx_url": "v"}}


def test_returning_the_completed_report_keeps_the_return_rule() -> None:
    run = run_of(DONE, [0, 50, 100], returned=COMPLETED_DATA, did_return=True)
    assert not broken("returns_only_completed_reports", run)


def test_returning_while_processing_breaks_the_return_rule() -> None:
    run = run_of(DONE, [0, 50], returned={"status": "processing"}, did_return=True)
    assert broken("returns_only_completed_reports", run)


def test_returning_without_output_breaks_the_return_rule() -> None:
    run = run_of(
        DONE,
        [0, 100],
        returned={"id": "rpt_1", "status": "completed", "output": None},
        did_return=True,
    )
    assert broken("returns_only_completed_reports", run)


def test_failure_error_must_carry_the_progress_message() -> None:
    vague = run_of(FAILS, [0, 100], raised=RuntimeError("Report failed"))
    precise = run_of(
        FAILS,
        [0, 100],
        raised=RuntimeError("failed: Delta-V calculation failed: insufficient image quality"),
    )
    assert broken("raises_on_failed_or_cancelled", vague)
    assert not broken("raises_on_failed_or_cancelled", precise)


def test_polling_after_a_terminal_status_breaks_the_stop_rule() -> None:
    assert broken(
        "stops_after_terminal_status", run_of(FAILS, [0, 100, 105], raised=RuntimeError("x"))
    )


@pytest.mark.parametrize(
    ("times", "is_broken"),
    [([0, 0.5], True), ([0, 61], True), ([0, 5, 10], False), ([0, 60], False)],
)
def test_poll_pace_between_one_and_sixty_seconds(times: list[float], is_broken: bool) -> None:
    assert (
        broken("polls_at_a_steady_pace", run_of(DONE, times, raised=RuntimeError("x"))) is is_broken
    )


def test_giving_up_before_a_report_finishing_inside_the_timeout_breaks_the_wait_rule() -> None:
    run = run_of(DONE, [0, 30], raised=TimeoutError("gave up"), last_event="sleep")
    run.ended_at = 60
    assert broken("waits_for_documented_timeout", run)


def test_raising_right_after_a_non_terminal_poll_breaks_the_shape_rule() -> None:
    run = run_of(
        DONE, [0, 10], raised=TypeError("'NoneType' object is not subscriptable"), last_event="poll"
    )
    assert broken("tolerates_documented_shapes", run)
    assert not broken("waits_for_documented_timeout", run)


def test_a_not_found_report_must_be_polled_once() -> None:
    missing = Lifecycle("not found", "accident_only", ())
    assert not broken("raises_on_not_found", run_of(missing, [0], raised=LookupError("x")))
    assert broken("raises_on_not_found", run_of(missing, [0, 5], raised=LookupError("x")))


def test_a_client_stopped_after_an_hour_breaks_the_give_up_rule() -> None:
    stuck = Lifecycle("never terminal", "accident_only", (PENDING, PROCESSING))
    assert broken(
        "gives_up_within_an_hour",
        run_of(stuck, [0, 30], stopped=StopReason("past_an_hour", "still polling")),
    )


def test_every_rule_cites_its_source() -> None:
    assert all(rule.source and rule.title for rule in RULES.values())
