"""The inspector's view of a report: where it is in its lifecycle and how long it has left.

Unlike the documented wire object (``wire.py``), this view is the mock's own and sees what a
client cannot: the scenario, the owner's fingerprint, and when the plan reaches its end on the
virtual clock. ``GET /_mock/reports`` serves it and the inspector page polls it.

Pure: no Flask, no I/O; the virtual time is passed in.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.clock import format_timestamp
from mockserver.core.lifecycle import ReportSnapshot

__all__ = ["report_overview"]


def _seconds(value: float) -> float:
    return round(max(0.0, value), 3)


def report_overview(snapshot: ReportSnapshot, now: float) -> dict[str, Any]:
    """What the inspector shows of one report at virtual time ``now``.

    ``seconds_left`` is the virtual time until the report reaches its terminal status: ``None``
    once it is terminal, and for a plan that never ends (the ``stuck`` scenario).
    ``total_seconds`` is the length of the whole lifecycle (``None`` when it never ends);
    ``ends_with`` is the terminal status the plan leads to (``None`` when it never ends).
    """
    record = snapshot.record
    progress = snapshot.progress or {}
    finishes_at = record.finishes_at
    if snapshot.terminal:
        elapsed = snapshot.updated_at - record.created_at
        total: float | None = elapsed
        left: float | None = None
        ends_with: str | None = snapshot.status
    else:
        elapsed = now - record.created_at
        total = None if finishes_at is None else finishes_at - record.created_at
        left = None if finishes_at is None else finishes_at - now
        ends_with = next((phase.status for phase in record.plan if phase.terminal), None)
    next_change = None if snapshot.next_change_at is None else snapshot.next_change_at - now
    return {
        "id": record.id,
        "case_id": record.case_id,
        "type": record.type,
        "scenario": record.scenario,
        "owner": record.owner,
        "demo": record.demo,
        "status": snapshot.status,
        "terminal": snapshot.terminal,
        "current_step": progress.get("current_step"),
        "steps_completed": list(progress.get("steps_completed") or []),
        "message": progress.get("message"),
        "created_at": format_timestamp(record.created_at),
        "updated_at": format_timestamp(snapshot.updated_at),
        "elapsed_seconds": _seconds(elapsed),
        "total_seconds": None if total is None else _seconds(total),
        "seconds_left": None if left is None else _seconds(left),
        "next_change_in_seconds": None if next_change is None else _seconds(next_change),
        "ends_with": ends_with,
    }
