"""The documented Reports API as plain Python: what each ``/api`` route and each signed
download does, with no HTTP in sight.

The Flask blueprints translate requests into these calls and the results (or
:class:`~mockserver.service.state.ServiceError`) back into responses. Everything stateful
goes through the store, so several workers sharing a store behave as one server. Each call
takes the request's :class:`~mockserver.service.state.RequestScope`: the clock reading and
the reports already looked up by the gateway are reused, not read again.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from functools import lru_cache
from typing import Any

from mockserver.content.structured_report import build_structured_report
from mockserver.core import messages
from mockserver.core.case_profile import DEMO_PROFILE, CaseProfile, profile_for_case
from mockserver.core.clock import format_timestamp
from mockserver.core.create_request import InvalidCreateRequest, parse_create_request
from mockserver.core.encoded_json import PreEncodedObject
from mockserver.core.lifecycle import (
    CannotCancel,
    ReportRecord,
    ReportSnapshot,
    cancel_report,
    snapshot_at,
)
from mockserver.core.recorded_scenario import REPLAY_PREFIX
from mockserver.core.scenarios import DEFAULT_SCENARIO, SCENARIOS, Scenario, plan_for
from mockserver.core.signing import SignatureCheck, download_path
from mockserver.core.wire import report_data, report_summary
from mockserver.service.scenario_replay import ScenarioReplay
from mockserver.service.state import (
    DOCUMENT_TYPES,
    Document,
    DownloadRefused,
    NotFound,
    RequestRejected,
    RequestScope,
    ServiceState,
)

__all__ = ["DEMO_REPORT_DATE", "ReportsApi"]

#: Demo reports are dated the same on every run, so demos and screenshots repeat exactly.
DEMO_REPORT_DATE = "2025-04-15"


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


class ReportsApi:
    """Creates, derives, lists, cancels and serves reports on the shared virtual clock."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.replay = ScenarioReplay(state)

    def scenario(self, name: str | None) -> Scenario:
        """The scenario a create request asks for, or the server default."""
        chosen = name or self.state.settings.default_scenario  # absent or empty: the default
        if chosen not in SCENARIOS:
            known = ", ".join([*SCENARIOS, *self.replay.labels()])
            raise RequestRejected(messages.UNKNOWN_SCENARIO.format(name=chosen, known=known))
        return SCENARIOS[chosen]

    def create(
        self, scope: RequestScope, body: object, *, scenario_name: str | None, base_url: str
    ) -> dict[str, Any]:
        """``POST /api/reports``: the new report, as it looks at creation."""
        try:
            request = parse_create_request(body)
        except InvalidCreateRequest as error:
            raise RequestRejected(str(error)) from error
        # X-Mock-Scenario: file:NAME, or a server default of file:NAME (absent or empty header)
        replayed = self.replay.chosen(scenario_name or self.state.settings.default_scenario)
        # A replayed report takes nothing from a named scenario: any one stands in for it.
        scenario = self.scenario(DEFAULT_SCENARIO if replayed else scenario_name)
        state, settings = self.state, self.state.settings
        report_id = state.new_report_id()
        if request.use_demo_data:
            profile = replace(DEMO_PROFILE, case_id=request.case_id)
        else:
            wants_biomechanics = request.include_biomechanics
            if scenario.forces_biomechanics and not replayed:
                wants_biomechanics = True
            profile = profile_for_case(
                request.case_id, seed=settings.seed, include_biomechanics=wants_biomechanics
            )
        rng = random.Random(f"{settings.seed}:{report_id}") if settings.jitter else None
        plan = (
            replayed.plan
            if replayed
            else plan_for(
                scenario,
                has_biomechanics=profile.has_biomechanics,
                demo=request.use_demo_data,
                rng=rng,
            )
        )
        assert scope.owner is not None, "the API key check runs before a create"
        record = ReportRecord(
            id=report_id,
            owner=scope.owner,
            case_id=request.case_id,
            type=request.type,
            scenario=replayed.label if replayed else scenario.name,
            created_at=float(int(scope.now)),
            plan=plan,
            profile=profile,
            demo=request.use_demo_data,
            scripted_report=replayed.scripted_report if replayed else None,
            extra_fields=replayed.extra_fields if replayed else None,
        )
        state.store.add_report(record)
        scope.remember(record)
        state.forget_expired_reports(record.created_at)
        return self.wire_report(snapshot_at(record, scope.now), base_url, scope.now)

    def get(
        self, scope: RequestScope, report_or_case_id: str, *, base_url: str
    ) -> dict[str, Any] | None:
        """``GET /api/reports/:id``: the report, or ``None`` (served as ``data: null``)."""
        record = self.state.find(scope, report_or_case_id, by_case=True)
        if record is None:
            return None
        return self.wire_report(snapshot_at(record, scope.now), base_url, scope.now)

    def wire_report(self, snapshot: ReportSnapshot, base_url: str, now: float) -> dict[str, Any]:
        """The wire object, with URLs freshly signed at ``now`` when completed."""
        output = None
        if snapshot.status == "completed":
            record = snapshot.record
            base = self.state.settings.public_base_url or base_url
            sign = self.state.signer.sign
            output = {
                "pdf_url": sign(base, download_path(record.id, "pdf"), now),
                "docx_url": sign(base, download_path(record.id, "docx"), now),
                "report": self.structured_report(record),
            }
            if record.scenario.startswith(REPLAY_PREFIX):  # in the recorded run's shape
                output = self.replay.shaped(record, output)
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

    def list_case(self, scope: RequestScope, case_id: str | None) -> dict[str, Any]:
        """``GET /api/reports?case_id=``: summaries, newest first."""
        if not case_id:
            raise RequestRejected(messages.CASE_ID_QUERY_REQUIRED)
        assert scope.owner is not None, "the API key check runs before a list"
        records = self.state.store.reports_for_case(scope.owner, case_id)
        return {
            "reports": [report_summary(snapshot_at(record, scope.now)) for record in records],
            "total": len(records),
        }

    def cancel(self, scope: RequestScope, report_id: str) -> dict[str, Any]:
        """``DELETE /api/reports/:id``: cancel a pending or processing report."""
        record = self.state.find(scope, report_id)
        if record is None:
            raise NotFound(messages.REPORT_NOT_FOUND)
        now = scope.now
        try:
            cancel_report(record, now)
        except CannotCancel as error:
            raise RequestRejected(str(error)) from error
        stored = self.state.store.mark_cancelled(record.id, now) or record
        # A concurrent cancel may have won with a clock reading a hair later than ours: judge
        # the report as of whichever cancellation the store kept.
        as_of = max(now, stored.cancelled_at or now)
        final = snapshot_at(stored, as_of)
        if final.status != "cancelled":  # it reached a terminal status first
            raise RequestRejected(messages.CANNOT_CANCEL.format(status=final.status))
        return {"id": report_id, "status": "cancelled", "message": messages.CANCEL_SUCCEEDED}

    def open_document(
        self, scope: RequestScope, filename: str, expires: str | None, signature: str | None
    ) -> Document:
        """The document a signed URL names, or :class:`DownloadRefused` / :class:`NotFound`.

        The signature is the authorisation: a valid URL downloads whoever holds it.
        """
        report_id, _, extension = filename.rpartition(".")
        if extension not in DOCUMENT_TYPES or not report_id:
            raise NotFound(messages.DOWNLOAD_NOT_FOUND.format(filename=filename))
        now = scope.now
        verdict = self.state.signer.check(
            download_path(report_id, extension), expires, signature, now
        )
        if verdict is SignatureCheck.MISSING:
            raise DownloadRefused(messages.DOWNLOAD_SIGNATURE_MISSING)
        if verdict is SignatureCheck.INVALID:
            raise DownloadRefused(messages.DOWNLOAD_SIGNATURE_INVALID)
        if verdict is SignatureCheck.EXPIRED:
            expired_at = format_timestamp(float(expires or 0))
            raise DownloadRefused(messages.DOWNLOAD_EXPIRED.format(expired_at=expired_at))
        record = self.state.find(scope, report_id, any_owner=True)
        if record is None or snapshot_at(record, now).status != "completed":
            raise NotFound(messages.DOWNLOAD_NOT_FOUND.format(filename=filename))
        self.replay.check_document(record, extension, filename)
        report_json = json.dumps(self.structured_report(record), sort_keys=True)
        content = _rendered(report_id, extension, report_json)
        return Document(filename, DOCUMENT_TYPES[extension], content)
