"""The documented JSON shapes of reports, built from snapshots.

Pure: no Flask, no I/O. The URLs and the structured report of ``output`` are passed in by the
service, which knows the signer and the documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.clock import format_timestamp
from mockserver.core.lifecycle import ReportSnapshot

__all__ = ["report_data", "report_summary"]


def report_data(snapshot: ReportSnapshot, output: Mapping[str, Any] | None) -> dict[str, Any]:
    """The report object of ``GET /api/reports/:id`` (documented field order)."""
    record = snapshot.record
    data: dict[str, Any] = dict(record.extra_fields or {})
    data.update(
        {
            "id": record.id,
            "case_id": record.case_id,
            "type": record.type,
            "status": snapshot.status,
            "progress": None if snapshot.progress is None else dict(snapshot.progress),
            "output": None if output is None else dict(output),
            "created_at": format_timestamp(record.created_at),
            "updated_at": format_timestamp(snapshot.updated_at),
        }
    )
    return data


def report_summary(snapshot: ReportSnapshot) -> dict[str, Any]:
    """One entry of ``GET /api/reports?case_id=`` (summaries only, as documented)."""
    record = snapshot.record
    return {
        "id": record.id,
        "case_id": record.case_id,
        "type": record.type,
        "status": snapshot.status,
        "created_at": format_timestamp(record.created_at),
    }
