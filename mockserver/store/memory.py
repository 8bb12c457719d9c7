"""The in-memory store: the default, for one process."""

from __future__ import annotations

import heapq
import sys
import threading
import weakref
from collections import deque
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from mockserver.core.case_profile import CaseProfile
from mockserver.core.lifecycle import Phase, ReportRecord
from mockserver.store.base import JournalEntry, journal_if_current

__all__ = ["MemoryStore"]

#: Lapsed expiring numbers are swept when there are more than twice as many as after the last
#: sweep (and at least this many), so sweeping costs O(1) per call on average.
_EXPIRING_MINIMUM = 1024
#: Distinct plans kept for sharing; past this (seeded jitter makes every plan unique) the
#: table starts again, so it never holds more than this many plans no report uses.
_SHARED_PLANS_LIMIT = 4096


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in for a JSON value, equal exactly when the values are equal."""
    if isinstance(value, dict):
        return ("{", tuple(sorted((key, _frozen(item)) for key, item in value.items())))
    if isinstance(value, list | tuple):
        return ("[", tuple(_frozen(item) for item in value))
    return (type(value).__name__, value)


def _plan_key(plan: tuple[Phase, ...]) -> Hashable:
    return tuple((p.after_seconds, p.status, _frozen(p.progress)) for p in plan)


class MemoryStore:
    """Reports in dicts behind one lock; the journal in a bounded ring.

    A heap of ``(created_at, id)`` finds the reports past the retention without a scan.
    Reports share equal plans, case profiles and owner strings instead of each keeping its
    own copy: most of a report's memory is its plan, and a scenario has only a few.
    """

    kind = "memory"

    def __init__(self, *, journal_size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._reports: dict[str, ReportRecord] = {}
        self._by_case: dict[tuple[str, str], list[str]] = {}
        self._by_age: list[tuple[float, str]] = []
        self._values: dict[str, str] = {}
        self._numbers: dict[str, float] = {}
        self._expiring: dict[str, tuple[float, float]] = {}  # key -> (total, expires_at)
        self._expiring_high_water = _EXPIRING_MINIMUM
        self._sequence = 0
        self._journal: deque[JournalEntry] = deque(maxlen=journal_size)
        self._shared_plans: dict[Hashable, tuple[Phase, ...]] = {}
        self._shared_profiles: weakref.WeakValueDictionary[CaseProfile, CaseProfile] = (
            weakref.WeakValueDictionary()
        )

    def _sharing(self, record: ReportRecord) -> ReportRecord:
        """``record`` with its plan, profile and strings shared with equal earlier ones."""
        key = _plan_key(record.plan)
        plan = self._shared_plans.get(key)
        if plan is None:
            if len(self._shared_plans) >= _SHARED_PLANS_LIMIT:
                self._shared_plans.clear()
            plan = self._shared_plans[key] = record.plan
        profile = self._shared_profiles.setdefault(record.profile, record.profile)
        return replace(
            record,
            plan=plan,
            profile=profile,
            owner=sys.intern(record.owner),
            case_id=sys.intern(record.case_id),
        )

    def add_report(self, record: ReportRecord) -> None:
        with self._lock:
            record = self._sharing(record)
            self._reports[record.id] = record
            self._by_case.setdefault((record.owner, record.case_id), []).append(record.id)
            heapq.heappush(self._by_age, (record.created_at, record.id))

    def get_report(self, report_id: str) -> ReportRecord | None:
        return self._reports.get(report_id)

    def report_and_number(
        self, report_id: str | None, key: str
    ) -> tuple[ReportRecord | None, float]:
        record = self._reports.get(report_id) if report_id else None
        return record, self._numbers.get(key, 0.0)

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
        return journal_if_current(
            self, report_id, key, owner=owner, expected=expected, entry=entry, count=count
        )

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

    def value(self, key: str) -> str | None:
        return self._values.get(key)

    def add_to_expiring_number(
        self, key: str, amount: float, *, now: float, expires_at: float
    ) -> float:
        with self._lock:
            total, expiry = self._expiring.get(key, (0.0, now))
            if expiry <= now:
                total = 0.0
            total += amount
            self._expiring[key] = (total, expires_at)
            if len(self._expiring) > self._expiring_high_water:
                self._expiring = {k: v for k, v in self._expiring.items() if v[1] > now}
                self._expiring_high_water = max(_EXPIRING_MINIMUM, 2 * len(self._expiring))
            return total

    def append_request(self, entry: JournalEntry, *, count: str | None = None) -> None:
        with self._lock:
            self._journal.append(entry)
            if count is not None:
                self._numbers[count] = self._numbers.get(count, 0.0) + 1

    def requests(self, limit: int) -> tuple[list[JournalEntry], int]:
        with self._lock:
            entries = list(self._journal)
        return entries[-limit:] if limit else [], len(entries)

    def clear_requests(self) -> None:
        with self._lock:
            self._journal.clear()

    def close(self) -> None:
        return None
