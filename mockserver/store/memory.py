"""The in-memory store: the default, for one process."""

from __future__ import annotations

import heapq
import threading
from collections import deque
from dataclasses import replace

from mockserver.lifecycle import ReportRecord
from mockserver.store.base import JournalEntry

__all__ = ["MemoryStore"]


class MemoryStore:
    """Reports in dicts behind one lock; the journal in a bounded ring.

    A heap of ``(created_at, id)`` finds the reports past the retention without a scan.
    """

    kind = "memory"

    def __init__(self, *, journal_size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._reports: dict[str, ReportRecord] = {}
        self._by_case: dict[tuple[str, str], list[str]] = {}
        self._by_age: list[tuple[float, str]] = []
        self._values: dict[str, str] = {}
        self._numbers: dict[str, float] = {}
        self._sequence = 0
        self._journal: deque[JournalEntry] = deque(maxlen=journal_size)

    def add_report(self, record: ReportRecord) -> None:
        with self._lock:
            self._reports[record.id] = record
            self._by_case.setdefault((record.owner, record.case_id), []).append(record.id)
            heapq.heappush(self._by_age, (record.created_at, record.id))

    def get_report(self, report_id: str) -> ReportRecord | None:
        return self._reports.get(report_id)

    def reports_for_case(self, owner: str, case_id: str) -> list[ReportRecord]:
        with self._lock:
            ids = list(self._by_case.get((owner, case_id), ()))
            records = [self._reports[report_id] for report_id in ids]
        return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)

    def recent_reports(self, limit: int) -> list[ReportRecord]:
        with self._lock:
            records = list(self._reports.values())
        return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)[:limit]

    def mark_cancelled(self, report_id: str, at: float) -> ReportRecord | None:
        with self._lock:
            record = self._reports.get(report_id)
            if record is None or record.cancelled_at is not None:
                return record
            updated = replace(record, cancelled_at=at)
            self._reports[report_id] = updated
            return updated

    def remove_all_reports(self) -> int:
        with self._lock:
            count = len(self._reports)
            self._reports.clear()
            self._by_case.clear()
            self._by_age.clear()
            return count

    def remove_reports_created_before(self, cutoff: float) -> int:
        removed = 0
        with self._lock:
            while self._by_age and self._by_age[0][0] < cutoff:
                _, report_id = heapq.heappop(self._by_age)
                record = self._reports.pop(report_id, None)
                if record is None:
                    continue
                removed += 1
                key = (record.owner, record.case_id)
                siblings = self._by_case.get(key, [])
                if report_id in siblings:
                    siblings.remove(report_id)
                if not siblings:
                    self._by_case.pop(key, None)
        return removed

    def report_count(self) -> int:
        return len(self._reports)

    def next_sequence(self) -> int:
        with self._lock:
            self._sequence += 1
            return self._sequence

    def value_or_default(self, key: str, default: str) -> str:
        with self._lock:
            return self._values.setdefault(key, default)

    def set_value(self, key: str, value: str) -> None:
        with self._lock:
            self._values[key] = value

    def add_to_number(self, key: str, amount: float) -> float:
        with self._lock:
            total = self._numbers.get(key, 0.0) + amount
            self._numbers[key] = total
            return total

    def number(self, key: str) -> float:
        return self._numbers.get(key, 0.0)

    def append_request(self, entry: JournalEntry) -> None:
        with self._lock:
            self._journal.append(entry)

    def requests(self, limit: int) -> tuple[list[JournalEntry], int]:
        with self._lock:
            entries = list(self._journal)
        return entries[-limit:] if limit else [], len(entries)

    def clear_requests(self) -> None:
        with self._lock:
            self._journal.clear()

    def close(self) -> None:
        return None
