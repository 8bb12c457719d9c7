"""The storage interface: what the service needs from a backend, and nothing more.

Backends keep reports, a few shared values (the clock anchor, the signing secret, the id
sequence) and the request journal, so that every worker and replica that opens the same store
sees the same reports at the same virtual time and signs URLs with the same secret.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from mockserver.core.lifecycle import ReportRecord

__all__ = [
    "CACHE_VERSION_KEY",
    "JournalEntry",
    "ReportStore",
    "StoreError",
    "journal_if_current",
]

#: The shared number every worker reads with a request's first store operation: whoever
#: changes a value that workers cache (the clock's anchor or advance, the fault plan, a
#: report's own fault rules) adds 1 to it after the change, and the others read again.
CACHE_VERSION_KEY = "cache.version"


class StoreError(Exception):
    """Raised when a store URL cannot be opened or a backend misbehaves."""


@dataclass(frozen=True)
class JournalEntry:
    """One request the mock received, as ``GET /_mock/requests`` reports it."""

    method: str
    path: str
    query: str
    status: int
    at: float  # virtual Unix time
    report_id: str | None
    scenario: str | None
    fault: str | None = None  # the injected fault, e.g. "503" or "latency=350ms+drop"


class ReportStore(Protocol):
    """What every backend implements. All methods are safe to call from several threads."""

    #: The backend's name as ``/healthz`` shows it (``memory``, ``sqlite``, ``redis``).
    kind: str

    def add_report(self, record: ReportRecord) -> None:
        """Store a new report."""

    def get_report(self, report_id: str) -> ReportRecord | None:
        """The report with this id, or ``None``."""

    def report_and_number(
        self, report_id: str | None, key: str
    ) -> tuple[ReportRecord | None, float]:
        """In one operation (one round trip): the report (``None`` when absent or no id is
        given) and the shared number under ``key`` (0 when absent).

        A request's first store operation: the report it concerns and the store's version
        of what workers cache (see :class:`~mockserver.service.shared_clock.SharedClock`).
        """

    def report_number_and_entry(
        self,
        report_id: str,
        key: str,
        *,
        owner: str,
        expected: float,
        entry: JournalEntry,
        count: str,
    ) -> tuple[ReportRecord | None, float, bool]:
        """As :meth:`report_and_number`, and in the same operation, only when the report
        exists, is filed under ``owner`` and the number under ``key`` is ``expected``:
        :meth:`append_request` of ``entry`` with the report's scenario, counting ``count``.
        The last value says whether the entry was written.

        A poll's one round trip: the worker guesses its journal entry from its caches (as of
        cache version ``expected``) and the store keeps it only if the guess holds.
        """

    def reports_for_case(self, owner: str, case_id: str) -> list[ReportRecord]:
        """The owner's reports of a case, newest first."""

    def recent_reports(self, limit: int) -> list[ReportRecord]:
        """Up to ``limit`` reports of every owner, newest first."""

    def mark_cancelled(self, report_id: str, at: float) -> ReportRecord | None:
        """Set ``cancelled_at`` unless already set; the stored record after the call."""

    def remove_all_reports(self) -> int:
        """Forget every report; how many there were."""

    def remove_reports_created_before(self, cutoff: float) -> int:
        """Forget the reports created before virtual time ``cutoff`` (retention); how many."""

    def report_count(self) -> int:
        """How many reports the store holds."""

    def next_sequence(self) -> int:
        """A number never returned before by this store (1, 2, 3, ...)."""

    def value_or_default(self, key: str, default: str) -> str:
        """The shared value under ``key``, storing ``default`` first if there is none."""

    def set_value(self, key: str, value: str) -> None:
        """Replace the shared value under ``key``."""

    def add_to_number(self, key: str, amount: float) -> float:
        """Atomically add ``amount`` to a shared number (0 when absent); the new total."""

    def number(self, key: str) -> float:
        """The shared number under ``key`` (0 when absent)."""

    def value(self, key: str) -> str | None:
        """The shared value under ``key``, or ``None`` (unlike ``value_or_default``, no write)."""

    def add_to_expiring_number(
        self, key: str, amount: float, *, now: float, expires_at: float
    ) -> float:
        """Atomically add ``amount`` to a number that lapses at ``expires_at``; the new total.

        A number whose expiry is at or before ``now`` counts from 0 again and takes the new
        expiry; backends may forget lapsed numbers. Times are the caller's (the mock passes
        virtual time), so advancing the virtual clock lapses them too. Rate-limit windows.
        """

    def append_request(self, entry: JournalEntry, *, count: str | None = None) -> None:
        """Add to the journal, forgetting the oldest entries past its capacity.

        With ``count``, add 1 to the shared number under that key in the same write (a
        report's request counter, counted with its journal entry instead of on its own).
        """

    def requests(self, limit: int) -> tuple[list[JournalEntry], int]:
        """The newest ``limit`` journal entries, oldest first, and how many it holds."""

    def clear_requests(self) -> None:
        """Empty the journal."""

    def close(self) -> None:
        """Release connections and files."""


class LoopPollStore(Protocol):
    """A store's poll round trip awaited on an event loop (Redis: a served worker's polls
    wait for the network there, not in a thread)."""

    async def report_number_and_entry(
        self,
        report_id: str,
        key: str,
        *,
        owner: str,
        expected: float,
        entry: JournalEntry,
        count: str,
    ) -> tuple[ReportRecord | None, float, bool]:
        """:meth:`ReportStore.report_number_and_entry`, awaited."""


def journal_if_current(
    store: ReportStore,
    report_id: str,
    key: str,
    *,
    owner: str,
    expected: float,
    entry: JournalEntry,
    count: str,
) -> tuple[ReportRecord | None, float, bool]:
    """:meth:`ReportStore.report_number_and_entry` as two operations, for the stores where
    an operation costs no round trip (memory, SQLite: the write takes the lock either way)."""
    record, number = store.report_and_number(report_id, key)
    if record is None or record.owner != owner or number != expected:
        return record, number, False
    store.append_request(replace(entry, scenario=record.scenario), count=count)
    return record, number, True
