"""The documented Reports API under ``/api``: create, get, list, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, g, request
from werkzeug.wsgi import get_current_url

from mockserver.core import messages
from mockserver.core.fault_rules import rules_to_spec
from mockserver.gateway import REPORT_FAULTS_HEADER, parse_report_rules
from mockserver.service import RequestRejected
from mockserver.web import (
    API_KEY_HEADER,
    api_gateway,
    gateway_route,
    reports_api,
    request_scope,
)
from mockserver.web.envelope import read_json_body, send_error, send_success

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["API_KEY_HEADER", "SCENARIO_HEADER", "base_url_of", "reports"]

#: Mock-only: chooses the scenario of a report on create.
SCENARIO_HEADER = "X-Mock-Scenario"

reports = Blueprint("reports", __name__, url_prefix="/api")


@reports.before_request
def require_api_key() -> Response | None:
    """Documented: every call carries ``X-API-Key``; a missing or invalid key is a 401."""
    key = request.headers.get(API_KEY_HEADER, "").strip()
    if not key:
        return send_error(messages.MISSING_API_KEY, 401)
    accepted = current_app.config.get("API_KEYS")
    if not key.startswith("sk-") or (accepted and key not in accepted):
        return send_error(messages.INVALID_API_KEY, 401)
    g.owner = request_scope().owner
    return None


#: ``request.host_url`` by the request fields it is made of (a few hosts at most; bounded).
_HOST_URLS: dict[tuple[object, ...], str] = {}


def base_url_of(environ: WSGIEnvironment, trusted_hosts: list[str] | None = None) -> str:
    """The request's ``host_url`` (``http://host:port/``), as werkzeug works it out."""
    key = (
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
    )
    found = _HOST_URLS.get(key)
    if found is None:  # werkzeug's host_url costs as much as deriving the report
        found = get_current_url(environ, host_only=True, trusted_hosts=trusted_hosts)
        if len(_HOST_URLS) < 256:
            _HOST_URLS[key] = found
    return found


def _base_url() -> str:
    return base_url_of(request.environ, current_app.config.get("TRUSTED_HOSTS"))


def _ascii_header(name: str) -> str | None:
    """A mock-only header's value; a 400 when it holds a byte outside ASCII.

    Servers hand such bytes over as Latin-1 (PEP 3333) or drop them; either way the value
    is not what the client meant, so it is refused rather than read as absent.
    """
    value = request.headers.get(name)
    if value is not None and not value.isascii():
        raise RequestRejected(messages.HEADER_NOT_ASCII.format(name=name))
    return value


@reports.post("/reports")
@gateway_route("create")
def create_report() -> Response:
    body = read_json_body()
    faults = parse_report_rules(_ascii_header(REPORT_FAULTS_HEADER))
    created = reports_api().create(
        request_scope(),
        body,
        scenario_name=_ascii_header(SCENARIO_HEADER),
        base_url=_base_url(),
    )
    g.journal_report_id = created["id"]
    response = send_success(created)
    if faults:
        api_gateway().faults.attach(created["id"], faults)
        response.headers[REPORT_FAULTS_HEADER] = rules_to_spec(faults)
    return response


@reports.get("/reports")
@gateway_route("list")
def list_reports() -> Response:
    return send_success(reports_api().list_case(request_scope(), request.args.get("case_id")))


@reports.get("/reports/<report_id>")
@gateway_route("poll", target="report_id")
def get_report(report_id: str) -> Response:
    found = reports_api().get(request_scope(), report_id, base_url=_base_url())
    g.journal_report_id = found["id"] if found else report_id
    return send_success(found)


@reports.delete("/reports/<report_id>")
@gateway_route("cancel", target="report_id")
def cancel_report(report_id: str) -> Response:
    return send_success(reports_api().cancel(request_scope(), report_id))
