"""Named lifecycles: which path a report takes, and how long each step lasts.

A scenario turns the facts of a report (does biomechanics apply? demo data? a jitter source?)
into a plan of :class:`~mockserver.core.lifecycle.Phase` objects. Timings follow the documentation:
reports "typically complete in 2-5 minutes"; demo data finishes well inside the 2-minute
guideline; ``slow`` finishes after the 10-minute guideline.

Pure: no Flask, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from mockserver.core import messages
from mockserver.core.lifecycle import Phase

__all__ = [
    "DEFAULT_SCENARIO",
    "SCENARIOS",
    "PlanInputs",
    "Scenario",
    "StepTimings",
    "plan_for",
    "step_timings",
]

DELTA_V = "delta_v_calculation"
BIOMECHANICS = "biomechanics_analysis"
REPORT_GENERATION = "report_generation"

Outcome = Literal["completed", "failed", "cancelled", "never"]


@dataclass(frozen=True)
class StepTimings:
    """Seconds spent in each stage of the pipeline."""

    pending: float
    delta_v: float
    biomechanics: float
    report_generation: float


# (low, high) seconds per stage. Accident-only totals 120-225 s, with biomechanics 165-300 s:
# inside the documented 2-5 minutes. Without jitter the midpoint is used.
_TYPICAL_RANGES = {
    "pending": (5.0, 15.0),
    "delta_v": (70.0, 130.0),
    "biomechanics": (45.0, 75.0),
    "report_generation": (45.0, 80.0),
}
# Demo data: fixed, 55 s with biomechanics, far inside the documented 2-minute guideline.
_DEMO_TIMINGS = StepTimings(pending=2.0, delta_v=20.0, biomechanics=15.0, report_generation=18.0)
# ``slow`` completes 12 minutes in: after the 10-minute timeout the guide recommends.
_SLOW_TOTAL_SECONDS = 720.0


def step_timings(*, demo: bool, rng: random.Random | None) -> StepTimings:
    """The stage durations of one report; ``rng`` (seeded per report) adds jitter."""
    if demo:
        return _DEMO_TIMINGS

    def pick(stage: str) -> float:
        low, high = _TYPICAL_RANGES[stage]
        return round(rng.uniform(low, high), 3) if rng else (low + high) / 2

    return StepTimings(
        pick("pending"), pick("delta_v"), pick("biomechanics"), pick("report_generation")
    )


@dataclass(frozen=True)
class PlanInputs:
    """What a scenario needs to know to plan one report."""

    has_biomechanics: bool
    timings: StepTimings


class _PlanWriter:
    """Appends phases while keeping the running time and the completed steps."""

    def __init__(self, inputs: PlanInputs) -> None:
        self.inputs = inputs
        self.phases: list[Phase] = [Phase(0.0, "pending", {"message": messages.MESSAGE_STARTING})]
        self.elapsed = inputs.timings.pending
        self.completed: list[str] = []
        self.current: str | None = None

    def enter(self, step: str, message: str, duration: float) -> None:
        if self.current is not None:
            self.completed.append(self.current)
        self.current = step
        progress = {
            "current_step": step,
            "steps_completed": list(self.completed),
            "message": message,
        }
        self.phases.append(Phase(self.elapsed, "processing", progress))
        self.elapsed += duration

    def end(
        self, status: Literal["completed", "failed", "cancelled"], message: str
    ) -> tuple[Phase, ...]:
        done = [*self.completed, self.current] if status == "completed" else self.completed
        progress = {
            "current_step": self.current,
            "steps_completed": [step for step in done if step],
            "message": message,
        }
        self.phases.append(Phase(self.elapsed, status, progress))
        return tuple(self.phases)

    def never_end(self) -> tuple[Phase, ...]:
        return tuple(self.phases)


def _run_until(writer: _PlanWriter, last_step: str) -> None:
    """Enter each pipeline step in order, stopping after ``last_step`` was entered."""
    timings = writer.inputs.timings
    writer.enter(DELTA_V, messages.MESSAGE_STARTING, timings.delta_v)
    if last_step == DELTA_V:
        return
    if writer.inputs.has_biomechanics:
        writer.enter(BIOMECHANICS, messages.MESSAGE_BIOMECHANICS_RUNNING, timings.biomechanics)
        if last_step == BIOMECHANICS:
            return
    writer.enter(REPORT_GENERATION, messages.MESSAGE_ANALYSIS_COMPLETE, timings.report_generation)


def _happy(inputs: PlanInputs) -> tuple[Phase, ...]:
    writer = _PlanWriter(inputs)
    _run_until(writer, REPORT_GENERATION)
    return writer.end("completed", messages.MESSAGE_GENERATION_COMPLETE)


def _slow(inputs: PlanInputs) -> tuple[Phase, ...]:
    # Report generation drags on until the whole run has taken _SLOW_TOTAL_SECONDS.
    t = inputs.timings
    biomechanics = t.biomechanics if inputs.has_biomechanics else 0.0
    spent = t.pending + t.delta_v + biomechanics
    stretched = StepTimings(t.pending, t.delta_v, t.biomechanics, _SLOW_TOTAL_SECONDS - spent)
    return _happy(PlanInputs(inputs.has_biomechanics, stretched))


def _fail_delta_v(inputs: PlanInputs) -> tuple[Phase, ...]:
    writer = _PlanWriter(inputs)
    _run_until(writer, DELTA_V)
    return writer.end("failed", messages.MESSAGE_DELTA_V_FAILED)


def _fail_internal(inputs: PlanInputs) -> tuple[Phase, ...]:
    writer = _PlanWriter(inputs)
    _run_until(writer, DELTA_V)
    return writer.end("failed", messages.MESSAGE_INTERNAL_ERROR)


def _fail_biomechanics(inputs: PlanInputs) -> tuple[Phase, ...]:
    writer = _PlanWriter(PlanInputs(True, inputs.timings))
    _run_until(writer, BIOMECHANICS)
    return writer.end("failed", messages.MESSAGE_BIOMECHANICS_FAILED)


def _fail_timeout(inputs: PlanInputs) -> tuple[Phase, ...]:
    # Report generation hangs for ten minutes before the service gives up on it.
    stretched = PlanInputs(
        inputs.has_biomechanics,
        StepTimings(
            inputs.timings.pending,
            inputs.timings.delta_v,
            inputs.timings.biomechanics,
            inputs.timings.report_generation + 600.0,
        ),
    )
    writer = _PlanWriter(stretched)
    _run_until(writer, REPORT_GENERATION)
    return writer.end("failed", messages.MESSAGE_GENERATION_TIMED_OUT)


def _cancelled(inputs: PlanInputs) -> tuple[Phase, ...]:
    # Cancelled by the service half-way through the first analysis step.
    halfway = PlanInputs(
        inputs.has_biomechanics,
        StepTimings(inputs.timings.pending, inputs.timings.delta_v / 2, 0.0, 0.0),
    )
    writer = _PlanWriter(halfway)
    _run_until(writer, DELTA_V)
    return writer.end("cancelled", messages.MESSAGE_CANCELLED)


def _stuck(inputs: PlanInputs) -> tuple[Phase, ...]:
    writer = _PlanWriter(inputs)
    _run_until(writer, REPORT_GENERATION)
    return writer.never_end()


@dataclass(frozen=True)
class Scenario:
    """A named lifecycle, chosen per report with the ``X-Mock-Scenario`` header."""

    name: str
    description: str
    outcome: Outcome
    plan: Callable[[PlanInputs], tuple[Phase, ...]]
    forces_biomechanics: bool = False


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("happy", "pending -> processing -> completed in 2-5 minutes", "completed", _happy),
        Scenario(
            "fail_delta_v",
            "fails in delta_v_calculation: insufficient image quality (do not retry)",
            "failed",
            _fail_delta_v,
        ),
        Scenario(
            "fail_biomechanics",
            "fails in biomechanics_analysis: occupant data (do not retry)",
            "failed",
            _fail_biomechanics,
            forces_biomechanics=True,
        ),
        Scenario(
            "fail_timeout",
            "report_generation times out after ten more minutes (transient: retry)",
            "failed",
            _fail_timeout,
        ),
        Scenario(
            "fail_internal",
            "fails with an internal error in delta_v_calculation (retry after a minute)",
            "failed",
            _fail_internal,
        ),
        Scenario(
            "cancelled",
            "cancelled by the service half-way through delta_v_calculation",
            "cancelled",
            _cancelled,
        ),
        Scenario("stuck", "stays in report_generation for ever", "never", _stuck),
        Scenario(
            "slow",
            "completes after 12 minutes, past the 10-minute guideline",
            "completed",
            _slow,
        ),
    )
}
DEFAULT_SCENARIO = "happy"


def plan_for(
    scenario: Scenario, *, has_biomechanics: bool, demo: bool, rng: random.Random | None
) -> tuple[Phase, ...]:
    """The phases of one report following ``scenario``."""
    timings = step_timings(demo=demo, rng=rng)
    return scenario.plan(PlanInputs(has_biomechanics or scenario.forces_biomechanics, timings))
