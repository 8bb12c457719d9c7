"""What provider verification checks on every sighting of the report: the documented fields,
the status order, timestamps that never go back, and progress steps and messages in the
documented order (docs/api-contract.md, "The report object").

:class:`LifecycleWatcher` remembers the previous sighting and records each drift into the
:class:`~contract_tests.drift.DriftReport`; :func:`record` is how every verification module
records one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contract_tests import documented
from contract_tests.drift import DriftReport
from contract_tests.verify_http import Answer

__all__ = [
    "TERMINAL_STATUSES",
    "LifecycleWatcher",
    "epoch",
    "message_of",
    "record",
]

_STATUS_RANK = {"pending": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2}
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
_MESSAGES = (
    documented.MESSAGE_STARTING,
    documented.MESSAGE_BIOMECHANICS_RUNNING,
    documented.MESSAGE_ANALYSIS_COMPLETE,
    documented.MESSAGE_GENERATION_COMPLETE,
)
_STEPS = (
    documented.STEP_DELTA_V,
    documented.STEP_BIOMECHANICS,
    documented.STEP_REPORT_GENERATION,
)
#: Documented fields of the report object and of its progress; the schemas leave some optional
#: (clients must survive their absence), but a deployment that stops sending one has drifted.
_REPORT_FIELDS = (
    "id",
    "case_id",
    "type",
    "status",
    "progress",
    "output",
    "created_at",
    "updated_at",
)
_PROGRESS_FIELDS = ("current_step", "steps_completed", "message")


def record(
    report: DriftReport, check: str, answer: Answer | None, what: str, where: str = ""
) -> None:
    """Record a drift found by ``check``, with the answer that shows it as evidence."""
    report.add(
        check, where or (answer.where if answer else ""), what, answer.evidence() if answer else ""
    )


class LifecycleWatcher:
    """Holds each sighting of one report to the one before it."""

    def __init__(self, report: DriftReport) -> None:
        self.report = report
        self.last: dict[str, Any] | None = None
        self.message_index = 0
        self.steps_done: list[str] = []
        self.saw_biomechanics = False

    def observe(self, data: dict[str, Any], answer: Answer) -> None:
        """Check one sighting of the report against the one before it."""
        self.check_fields(data, answer)
        status = str(data.get("status"))
        previous = self.last
        if not self.report.observed_statuses or self.report.observed_statuses[-1] != status:
            self.report.observed_statuses.append(status)
        message = message_of(data)
        if message is not None and (
            not self.report.observed_messages or self.report.observed_messages[-1] != message
        ):
            self.report.observed_messages.append(message)
        self.report.ran("status_order")
        if previous is not None:
            before = str(previous.get("status"))
            if _STATUS_RANK.get(status, -1) < _STATUS_RANK.get(before, -1) or (
                before in TERMINAL_STATUSES and status != before
            ):
                record(
                    self.report,
                    "status_order",
                    answer,
                    f"status went {before!r} -> {status!r}; documented: pending -> processing -> completed|failed|cancelled, never back",
                )
            self.check_timestamps(previous, data, answer)
        self.check_progress(status, data, answer)
        self.last = data

    def check_fields(self, data: dict[str, Any], answer: Answer) -> None:
        self.report.ran("documented_fields")
        progress = data.get("progress")
        shapes: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [("data", data, _REPORT_FIELDS)]
        # The documented examples show all three while processing and once completed; a new
        # report's progress is documented as {"message": "Starting analysis..."} alone.
        if isinstance(progress, dict) and data.get("status") in ("processing", "completed"):
            shapes.append(("data.progress", progress, _PROGRESS_FIELDS))
        for where, shape, names in shapes:
            missing = [name for name in names if name not in shape]
            if not missing:
                continue
            extra = [
                name for name in shape if name not in names and not isinstance(shape[name], dict)
            ]
            hint = (
                f"; undocumented {', '.join(f'{where}.{n}' for n in extra)} instead (renamed?)"
                if extra
                else ""
            )
            record(
                self.report,
                "documented_fields",
                answer,
                f"{', '.join(f'{where}.{n}' for n in missing)} absent (documented){hint}",
            )

    def check_timestamps(
        self, previous: dict[str, Any], data: dict[str, Any], answer: Answer
    ) -> None:
        self.report.ran("timestamps")
        if data.get("created_at") != previous.get("created_at"):
            record(
                self.report,
                "timestamps",
                answer,
                f"created_at changed from {previous.get('created_at')!r} to {data.get('created_at')!r}",
            )
        before, after = epoch(previous.get("updated_at")), epoch(data.get("updated_at"))
        if before is not None and after is not None and after < before:
            record(
                self.report,
                "timestamps",
                answer,
                f"updated_at went back from {previous.get('updated_at')!r} to {data.get('updated_at')!r}",
            )

    def check_progress(self, status: str, data: dict[str, Any], answer: Answer) -> None:
        self.report.ran("progress_messages")
        progress = data.get("progress")
        if not isinstance(progress, dict):
            return  # documented by example: progress may be null
        step, completed = progress.get("current_step"), progress.get("steps_completed")
        self.report.ran("progress_steps")
        for name in ([step] if step is not None else []) + list(completed or []):
            if name == documented.STEP_BIOMECHANICS:
                self.saw_biomechanics = True
            if name not in _STEPS:
                record(
                    self.report,
                    "progress_steps",
                    answer,
                    f"step {name!r} is not documented; documented steps: {', '.join(_STEPS)}",
                )
        if isinstance(completed, list):
            if completed[: len(self.steps_done)] != self.steps_done:
                record(
                    self.report,
                    "progress_steps",
                    answer,
                    f"steps_completed went from {self.steps_done} to {completed}; it only grows, in order",
                )
            self.steps_done = list(completed)
        message = progress.get("message")
        if message is None or status in ("failed", "cancelled"):
            return  # failure reasons and cancellation wording are checked by what ends the run
        if message not in _MESSAGES:
            record(
                self.report,
                "progress_messages",
                answer,
                f"progress.message {message!r} is not documented; documented, in order: {' | '.join(_MESSAGES)}",
            )
            return
        index = _MESSAGES.index(message)
        if index < self.message_index:
            record(
                self.report,
                "progress_messages",
                answer,
                f"progress.message went back to {message!r} after {_MESSAGES[self.message_index]!r}",
            )
        self.message_index = max(self.message_index, index)


def message_of(data: dict[str, Any]) -> str | None:
    """``progress.message`` of a report, ``None`` when progress or message is absent."""
    progress = data.get("progress")
    message = progress.get("message") if isinstance(progress, dict) else None
    return message if isinstance(message, str) else None


def epoch(timestamp: object) -> float | None:
    """An ISO 8601 timestamp as Unix seconds; ``None`` when it is not one."""
    if not isinstance(timestamp, str):
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
