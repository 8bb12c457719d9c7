"""The pure lifecycle core: a report's state is a function of its plan, creation and the clock."""

from __future__ import annotations

import pytest

from mockserver.core import messages
from mockserver.core.case_profile import profile_for_case
from mockserver.core.lifecycle import (
    CannotCancel,
    LifecycleError,
    Phase,
    ReportRecord,
    cancel_report,
    snapshot_at,
)

CREATED = 1_000_000.0
PLAN = (
    Phase(0.0, "pending", {"message": messages.MESSAGE_STARTING}),
    Phase(10.0, "processing", {"current_step": "delta_v_calculation", "steps_completed": []}),
    Phase(100.0, "completed", {"message": messages.MESSAGE_GENERATION_COMPLETE}),
)


def record(plan: tuple[Phase, ...] = PLAN, **changes: object) -> ReportRecord:
    fields: dict[str, object] = {
        "id": "rpt_1",
        "owner": "owner",
        "case_id": "case_1",
        "type": "technical_report",
        "scenario": "happy",
        "created_at": CREATED,
        "plan": plan,
        "profile": profile_for_case("case_1"),
    }
    fields.update(changes)
    return ReportRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("elapsed", "status", "updated"),
    [
        (0, "pending", 0),
        (9.9, "pending", 0),
        (10, "processing", 10),
        (99, "processing", 10),
        (100, "completed", 100),
        (10_000, "completed", 100),
    ],
)
def test_state_follows_the_plan_at_each_moment(elapsed: float, status: str, updated: float) -> None:
    snapshot = snapshot_at(record(), CREATED + elapsed)
    assert (snapshot.status, snapshot.updated_at) == (status, CREATED + updated)


def test_next_change_is_the_start_of_the_following_phase() -> None:
    assert snapshot_at(record(), CREATED + 5).next_change_at == CREATED + 10
    assert snapshot_at(record(), CREATED + 100).next_change_at is None


def test_phases_after_a_terminal_one_are_never_reached() -> None:
    plan = (*PLAN, Phase(200.0, "failed", {"message": "late"}))
    assert snapshot_at(record(plan), CREATED + 500).status == "completed"


def test_cancelling_freezes_the_report_as_cancelled_with_its_step() -> None:
    cancelled = cancel_report(record(), CREATED + 50)
    snapshot = snapshot_at(cancelled, CREATED + 500)
    assert snapshot.status == "cancelled"
    assert snapshot.updated_at == CREATED + 50
    assert snapshot.progress == {
        "current_step": "delta_v_calculation",
        "steps_completed": [],
        "message": messages.MESSAGE_CANCELLED,
    }


def test_a_cancelled_report_looks_unchanged_before_the_cancellation() -> None:
    cancelled = cancel_report(record(), CREATED + 50)
    assert snapshot_at(cancelled, CREATED + 20).status == "processing"


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_a_terminal_report_cannot_be_cancelled(status: str) -> None:
    plan = (PLAN[0], Phase(5.0, status, None))  # type: ignore[arg-type]
    with pytest.raises(CannotCancel, match=f"Cannot cancel a {status} report"):
        cancel_report(record(plan), CREATED + 6)


def test_finishes_at_is_the_terminal_phase_or_never() -> None:
    assert record().finishes_at == CREATED + 100
    assert record(PLAN[:2]).finishes_at is None


@pytest.mark.parametrize(
    "plan",
    [(), (Phase(1.0, "pending", None),), (PLAN[0], PLAN[2], PLAN[1])],
    ids=["empty", "not-from-zero", "unordered"],
)
def test_a_malformed_plan_is_refused(plan: tuple[Phase, ...]) -> None:
    with pytest.raises(LifecycleError):
        record(plan)


def test_progress_may_be_null() -> None:
    plan = (Phase(0.0, "pending", None),)
    assert snapshot_at(record(plan), CREATED).progress is None
