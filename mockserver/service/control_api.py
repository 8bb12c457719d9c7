"""The mock's own control API as plain Python: the clock, resets, the request journal,
scenarios, scripted reports and the inspector's views of every owner's reports.

Not part of the documented API: ``/_mock/`` serves it, and ``CONTROL_API = False`` turns it
off. The journal is written here too (for every ``/api`` and ``/storage`` request).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import schemas
from mockserver.core import messages
from mockserver.core.case_profile import profile_for_case
from mockserver.core.clock import format_timestamp
from mockserver.core.lifecycle import LifecycleError, Phase, ReportRecord, snapshot_at
from mockserver.core.overview import report_overview
from mockserver.core.scenarios import SCENARIOS
from mockserver.service.reports_api import ReportsApi
from mockserver.service.state import RequestRejected, RequestScope, ServiceState, owner_of_key
from mockserver.store.base import JournalEntry

__all__ = ["MAX_ADVANCE_SECONDS", "SCRIPTED_SCENARIO", "ControlApi"]

MAX_ADVANCE_SECONDS = 365 * 24 * 3600
SCRIPTED_SCENARIO = "scripted"


class ControlApi:
    """``/_mock/``: steer the clock and the reports, read the journal."""

    def __init__(self, state: ServiceState, reports: ReportsApi) -> None:
        self.state = state
        self._reports = reports

    # --- the clock ------------------------------------------------------------------------

    def clock_view(self) -> dict[str, Any]:
        """The virtual clock, as ``GET /_mock/clock`` shows it."""
        clock = self.state.clock
        now = clock.now()
        return {
            "now": format_timestamp(now),
            "epoch_seconds": now,
            "time_scale": clock.time_scale,
            "advanced_seconds": clock.advanced_seconds(),
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
        now = self.state.clock.advance(float(seconds))
        self.state.forget_expired_reports(now, force=True)
        return self.clock_view()

    # --- reports --------------------------------------------------------------------------

    def reset(self) -> dict[str, Any]:
        """``POST /_mock/reset``: forget every report and the journal (the clock keeps time)."""
        removed = self.state.store.remove_all_reports()
        self.state.store.clear_requests()
        return {"reports_removed": removed}

    def scenario_list(self) -> dict[str, Any]:
        """``GET /_mock/scenarios``."""
        return {
            "scenarios": [
                {"name": s.name, "description": s.description, "outcome": s.outcome}
                for s in SCENARIOS.values()
            ],
            "default": self.state.settings.default_scenario,
        }

    def report_overviews(self, limit: int) -> dict[str, Any]:
        """``GET /_mock/reports``: every owner's newest reports, as the inspector shows them."""
        clock = self.clock_view()
        now = clock["epoch_seconds"]
        records = self.state.store.recent_reports(limit)
        overviews = [report_overview(snapshot_at(record, now), now) for record in records]
        return {"reports": overviews, "clock": clock}

    def report_overview(self, report_id: str) -> dict[str, Any] | None:
        """``GET /_mock/reports/:id/overview``: one report of any owner, or ``None``."""
        clock = self.clock_view()
        now = clock["epoch_seconds"]
        record = self.state.find(RequestScope(now, None), report_id, any_owner=True)
        if record is None:
            return None
        return {"report": report_overview(snapshot_at(record, now), now), "clock": clock}

    def inspect(self, report_id: str, *, base_url: str) -> dict[str, Any] | None:
        """The wire object of a report whoever owns it (the inspector reads every owner's)."""
        scope = self.state.scope(None)
        record = self.state.find(scope, report_id, any_owner=True)
        if record is None:
            return None
        return self._reports.wire_report(snapshot_at(record, scope.now), base_url, scope.now)

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
        state = self.state
        now = state.clock.now()
        case_id = body["case_id"]
        try:
            record = ReportRecord(
                id=state.new_report_id(),
                owner=owner_of_key(body["api_key"]),
                case_id=case_id,
                type=body.get("type", "technical_report"),
                scenario=SCRIPTED_SCENARIO,
                created_at=float(int(now)),
                plan=phases,
                profile=profile_for_case(case_id, seed=state.settings.seed),
                scripted_report=json.dumps(body["report"]) if "report" in body else None,
                extra_fields=body.get("extra_fields"),
            )
        except LifecycleError as error:
            raise RequestRejected(f"Invalid scripted report: {error}") from error
        state.store.add_report(record)
        state.forget_expired_reports(record.created_at)
        return self._reports.wire_report(snapshot_at(record, now), base_url, now)

    # --- the journal ----------------------------------------------------------------------

    def record_request(
        self,
        scope: RequestScope,
        method: str,
        path: str,
        query: str,
        status: int,
        report_id: str | None,
        fault: str | None = None,
    ) -> None:
        """Add a request to the journal, at the request's clock reading, with the scenario of
        the report it concerned (looked up once per request) and its injected fault, if any."""
        record = self.state.find(scope, report_id, any_owner=True) if report_id else None
        entry = JournalEntry(
            method=method,
            path=path,
            query=query,
            status=status,
            at=scope.now,
            report_id=report_id,
            scenario=record.scenario if record else None,
            fault=fault,
        )
        self.state.store.append_request(entry, count=scope.deferred_count)

    def journal(self, limit: int) -> dict[str, Any]:
        """``GET /_mock/requests``: the newest ``limit`` requests, oldest first."""
        entries, total = self.state.store.requests(limit)
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

    def clear_journal(self) -> None:
        """``DELETE /_mock/requests``."""
        self.state.store.clear_requests()

    def health(self) -> Mapping[str, Any]:
        """``GET /healthz``."""
        state = self.state
        return {"status": "ok", "store": state.store.kind, "time_scale": state.clock.time_scale}
