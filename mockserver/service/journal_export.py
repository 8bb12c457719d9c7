"""The request journal as scenario files (``GET /_mock/requests?format=scenario``).

For every report the journal mentions and the store still holds, what its client saw: the
report at the virtual time of each answered create, poll and cancel (a poll hit by an
injected fault saw nothing), the completed output, and the downloads that answered. Times
are the report's own (each state from the moment its phase began), so the export replays
exactly; it is written by the same :class:`~mockserver.core.lifecycle_observer.ObservedLifecycle`
as ``mockserver record``'s files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.core.clock import format_timestamp
from mockserver.core.lifecycle import ReportRecord, snapshot_at
from mockserver.core.lifecycle_observer import ObservedLifecycle
from mockserver.service.reports_api import ReportsApi
from mockserver.store.base import JournalEntry

__all__ = ["JOURNAL_SOURCE", "journal_scenarios"]

#: ``recorded.from`` of an exported scenario.
JOURNAL_SOURCE = "journal"
_REPORTS_PATH = "/api/reports/"
_DOWNLOADS_PATH = "/storage/reports/"


def _report_of(entry: JournalEntry) -> str | None:
    """The report a journal entry concerns (a cancel's id is in its path only)."""
    if entry.report_id:
        return entry.report_id
    if entry.method == "DELETE" and entry.path.startswith(_REPORTS_PATH):
        return entry.path[len(_REPORTS_PATH) :] or None
    return None


def _observe(
    seen: ObservedLifecycle,
    record: ReportRecord,
    entry: JournalEntry,
    reports: ReportsApi,
    base_url: str,
) -> None:
    if entry.fault is not None:
        return  # a faulted answer showed the client nothing of the report
    snapshot = snapshot_at(record, entry.at)
    if entry.path.startswith(_DOWNLOADS_PATH):
        kind = entry.path.rpartition(".")[2]
        if entry.status == 200 or (entry.status == 404 and snapshot.status == "completed"):
            seen.saw_document(kind, available=entry.status == 200)
        return
    if entry.status != 200 or not entry.path.startswith("/api/reports"):
        return
    if entry.method == "DELETE":
        seen.saw_cancel()
    wire = reports.wire_report(snapshot, base_url, entry.at)
    seen.saw_report(wire, snapshot.updated_at - record.created_at)


def journal_scenarios(
    reports: ReportsApi,
    entries: Sequence[JournalEntry],
    *,
    base_url: str,
    report_id: str | None = None,
) -> list[dict[str, Any]]:
    """A scenario file for each report of ``entries`` still stored (or only ``report_id``),
    in the order the journal first mentions them."""
    state = reports.state
    scope = state.scope(None)
    observed: dict[str, tuple[ObservedLifecycle, ReportRecord]] = {}
    for entry in entries:
        concerned = _report_of(entry)
        if concerned is None or (report_id is not None and concerned != report_id):
            continue
        if concerned not in observed:
            record = state.find(scope, concerned, any_owner=True)
            if record is None:
                continue  # forgotten (reset, retention): nothing to replay
            seen = ObservedLifecycle(
                name=record.id, report_id=record.id, case_id=record.case_id, source=JOURNAL_SOURCE
            )
            seen.saw_request(
                record.type,
                {
                    "use_demo_data": record.demo,
                    "include_biomechanics": record.profile.has_biomechanics,
                },
            )
            # What the create answered, whether or not the journal still holds the create.
            created = snapshot_at(record, record.created_at)
            wire = reports.wire_report(created, base_url, record.created_at)
            seen.saw_report(wire, 0.0, counted=False)
            observed[concerned] = (seen, record)
        seen, record = observed[concerned]
        _observe(seen, record, entry, reports, base_url)
    recorded_at = format_timestamp(scope.now)
    return [seen.document(recorded_at) for seen, _ in observed.values()]
