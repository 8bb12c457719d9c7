"""The mock's own control API under ``/_mock/`` (no API key), and ``/healthz``.

Never under ``/api``; switched off with ``CONTROL_API = False`` for a public sandbox.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from mockserver.core import messages
from mockserver.service import NotFound, RequestRejected
from mockserver.web import api_gateway, control_api
from mockserver.web.envelope import read_json_body, send_success

__all__ = ["control", "health"]

control = Blueprint("control", __name__, url_prefix="/_mock")
health = Blueprint("health", __name__)

MAX_JOURNAL_LIMIT = 10_000
DEFAULT_OVERVIEW_LIMIT = 50
MAX_OVERVIEW_LIMIT = 500


def _limit(default: int, most: int) -> int:
    """The ``?limit=`` query parameter: ASCII digits only (not ``²`` or ``٣``), 1 to ``most``."""
    raw = request.args.get("limit", str(default))
    digits = raw.isascii() and raw.isdigit() and len(raw) <= len(str(most))
    if not digits or not 1 <= int(raw) <= most:
        raise RequestRejected(f"limit must be a whole number from 1 to {most}, e.g. limit={most}")
    return int(raw)


@health.get("/healthz")
def healthz() -> Response:
    """Readiness: the store answers and the clock runs."""
    return send_success(control_api().health())


@control.get("/clock")
def read_clock() -> Response:
    return send_success(control_api().clock_view())


@control.post("/clock/advance")
def advance_clock() -> Response:
    return send_success(control_api().advance_clock(read_json_body()))


@control.post("/reset")
def reset() -> Response:
    api_gateway().faults.clear()  # run-time faults end with the test that set them
    return send_success(control_api().reset())


@control.get("/faults")
def read_faults() -> Response:
    """The server-wide fault rules, their seed, and whether they were set at run time."""
    return send_success(api_gateway().faults.view())


@control.put("/faults")
def replace_faults() -> Response:
    """Replace the server-wide rules: ``{"rules": ["503@polls=3,4"], "seed": 7}``."""
    return send_success(api_gateway().faults.replace(read_json_body()))


@control.delete("/faults")
def clear_faults() -> Response:
    """Back to the configured rules (``FAULTS``, ``--fault``)."""
    return send_success(api_gateway().faults.clear())


@control.get("/requests")
def list_requests() -> Response:
    """The journal; ``?format=scenario`` (``&report_id=``): its reports as scenario files."""
    limit = _limit(MAX_JOURNAL_LIMIT, MAX_JOURNAL_LIMIT)
    wanted = request.args.get("format")
    if wanted is None:
        return send_success(control_api().journal(limit))
    if wanted != "scenario":
        raise RequestRejected(messages.JOURNAL_BAD_FORMAT.format(format=wanted))
    exported = control_api().journal_scenarios(
        limit, report_id=request.args.get("report_id"), base_url=request.host_url
    )
    return send_success(exported)


@control.delete("/requests")
def clear_requests() -> Response:
    control_api().clear_journal()
    return send_success(control_api().journal(MAX_JOURNAL_LIMIT))


@control.get("/scenarios")
def list_scenarios() -> Response:
    return send_success(control_api().scenario_list())


@control.get("/reports")
def list_report_overviews() -> Response:
    """Every owner's newest reports with status, scenario, step and virtual time left."""
    return send_success(
        control_api().report_overviews(_limit(DEFAULT_OVERVIEW_LIMIT, MAX_OVERVIEW_LIMIT))
    )


@control.get("/reports/<report_id>/overview")
def read_report_overview(report_id: str) -> Response:
    """One report of any owner as the inspector shows it; 404 when unknown."""
    found = control_api().report_overview(report_id)
    if found is None:
        raise NotFound(messages.REPORT_NOT_FOUND)
    return send_success(found)


@control.post("/reports")
def create_scripted_report() -> Response:
    return send_success(control_api().create_scripted(read_json_body(), base_url=request.host_url))
