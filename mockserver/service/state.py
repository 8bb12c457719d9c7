"""What both audiences of the service share: settings, the store, the clock, the signer, and
the one way a report is looked up.

A request reads the virtual clock once and looks each report up once: a
:class:`RequestScope` carries that reading and remembers every report found through it, so
the gateway (faults, rate limit), the route and the journal of one request reuse them.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.core.lifecycle import ReportRecord
from mockserver.core.signing import UrlSigner
from mockserver.service.shared_clock import SharedClock
from mockserver.settings import Settings
from mockserver.store.base import CACHE_VERSION_KEY, JournalEntry, LoopPollStore, ReportStore

__all__ = [
    "DOCUMENT_TYPES",
    "Document",
    "DownloadRefused",
    "NotFound",
    "RequestRejected",
    "RequestScope",
    "ServiceError",
    "ServiceState",
    "owner_of_key",
]

#: File extension -> media type of the two documents of a completed report.
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class ServiceError(Exception):
    """Base exception of the service; ``status`` is the HTTP status the adapter answers with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RequestRejected(ServiceError):
    """Raised for a request the documented API answers with 400."""

    status = 400


class NotFound(ServiceError):
    """Raised where the documented API answers 404 (cancel, downloads), not ``data: null``."""

    status = 404


class DownloadRefused(ServiceError):
    """Raised for a download URL that is unsigned, tampered with or expired (403)."""

    status = 403


@dataclass(frozen=True)
class Document:
    """A rendered report document."""

    filename: str
    media_type: str
    content: bytes


def owner_of_key(api_key: str) -> str:
    """The fingerprint reports are filed under, so stores never hold the key itself."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:24]


class RequestScope:
    """One request's reading of the clock, its caller, and the reports it has looked up.

    ``owner`` is the fingerprint of the caller's API key (``None`` without a key). Build it
    with :meth:`ServiceState.scope`; it lives as long as the request.
    """

    __slots__ = ("_found", "deferred_count", "now", "owner", "version")

    def __init__(self, now: float, owner: str | None, *, version: float = 0.0) -> None:
        self.now = now
        self.owner = owner
        #: The store's cache version read with the clock: what cached values must match.
        self.version = version
        #: A shared number to add 1 to with this request's journal entry (a report's
        #: request counter when no fault rule needs its value now), or ``None``.
        self.deferred_count: str | None = None
        #: Reports by (owner or "" for any owner, id, by_case), and by id alone.
        self._found: dict[tuple[str, str, bool], ReportRecord | None] = {}

    def remember(self, record: ReportRecord) -> None:
        """Note a report this request created or changed, so later lookups reuse it."""
        self._found[("", record.id, False)] = record


class ServiceState:
    """The settings, store, shared clock and URL signer of one app, and report lookup."""

    def __init__(
        self,
        settings: Settings,
        store: ReportStore,
        *,
        real_time: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        clock_options: dict[str, Any] = {} if real_time is None else {"real_time": real_time}
        self.clock = SharedClock(
            store, time_scale=settings.time_scale, start_time=settings.start_time, **clock_options
        )
        secret = settings.signing_secret or store.value_or_default(
            "signing.secret", secrets.token_hex(32)
        )
        self.signer = UrlSigner(secret.encode(), settings.url_ttl_seconds)
        self._next_expiry_check = -math.inf

    def scope(self, owner: str | None, report_id: str | None = None) -> RequestScope:
        """A new request's scope: the clock read once, for everything the request does.

        With ``report_id`` (the report the request's path names), that report is read in
        the same store operation as the clock's cache version, and remembered in the scope.
        """
        record, version = self.store.report_and_number(report_id, CACHE_VERSION_KEY)
        scope = RequestScope(self.clock.now_at_version(version), owner, version=version)
        if report_id:
            scope._found[("", report_id, False)] = record
        return scope

    def poll_scope(
        self, owner: str, report_id: str, *, version: float, path: str, query: str, count: str
    ) -> tuple[RequestScope, bool]:
        """A poll's scope and, in the same store operation, its journal entry when this
        worker's caches are as of ``version`` still (the caller knows that no fault rule
        applies then): ``GET path?query`` answered 200 at the scope's time, counting
        ``count``. ``(scope, True)`` when the entry was written; ``(scope, False)`` when the
        report is not the owner's or the caches are stale (then nothing was written).
        """
        entry = self._poll_entry(report_id, version=version, path=path, query=query)
        record, stored, written = self.store.report_number_and_entry(
            report_id, CACHE_VERSION_KEY, owner=owner, expected=version, entry=entry, count=count
        )
        now = entry.at if written else self.clock.now_at_version(stored)
        return self._scope_with(owner, report_id, record, now, stored), written

    async def poll_scope_on_loop(
        self,
        loop_store: LoopPollStore,
        owner: str,
        report_id: str,
        *,
        version: float,
        path: str,
        query: str,
        count: str,
    ) -> RequestScope | None:
        """:meth:`poll_scope` awaited on an event loop through ``loop_store``: the scope when
        the entry was written; ``None`` when it was not (the report is not the owner's or
        the caches are stale: the caller serves the poll the usual way, which reads the
        store afresh). Nothing here waits for the store but the one awaited round trip."""
        entry = self._poll_entry(report_id, version=version, path=path, query=query)
        record, stored, written = await loop_store.report_number_and_entry(
            report_id, CACHE_VERSION_KEY, owner=owner, expected=version, entry=entry, count=count
        )
        return self._scope_with(owner, report_id, record, entry.at, stored) if written else None

    def _poll_entry(self, report_id: str, *, version: float, path: str, query: str) -> JournalEntry:
        """The journal entry of a poll answered 200 now, per this worker's caches as of
        ``version`` (no store operation when they are current)."""
        now = self.clock.now_at_version(version)
        return JournalEntry("GET", path, query, 200, now, report_id, None)

    @staticmethod
    def _scope_with(
        owner: str, report_id: str, record: ReportRecord | None, now: float, version: float
    ) -> RequestScope:
        scope = RequestScope(now, owner, version=version)
        scope._found[("", report_id, False)] = record
        return scope

    def poll_scope_unjournaled(
        self, owner: str, report_id: str, *, version: float, path: str, query: str
    ) -> tuple[RequestScope, JournalEntry | None]:
        """:meth:`poll_scope` with the journal entry returned instead of written: the entry
        (``GET path?query`` answered 200 at the scope's time) when this worker's caches are
        as of ``version`` and the report is the owner's, for the caller to write before it
        answers; ``None`` otherwise (nothing is to be written on this path)."""
        record, stored = self.store.report_and_number(report_id, CACHE_VERSION_KEY)
        now = self.clock.now_at_version(stored)
        scope = self._scope_with(owner, report_id, record, now, stored)
        if record is None or record.owner != owner or stored != version:
            return scope, None
        return scope, JournalEntry("GET", path, query, 200, now, report_id, record.scenario)

    def find(
        self,
        scope: RequestScope,
        report_or_case_id: str,
        *,
        by_case: bool = False,
        any_owner: bool = False,
    ) -> ReportRecord | None:
        """The one way a report is looked up, with the one ownership rule.

        A caller sees the reports filed under its own key; ``any_owner`` is for the callers
        that are trusted with every report (the control API, and a download whose URL
        signature is the authorisation). ``by_case`` falls back to the caller's newest
        report of that case id (``GET /api/reports/:id`` accepts either). Each answer is
        remembered in ``scope``, so a request asks the store once per report.
        """
        owner = "" if any_owner else scope.owner
        if owner is None or not report_or_case_id:
            return None
        key = (owner, report_or_case_id, by_case)
        if key in scope._found:
            return scope._found[key]
        by_id = ("", report_or_case_id, False)
        if by_id in scope._found:
            record = scope._found[by_id]
        else:
            record = scope._found[by_id] = self.store.get_report(report_or_case_id)
        if record is not None and owner and record.owner != owner:
            record = None
        if record is None and by_case and owner:
            newest = self.store.reports_for_case(owner, report_or_case_id)
            record = newest[0] if newest else None
            if record is not None:
                scope.remember(record)
        scope._found[key] = record
        return record

    def forget_expired_reports(self, now: float, *, force: bool = False) -> int:
        """Drop the reports created more than ``RETENTION_SECONDS`` before ``now``; how many.

        Called on every create, but it asks the store only once per hundredth of the
        retention of virtual time (per process), so creating stays cheap; a clock advance
        passes ``force``. Memory is bounded by the reports created within one retention.
        """
        retention = self.settings.retention_seconds
        if not retention or (now < self._next_expiry_check and not force):
            return 0
        self._next_expiry_check = now + retention / 100
        return self.store.remove_reports_created_before(now - retention)

    def new_report_id(self) -> str:
        """A report id no report of this store had: a hash of the seed and a sequence."""
        sequence = self.store.next_sequence()
        digest = hashlib.sha256(f"{self.settings.seed}:{sequence}".encode()).hexdigest()
        return f"rpt_{digest[:16]}"

    @property
    def store_kind(self) -> str:
        """The store's backend: ``memory``, ``sqlite`` or ``redis``."""
        return self.store.kind

    def close(self) -> None:
        """Release the store's connections and files."""
        self.store.close()
