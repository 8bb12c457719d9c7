"""The report lifecycle: what a report looks like at virtual time ``t``.

A report is stored once, at creation, as a :class:`ReportRecord` carrying its *plan*: the
ordered :class:`Phase` list that says from which second after creation it shows which status
and progress. Its state at any moment is derived from the plan, the creation time, an optional
cancellation time and the clock, never from a background thread, so the answer is
deterministic, survives a restart and is the same in every worker process.

Pure: no Flask, no I/O, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from mockserver.core import messages
from mockserver.core.case_profile import CaseProfile

__all__ = [
    "TERMINAL_STATUSES",
    "CannotCancel",
    "LifecycleError",
    "Phase",
    "ReportRecord",
    "ReportSnapshot",
    "Status",
    "cancel_report",
    "snapshot_at",
]

Status = Literal["pending", "processing", "completed", "failed", "cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

Progress = Mapping[str, Any]


class LifecycleError(Exception):
    """Base exception of the lifecycle core."""


class CannotCancel(LifecycleError):
    """Raised by :func:`cancel_report` when the report already reached a terminal status."""

    def __init__(self, status: str) -> None:
        super().__init__(messages.CANNOT_CANCEL.format(status=status))
        self.status = status


@dataclass(frozen=True)
class Phase:
    """From ``after_seconds`` after creation on, the report shows ``status`` and ``progress``.

    ``progress`` is the wire object as served (it may be ``None``: clients must tolerate it).
    """

    after_seconds: float
    status: Status
    progress: Progress | None

    @property
    def terminal(self) -> bool:
        """Whether this phase ends the lifecycle."""
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class ReportRecord:
    """Everything stored about one report; its state at a time is :func:`snapshot_at`'s job.

    ``owner`` is a fingerprint of the API key that created it (reports belong to keys).
    ``scripted_report`` is the JSON text of an ``output.report`` chosen through the control API
    (``"null"`` for an explicit null); ``None`` means the mock derives it from ``profile``.
    ``extra_fields`` are unknown fields served alongside the documented ones.
    """

    id: str
    owner: str
    case_id: str
    type: str
    scenario: str
    created_at: float
    plan: tuple[Phase, ...]
    profile: CaseProfile
    demo: bool = False
    cancelled_at: float | None = None
    scripted_report: str | None = None
    extra_fields: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.plan or self.plan[0].after_seconds != 0:
            raise LifecycleError(f"plan of {self.id} must start with a phase at 0 seconds")
        offsets = [phase.after_seconds for phase in self.plan]
        if offsets != sorted(offsets):
            raise LifecycleError(f"plan of {self.id} must be ordered by after_seconds")

    @property
    def finishes_at(self) -> float | None:
        """Virtual time at which the plan reaches its terminal phase; ``None`` if never."""
        for phase in self.plan:
            if phase.terminal:
                return self.created_at + phase.after_seconds
        return None


@dataclass(frozen=True)
class ReportSnapshot:
    """A report as seen at one moment."""

    record: ReportRecord
    status: Status
    progress: Progress | None
    updated_at: float
    next_change_at: float | None

    @property
    def terminal(self) -> bool:
        """Whether the report will never change again."""
        return self.status in TERMINAL_STATUSES


def _phase_index_at(record: ReportRecord, moment: float) -> int:
    elapsed = moment - record.created_at
    index = 0
    for position, phase in enumerate(record.plan):
        if phase.after_seconds > elapsed:
            break
        index = position
        if phase.terminal:
            break
    return index


def _cancelled_progress(progress: Progress | None) -> dict[str, Any]:
    kept = dict(progress or {})
    kept["message"] = messages.MESSAGE_CANCELLED
    return kept


def snapshot_at(record: ReportRecord, now: float) -> ReportSnapshot:
    """The report at virtual time ``now``."""
    index = _phase_index_at(record, now)
    phase = record.plan[index]
    if record.cancelled_at is not None and record.cancelled_at <= now:
        at_cancel = record.plan[_phase_index_at(record, record.cancelled_at)]
        if not at_cancel.terminal:
            return ReportSnapshot(
                record=record,
                status="cancelled",
                progress=_cancelled_progress(at_cancel.progress),
                updated_at=record.cancelled_at,
                next_change_at=None,
            )
    following = record.plan[index + 1] if index + 1 < len(record.plan) else None
    next_change = None
    if following is not None and not phase.terminal:
        next_change = record.created_at + following.after_seconds
    return ReportSnapshot(
        record=record,
        status=phase.status,
        progress=phase.progress,
        updated_at=record.created_at + phase.after_seconds,
        next_change_at=next_change,
    )


def cancel_report(record: ReportRecord, now: float) -> ReportRecord:
    """The record cancelled at ``now``; raises :class:`CannotCancel` once it is terminal."""
    current = snapshot_at(record, now)
    if current.terminal:
        raise CannotCancel(current.status)
    return replace(record, cancelled_at=now)
