"""Hypothesis strategies for workflow plans, and the explicit plans every workflow check runs.

The explicit plans cover each documented path once (each retry decision, each download
hold-up), so the coverage table is complete at any budget; the generated ones explore
sequences and delays around them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from contract_tests.workflow_model import (
    DELAY_PLACEMENTS,
    DOWNLOAD_FAULTS,
    MAX_RETRYABLE_FAILURES,
    RETRYABLE,
    Outcome,
    WorkflowPlan,
)

__all__ = ["explicit_workflow_plans", "strict_workflow_plans", "workflow_plans"]

#: How a plan's last report ends: completed twice as often as each non-retried failure.
_FINAL_OUTCOMES: tuple[Outcome, ...] = ("completed", "completed", "image_quality", "biomechanics")
#: Hold-ups around the first download: none, short, just inside and well past the hour.
_DELAYS = (0.0, 45.0, 1800.0, 3700.0, 7200.0)


@st.composite
def workflow_plans(draw: st.DrawFn, *, strict: bool = False) -> WorkflowPlan:
    """A sequence of up to two retryable failures, then how the last report ends; a hold-up
    before or during the first download; under ``strict`` a fault on the first download."""
    retried = draw(st.lists(st.sampled_from(sorted(RETRYABLE)), max_size=MAX_RETRYABLE_FAILURES))
    final: Outcome = draw(st.sampled_from(_FINAL_OUTCOMES))
    delay = draw(st.sampled_from(_DELAYS) | st.integers(0, 3 * 3600).map(float))
    placement = draw(st.sampled_from(DELAY_PLACEMENTS))
    fault = draw(st.none() | st.sampled_from(DOWNLOAD_FAULTS)) if strict else None
    return WorkflowPlan((*retried, final), delay, placement, fault)


def strict_workflow_plans() -> st.SearchStrategy[WorkflowPlan]:
    """Workflow plans with transient faults on downloads (``--strict``)."""
    return workflow_plans(strict=True)


def explicit_workflow_plans(*, strict: bool = False) -> list[WorkflowPlan]:
    """One plan per documented path; with ``strict``, one per download fault too."""
    plans = [
        WorkflowPlan(("completed",)),
        WorkflowPlan(("image_quality",)),
        WorkflowPlan(("biomechanics",)),
        WorkflowPlan(("timeout", "completed")),
        WorkflowPlan(("internal_error", "completed")),
        WorkflowPlan(("timeout", "internal_error", "completed")),
        WorkflowPlan(("internal_error", "image_quality")),
        WorkflowPlan(("completed",), 3700.0, "between_documents"),
        WorkflowPlan(("completed",), 3700.0, "in_flight"),
    ]
    if strict:
        plans += [WorkflowPlan(("completed",), download_fault=f) for f in DOWNLOAD_FAULTS]
    return plans
