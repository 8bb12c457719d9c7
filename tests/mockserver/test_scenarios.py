"""Named scenarios: every documented path, with documented timings."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.core import messages
from mockserver.core.lifecycle import Phase
from mockserver.core.scenarios import SCENARIOS, plan_for


def path(plan: tuple[Phase, ...]) -> list[tuple[str, str | None, str | None]]:
    return [
        (p.status, (p.progress or {}).get("current_step"), (p.progress or {}).get("message"))
        for p in plan
    ]


def plan(
    name: str, *, biomechanics: bool = True, demo: bool = False, seed: int | None = None
) -> tuple[Phase, ...]:
    rng = None if seed is None else random.Random(seed)
    return plan_for(SCENARIOS[name], has_biomechanics=biomechanics, demo=demo, rng=rng)


def test_happy_path_with_biomechanics_walks_every_documented_step_and_message() -> None:
    assert path(plan("happy")) == [
        ("pending", None, messages.MESSAGE_STARTING),
        ("processing", "delta_v_calculation", messages.MESSAGE_STARTING),
        ("processing", "biomechanics_analysis", messages.MESSAGE_BIOMECHANICS_RUNNING),
        ("processing", "report_generation", messages.MESSAGE_ANALYSIS_COMPLETE),
        ("completed", "report_generation", messages.MESSAGE_GENERATION_COMPLETE),
    ]


def test_completed_progress_lists_every_step_as_in_the_reference() -> None:
    final = plan("happy")[-1].progress
    assert final is not None
    assert final["steps_completed"] == [
        "delta_v_calculation",
        "biomechanics_analysis",
        "report_generation",
    ]


def test_accident_only_reports_skip_biomechanics() -> None:
    steps = [step for _, step, _ in path(plan("happy", biomechanics=False))]
    assert "biomechanics_analysis" not in steps


@pytest.mark.parametrize(
    ("name", "step", "message"),
    [
        ("fail_delta_v", "delta_v_calculation", messages.MESSAGE_DELTA_V_FAILED),
        ("fail_biomechanics", "biomechanics_analysis", messages.MESSAGE_BIOMECHANICS_FAILED),
        ("fail_timeout", "report_generation", messages.MESSAGE_GENERATION_TIMED_OUT),
        ("fail_internal", "delta_v_calculation", messages.MESSAGE_INTERNAL_ERROR),
    ],
)
def test_failure_scenarios_fail_in_their_step_with_the_documented_message(
    name: str, step: str, message: str
) -> None:
    assert path(plan(name, biomechanics=False))[-1] == ("failed", step, message)


def test_cancelled_scenario_is_cancelled_while_processing() -> None:
    statuses = [status for status, _, _ in path(plan("cancelled"))]
    assert statuses == ["pending", "processing", "cancelled"]


def test_stuck_never_reaches_a_terminal_status() -> None:
    assert not any(phase.terminal for phase in plan("stuck"))


def test_slow_completes_after_the_ten_minute_guideline() -> None:
    final = plan("slow", biomechanics=False)[-1]
    assert final.status == "completed" and final.after_seconds > 600


def test_demo_data_completes_well_inside_two_minutes_and_identically() -> None:
    first, second = plan("happy", demo=True, seed=1), plan("happy", demo=True, seed=2)
    assert first == second
    assert first[-1].after_seconds < 120


@given(seed=st.integers(0, 2**32), biomechanics=st.booleans())
def test_typical_reports_complete_in_two_to_five_minutes_whatever_the_jitter(
    seed: int, biomechanics: bool
) -> None:
    final = plan("happy", biomechanics=biomechanics, seed=seed)[-1]
    assert 120 <= final.after_seconds <= 300


def test_jitter_is_reproducible_from_the_seed() -> None:
    assert plan("happy", seed=7) == plan("happy", seed=7)
    assert plan("happy", seed=7) != plan("happy", seed=8)
