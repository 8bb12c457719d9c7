"""The Reports API as plain Python: what each route does, with no HTTP in sight.

The Flask blueprints translate requests into these calls and the results (or
:class:`ServiceError`) back into responses. Everything stateful goes through the store, so
several workers sharing a store behave as one server.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import schemas
from mockserver import messages
from mockserver.case_profile import DEMO_PROFILE, CaseProfile, profile_for_case
from mockserver.clock import format_timestamp
from mockserver.create_request import InvalidCreateRequest, parse_create_request
from mockserver.encoded_json import PreEncodedObject
from mockserver.lifecycle import (
    CannotCancel,
    LifecycleError,
    Phase,
    ReportRecord,
    ReportSnapshot,
    cancel_report,
    snapshot_at,
)
from mockserver.overview import report_overview
from mockserver.scenarios import SCENARIOS, Scenario, plan_for
from mockserver.settings import Settings
from mockserver.shared_clock import SharedClock
from mockserver.signing import SignatureCheck, UrlSigner, download_path
from mockserver.store.base import JournalEntry, ReportStore
from mockserver.structured_report import build_structured_report
from mockserver.wire import report_data, report_summary

__all__ = [
    "DOCUMENT_TYPES",
    "MAX_ADVANCE_SECONDS",
    "Document",
    "DownloadRefused",
    "NotFound",
    "ReportService",
    "RequestRejected",
    "ServiceError",
    "owner_of_key",
]

#: File extension -> media type of the two documents of a completed report.
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
MAX_ADVANCE_SECONDS = 365 * 24 * 3600
#: Demo reports are dated the same on every run, so demos and screenshots repeat exactly.
DEMO_REPORT_DATE = "2025-04-15"
SCRIPTED_SCENARIO = "scripted"


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


@lru_cache(maxsize=512)
def _derived_report(profile: CaseProfile, report_date: str) -> dict[str, Any]:
    # Pre-encoded: polls send its cached JSON text instead of encoding it again each time.
    return PreEncodedObject(build_structured_report(profile, report_date=report_date))


@lru_cache(maxsize=256)
def _scripted_report(report_json: str) -> Any:
    report = json.loads(report_json)
    return PreEncodedObject(report) if isinstance(report, dict) else report


@lru_cache(maxsize=64)
def _rendered(report_id: str, extension: str, report_json: str) -> bytes:
    # Imported on the first download: fpdf2 and python-docx take half the server's startup.
    # Served workers render in helper processes, off the GIL polls need (render_pool).
    from mockserver.render_pool import render_document

    return render_document(extension, json.loads(report_json), report_id)


class ReportService:
    """Creates, derives, lists, cancels and serves reports on the shared virtual clock."""

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

    # --- retention ------------------------------------------------------------------------

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

    # --- reports --------------------------------------------------------------------------

    def scenario(self, name: str | None) -> Scenario:
        """The scenario a create request asks for, or the server default."""
        chosen = name or self.settings.default_scenario  # absent or empty: the default
        if chosen not in SCENARIOS:
            known = ", ".join(SCENARIOS)
            raise RequestRejected(messages.UNKNOWN_SCENARIO.format(name=chosen, known=known))
        return SCENARIOS[chosen]

    def create(
        self, owner: str, body: object, *, scenario_name: str | None, base_url: str
    ) -> dict[str, Any]:
        """``POST /api/reports``: the new report, as it looks at creation."""
        try:
            request = parse_create_request(body)
        except InvalidCreateRequest as error:
            raise RequestRejected(str(error)) from error
        scenario = self.scenario(scenario_name)
        report_id = self._new_report_id()
        if request.use_demo_data:
            profile = replace(DEMO_PROFILE, case_id=request.case_id)
        else:
            wants_biomechanics = request.include_biomechanics
            if scenario.forces_biomechanics:
                wants_biomechanics = True
            profile = profile_for_case(
                request.case_id, seed=self.settings.seed, include_biomechanics=wants_biomechanics
            )
        rng = random.Random(f"{self.settings.seed}:{report_id}") if self.settings.jitter else None
        plan = plan_for(
            scenario, has_biomechanics=profile.has_biomechanics, demo=request.use_demo_data, rng=rng
        )
        record = ReportRecord(
            id=report_id,
            owner=owner,
            case_id=request.case_id,
            type=request.type,
            scenario=scenario.name,
            created_at=float(int(self.clock.now())),
            plan=plan,
            profile=profile,
            demo=request.use_demo_data,
        )
        self.store.add_report(record)
        self.forget_expired_reports(record.created_at)
        return self.wire_report(self.snapshot(record), base_url)

    def _new_report_id(self) -> str:
        sequence = self.store.next_sequence()
        digest = hashlib.sha256(f"{self.settings.seed}:{sequence}".encode()).hexdigest()
        return f"rpt_{digest[:16]}"

    def find(self, owner: str, report_or_case_id: str) -> ReportRecord | None:
        """The owner's report with this id, else the owner's newest report of this case id."""
        record = self.store.get_report(report_or_case_id)
        if record is not None and record.owner == owner:
            return record
        newest = self.store.reports_for_case(owner, report_or_case_id)
        return newest[0] if newest else None

    def snapshot(self, record: ReportRecord) -> ReportSnapshot:
        """The report now."""
        return snapshot_at(record, self.clock.now())

    def get(self, owner: str, report_or_case_id: str, *, base_url: str) -> dict[str, Any] | None:
        """``GET /api/reports/:id``: the report, or ``None`` (served as ``data: null``)."""
        record = self.find(owner, report_or_case_id)
        return None if record is None else self.wire_report(self.snapshot(record), base_url)

    def wire_report(self, snapshot: ReportSnapshot, base_url: str) -> dict[str, Any]:
        """The wire object, with freshly signed URLs when completed."""
        output = None
        if snapshot.status == "completed":
            record = snapshot.record
            base = self.settings.public_base_url or base_url
            now = self.clock.now()
            output = {
                "pdf_url": self.signer.sign(base, download_path(record.id, "pdf"), now),
                "docx_url": self.signer.sign(base, download_path(record.id, "docx"), now),
                "report": self.structured_report(record),
            }
        return report_data(snapshot, output)

    def structured_report(self, record: ReportRecord) -> dict[str, Any] | None:
        """The ``output.report`` of a completed report (scripted, or derived from its case)."""
        if record.scripted_report is not None:
            scripted: dict[str, Any] | None = _scripted_report(record.scripted_report)
            return scripted
        if record.demo:
            report_date = DEMO_REPORT_DATE
        else:
            finished = record.finishes_at if record.finishes_at is not None else record.created_at
            report_date = format_timestamp(finished)[:10]
        return _derived_report(record.profile, report_date)

    def list_case(self, owner: str, case_id: str | None) -> dict[str, Any]:
        """``GET /api/reports?case_id=``: summaries, newest first."""
        if not case_id:
            raise RequestRejected(messages.CASE_ID_QUERY_REQUIRED)
        now = self.clock.now()
        records = self.store.reports_for_case(owner, case_id)
        return {
            "reports": [report_summary(snapshot_at(record, now)) for record in records],
            "total": len(records),
        }

    def cancel(self, owner: str, report_id: str) -> dict[str, Any]:
        """``DELETE /api/reports/:id``: cancel a pending or processing report."""
        record = self.store.get_report(report_id)
        if record is None or record.owner != owner:
            raise NotFound(messages.REPORT_NOT_FOUND)
        now = self.clock.now()
        try:
            cancel_report(record, now)
        except CannotCancel as error:
            raise RequestRejected(str(error)) from error
        stored = self.store.mark_cancelled(report_id, now) or record
        # A concurrent cancel may have won with a clock reading a hair later than ours: judge
        # the report as of whichever cancellation the store kept.
        as_of = max(now, stored.cancelled_at or now)
        final = snapshot_at(stored, as_of)
        if final.status != "cancelled":  # it reached a terminal status first
            raise RequestRejected(messages.CANNOT_CANCEL.format(status=final.status))
        return {"id": report_id, "status": "cancelled", "message": messages.CANCEL_SUCCEEDED}

    # --- downloads ------------------------------------------------------------------------

    def open_document(self, filename: str, expires: str | None, signature: str | None) -> Document:
        """The document a signed URL names, or :class:`DownloadRefused` / :class:`NotFound`."""
        report_id, _, extension = filename.rpartition(".")
        if extension not in DOCUMENT_TYPES or not report_id:
            raise NotFound(messages.DOWNLOAD_NOT_FOUND.format(filename=filename))
        now = self.clock.now()
        verdict = self.signer.check(download_path(report_id, extension), expires, signature, now)
        if verdict is SignatureCheck.MISSING:
            raise DownloadRefused(messages.DOWNLOAD_SIGNATURE_MISSING)
        if verdict is SignatureCheck.INVALID:
            raise DownloadRefused(messages.DOWNLOAD_SIGNATURE_INVALID)
        if verdict is SignatureCheck.EXPIRED:
            expired_at = format_timestamp(float(expires or 0))
            raise DownloadRefused(messages.DOWNLOAD_EXPIRED.format(expired_at=expired_at))
        record = self.store.get_report(report_id)
        if record is None or snapshot_at(record, now).status != "completed":
            raise NotFound(messages.DOWNLOAD_NOT_FOUND.format(filename=filename))
        report_json = json.dumps(self.structured_report(record), sort_keys=True)
        content = _rendered(report_id, extension, report_json)
        return Document(filename, DOCUMENT_TYPES[extension], content)

    # --- control --------------------------------------------------------------------------

    def clock_view(self) -> dict[str, Any]:
        """The virtual clock, as ``GET /_mock/clock`` shows it."""
        now = self.clock.now()
        return {
            "now": format_timestamp(now),
            "epoch_seconds": now,
            "time_scale": self.clock.time_scale,
            "advanced_seconds": self.clock.advanced_seconds(),
        }

    def advance_clock(self, body: object) -> dict[str, Any]:
        """``POST /_mock/clock/advance`` with ``{"seconds": N}``."""
        seconds = body.get("seconds") if isinstance(body, dict) else None
        valid = (
            isinstance(seconds, int | float)
            and not isinstance(seconds, bool)
            and math.isfinite(seconds)
            and 0 <= seconds <= MAX_ADVANCE_SECONDS
        )
        if not valid or not isinstance(body, dict) or set(body) != {"seconds"}:
            raise RequestRejected(messages.CONTROL_BAD_SECONDS.format(maximum=MAX_ADVANCE_SECONDS))
        assert isinstance(seconds, int | float)
        self.forget_expired_reports(self.clock.advance(float(seconds)), force=True)
        return self.clock_view()

    def reset(self) -> dict[str, Any]:
        """``POST /_mock/reset``: forget every report and the journal (the clock keeps time)."""
        removed = self.store.remove_all_reports()
        self.store.clear_requests()
        return {"reports_removed": removed}

    def scenario_list(self) -> dict[str, Any]:
        """``GET /_mock/scenarios``."""
        return {
            "scenarios": [
                {"name": s.name, "description": s.description, "outcome": s.outcome}
                for s in SCENARIOS.values()
            ],
            "default": self.settings.default_scenario,
        }

    def report_overviews(self, limit: int) -> dict[str, Any]:
        """``GET /_mock/reports``: every owner's newest reports, as the inspector shows them."""
        clock = self.clock_view()
        now = clock["epoch_seconds"]
        records = self.store.recent_reports(limit)
        overviews = [report_overview(snapshot_at(record, now), now) for record in records]
        return {"reports": overviews, "clock": clock}

    def report_overview(self, report_id: str) -> dict[str, Any] | None:
        """``GET /_mock/reports/:id/overview``: one report of any owner, or ``None``."""
        record = self.store.get_report(report_id)
        if record is None:
            return None
        clock = self.clock_view()
        now = clock["epoch_seconds"]
        return {"report": report_overview(snapshot_at(record, now), now), "clock": clock}

    def inspect(self, report_id: str, *, base_url: str) -> dict[str, Any] | None:
        """The wire object of a report whoever owns it (the inspector reads every owner's)."""
        record = self.store.get_report(report_id)
        return None if record is None else self.wire_report(self.snapshot(record), base_url)

    def create_scripted(self, body: object, *, base_url: str) -> dict[str, Any]:
        """``POST /_mock/reports``: a report whose timeline and content the caller chose."""
        problems = schemas.errors(body, "scripted-report-request")
        if problems:
            raise RequestRejected("Invalid scripted report: " + "; ".join(problems))
        assert isinstance(body, dict)
        phases = tuple(
            Phase(float(step["after_seconds"]), step["status"], step.get("progress"))
            for step in body["timeline"]
        )
        report_id = self._new_report_id()
        case_id = body["case_id"]
        try:
            record = ReportRecord(
                id=report_id,
                owner=owner_of_key(body["api_key"]),
                case_id=case_id,
                type=body.get("type", "technical_report"),
                scenario=SCRIPTED_SCENARIO,
                created_at=float(int(self.clock.now())),
                plan=phases,
                profile=profile_for_case(case_id, seed=self.settings.seed),
                scripted_report=json.dumps(body["report"]) if "report" in body else None,
                extra_fields=body.get("extra_fields"),
            )
        except LifecycleError as error:
            raise RequestRejected(f"Invalid scripted report: {error}") from error
        self.store.add_report(record)
        self.forget_expired_reports(record.created_at)
        return self.wire_report(self.snapshot(record), base_url)

    # --- journal --------------------------------------------------------------------------

    def record_request(
        self,
        method: str,
        path: str,
        query: str,
        status: int,
        report_id: str | None,
        fault: str | None = None,
    ) -> None:
        """Add a request to the journal, with the scenario of the report it concerned and
        the fault injected into it, if any."""
        record = self.store.get_report(report_id) if report_id else None
        entry = JournalEntry(
            method=method,
            path=path,
            query=query,
            status=status,
            at=self.clock.now(),
            report_id=report_id,
            scenario=record.scenario if record else None,
            fault=fault,
        )
        self.store.append_request(entry)

    def journal(self, limit: int) -> dict[str, Any]:
        """``GET /_mock/requests``: the newest ``limit`` requests, oldest first."""
        entries, total = self.store.requests(limit)
        return {
            "requests": [
                {
                    "method": e.method,
                    "path": e.path,
                    "query": e.query,
                    "status": e.status,
                    "at": format_timestamp(e.at),
                    "epoch_seconds": e.at,
                    "report_id": e.report_id,
                    "scenario": e.scenario,
                    "fault": e.fault,
                }
                for e in entries
            ],
            "total": total,
        }

    def health(self) -> Mapping[str, Any]:
        """``GET /healthz``."""
        return {"status": "ok", "store": self.store.kind, "time_scale": self.clock.time_scale}
