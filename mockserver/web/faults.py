"""Injected faults on ``/api`` and ``/storage`` (never ``/_mock`` or ``/healthz``).

Three sources of rules, all applied together (a report's own first):

- the server's (``FAULTS`` setting, ``--fault``, ``MOCKSERVER_FAULTS``), replaced at run time
  by ``PUT /_mock/faults`` and restored by ``DELETE /_mock/faults`` or ``POST /_mock/reset``;
- a report's own, from the ``X-Mock-Faults`` header of the ``POST /api/reports`` that created
  it (they strike the requests that concern that report: its GETs, its DELETE, its downloads).

Where a fault strikes in the request path:

- ``latency``: a real (wall-clock) sleep before the API runs, at most 10 s per request;
- ``500``/``502``/``503``/``429``: answered before the API runs, in the error envelope, so
  the request has no effect (as at a gateway); 429 and optionally 503 carry ``Retry-After``;
- ``truncate``/``non_json``/``drop``: applied to the API's answer, so the request *did* take
  effect (a create made its report, a cancel cancelled) but the client cannot read the answer.
  ``drop`` closes the connection without a response: the body iterator shuts the socket down
  (``werkzeug.socket``/``gunicorn.socket`` in the WSGI environ) and raises
  :class:`ConnectionResetError`, which both servers treat as a lost client; an HTTP client sees
  a connection error.

Rules, counters and the run-time plan live in the store, so every worker agrees on the plan
and on each report's poll numbers. The journal names the fault of each faulted request.
"""

from __future__ import annotations

import contextlib
import errno
import json
import socket
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import Flask, Response, current_app, g, request

from mockserver import messages
from mockserver.asgi_front import DEFERRED_DELAY_KEY
from mockserver.faults import (
    FAULT_KINDS,
    ROUTES,
    Fault,
    FaultRequest,
    FaultRule,
    FaultSpecError,
    Route,
    choose_fault,
    parse_rules,
    rules_to_json,
    rules_to_spec,
    truncated,
)
from mockserver.faults import NON_JSON_BODY as _NON_JSON_BODY
from mockserver.service import RequestRejected, owner_of_key
from mockserver.store.base import ReportStore
from mockserver.web import service
from mockserver.web.envelope import send_error

__all__ = [
    "FAULTS_EXTENSION_KEY",
    "FAULT_HEADER",
    "REPORT_FAULTS_HEADER",
    "FaultInjector",
    "fault_injector",
    "install_faults",
    "journal_fault_label",
    "report_faults_from_header",
]

FAULTS_EXTENSION_KEY = "reports_mock.faults"
#: Mock-only, on ``POST /api/reports``: the faults of the report it creates (echoed back).
REPORT_FAULTS_HEADER = "X-Mock-Faults"
#: Mock-only, on every faulted response that reaches the client: what was injected.
FAULT_HEADER = "X-Mock-Fault"

_FAULTED_SEGMENTS = ("api", "storage")
_ROUTES_BY_ENDPOINT: dict[str, Route] = {
    "reports.create_report": "create",
    "reports.get_report": "poll",
    "reports.list_reports": "list",
    "reports.cancel_report": "cancel",
    "storage.download_document": "download",
}
_STATUS_MESSAGES = {
    500: messages.FAULT_INTERNAL_ERROR,
    502: messages.FAULT_BAD_GATEWAY,
    503: messages.FAULT_SERVICE_UNAVAILABLE,
}
_RUNTIME_KEY = "faults.runtime"
_EPOCH_KEY = "faults.epoch"


def _report_key(report_id: str) -> str:
    return f"faults.report.{report_id}"


def _count_key(scope: str, route: str) -> str:
    return f"faults.count.{scope}.{route}"


@lru_cache(maxsize=256)
def _rules_from_text(text: str) -> tuple[FaultRule, ...]:
    return parse_rules(json.loads(text))


@lru_cache(maxsize=16)
def _runtime_from_text(text: str) -> tuple[tuple[FaultRule, ...], int]:
    stored = json.loads(text)
    return parse_rules(stored["rules"]), int(stored["seed"])


class FaultInjector:
    """The fault plan of one app, kept in its store: what to inject, and into which request."""

    def __init__(
        self,
        store: ReportStore,
        *,
        configured: tuple[FaultRule, ...],
        seed: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._configured = configured
        self._seed = seed
        #: How latency waits; tests replace it to record the delay instead.
        self.sleep = sleep

    # --- the server-wide plan (GET/PUT/DELETE /_mock/faults) ------------------------------

    def active(self) -> tuple[tuple[FaultRule, ...], int, str]:
        """The server-wide rules, their seed, and where they come from (configured/runtime)."""
        text = self._store.value(_RUNTIME_KEY)
        if not text:
            return self._configured, self._seed, "configured"
        rules, seed = _runtime_from_text(text)
        return rules, seed, "runtime"

    def view(self) -> dict[str, Any]:
        """``GET /_mock/faults``."""
        rules, seed, source = self.active()
        return {
            "source": source,
            "seed": seed,
            "rules": rules_to_json(rules),
            "spec": rules_to_spec(rules),
            "faults": list(FAULT_KINDS),
            "routes": list(ROUTES),
        }

    def replace(self, body: object) -> dict[str, Any]:
        """``PUT /_mock/faults`` with ``{"rules": [...], "seed": N}``: the new plan."""
        if not isinstance(body, dict) or "rules" not in body:
            problem = "the body must be a JSON object with a rules field"
            raise RequestRejected(messages.FAULT_PLAN_INVALID.format(problem=problem))
        unknown = sorted(set(body) - {"rules", "seed"})
        if unknown:
            problem = f"unknown field {unknown[0]!r}"
            raise RequestRejected(messages.FAULT_PLAN_INVALID.format(problem=problem))
        seed = body.get("seed", self._seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            problem = messages.FAULT_BAD_SEED.format(value=json.dumps(seed)[:40])
            raise RequestRejected(messages.FAULT_PLAN_INVALID.format(problem=problem))
        try:
            rules = parse_rules(body["rules"])
        except FaultSpecError as error:
            raise RequestRejected(messages.FAULT_PLAN_INVALID.format(problem=error)) from error
        stored = {"rules": rules_to_json(rules), "seed": seed}
        self._store.set_value(_RUNTIME_KEY, json.dumps(stored, sort_keys=True))
        self._store.add_to_number(_EPOCH_KEY, 1)
        return self.view()

    def clear(self) -> dict[str, Any]:
        """``DELETE /_mock/faults`` (and ``POST /_mock/reset``): back to the configured plan."""
        self._store.set_value(_RUNTIME_KEY, "")
        self._store.add_to_number(_EPOCH_KEY, 1)
        return self.view()

    # --- per-report rules (X-Mock-Faults on create) ---------------------------------------

    def attach(self, report_id: str, rules: tuple[FaultRule, ...]) -> None:
        """Give a new report its own rules."""
        self._store.set_value(_report_key(report_id), json.dumps(rules_to_json(rules)))

    def report_rules(self, report_id: str) -> tuple[FaultRule, ...]:
        """The report's own rules (none unless it was created with ``X-Mock-Faults``)."""
        text = self._store.value(_report_key(report_id))
        return _rules_from_text(text) if text else ()

    # --- choosing ---------------------------------------------------------------------------

    def choose(self, route: Route, owner: str | None, report_id: str | None) -> Fault | None:
        """The fault of one request, counting it first.

        A request that concerns a report counts within that report and route, from its
        creation on (so a poll's number is the report's n-th GET whenever rules appear); any
        other request counts within its API key and route since the plan last changed.
        """
        rules, seed, _ = self.active()
        if report_id is not None:
            rules = self.report_rules(report_id) + rules
            if route != "poll" and not rules:
                return None
            scope = report_id
        else:
            if not any(not rule.polls for rule in rules):
                return None  # poll-number rules need a report
            epoch = int(self._store.number(_EPOCH_KEY))
            scope = f"{owner or 'anonymous'}@{epoch}"
        number = int(self._store.add_to_number(_count_key(scope, route), 1))
        if not rules:
            return None
        return choose_fault(rules, seed, FaultRequest(route, scope, number, report_id))


def fault_injector() -> FaultInjector:
    """The app's :class:`FaultInjector`."""
    found: FaultInjector = current_app.extensions[FAULTS_EXTENSION_KEY]
    return found


def report_faults_from_header(value: str | None) -> tuple[FaultRule, ...]:
    """The rules of an ``X-Mock-Faults`` header; a 400 naming the problem when unreadable."""
    if value is None or not value.strip():
        return ()
    try:
        return parse_rules(value)
    except FaultSpecError as error:
        raise RequestRejected(messages.FAULT_HEADER_INVALID.format(problem=error)) from error


def journal_fault_label() -> str | None:
    """The label of the fault injected into the current request, for the journal."""
    fault: Fault | None = g.get("fault")
    return fault.label if fault is not None else None


# --- the hooks ------------------------------------------------------------------------------


def install_faults(app: Flask, injector: FaultInjector) -> None:
    """Apply ``injector``'s faults to every ``/api`` and ``/storage`` request of ``app``."""
    app.extensions[FAULTS_EXTENSION_KEY] = injector
    app.before_request(_inject_before_the_api)
    app.after_request(_spoil_the_answer)


def _faulted_path(path: str) -> bool:
    return path.split("/", 2)[1] in _FAULTED_SEGMENTS


def _owner() -> str | None:
    from mockserver.web.reports import API_KEY_HEADER  # the reports blueprint imports us

    key = request.headers.get(API_KEY_HEADER, "").strip()
    return owner_of_key(key) if key else None


def _report_concerned(route: Route, owner: str | None) -> str | None:
    arguments = request.view_args or {}
    if route == "poll" and owner is not None:
        found = service().find(owner, str(arguments.get("report_id", "")))
        return found.id if found is not None else None
    if route == "cancel" and owner is not None:
        record = service().store.get_report(str(arguments.get("report_id", "")))
        return record.id if record is not None and record.owner == owner else None
    if route == "download":
        report_id = str(arguments.get("filename", "")).rpartition(".")[0]
        record = service().store.get_report(report_id) if report_id else None
        return record.id if record is not None else None
    return None


def _inject_before_the_api() -> Response | None:
    if not _faulted_path(request.path):
        return None
    route = _ROUTES_BY_ENDPOINT.get(request.endpoint or "", "other")
    owner = _owner()
    injector = fault_injector()
    fault = injector.choose(route, owner, _report_concerned(route, owner))
    if fault is None:
        return None
    g.fault = fault
    if fault.latency_ms:
        deferred = request.environ.get(DEFERRED_DELAY_KEY)
        if deferred is not None:  # served: the front waits on its event loop, not a thread
            deferred.append(fault.latency_ms / 1000)
        else:
            injector.sleep(fault.latency_ms / 1000)
    status = fault.status
    if status is None:
        return None
    headers = {FAULT_HEADER: fault.label}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if status == 429:
        message = messages.FAULT_TOO_MANY_REQUESTS.format(seconds=fault.retry_after)
    else:
        message = _STATUS_MESSAGES[status]
    return send_error(message, status, headers)


def _spoil_the_answer(response: Response) -> Response:
    fault: Fault | None = g.get("fault")
    if fault is None:
        return response
    if fault.kind == "drop":
        return _dropped_connection(response.status_code, response.content_length or 0)
    response.headers[FAULT_HEADER] = fault.label
    if fault.kind == "truncate":
        response.direct_passthrough = False
        response.set_data(truncated(response.get_data()))
    elif fault.kind == "non_json":
        response.set_data(_NON_JSON_BODY)
        response.mimetype = "text/html"
    return response


class _ConnectionCloser:
    """A body that, instead of yielding its first chunk, closes the connection unanswered."""

    def __init__(self, connection: object) -> None:
        self._connection = connection

    def __iter__(self) -> _ConnectionCloser:
        return self

    def __next__(self) -> bytes:
        if isinstance(self._connection, socket.socket):
            with contextlib.suppress(OSError):
                self._connection.shutdown(socket.SHUT_RDWR)
        raise ConnectionResetError(errno.ECONNRESET, "connection dropped by an injected fault")


def _dropped_connection(status: int, length: int) -> Response:
    """A response that never reaches the client: its body closes the connection instead.

    Werkzeug and gunicorn put the connection in the environ, so it is shut down before a byte
    of the answer is written: the client sees the connection close with no response at all
    (``requests.ConnectionError``). Granian keeps its connections to itself and writes the
    status line and headers before the body is asked for; there the declared
    ``Content-Length`` goes unmet, so granian closes the connection after the headers and
    the client sees it break mid-answer (``requests.exceptions.ChunkedEncodingError``).
    """
    environ = request.environ
    connection = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    dropped = Response(_ConnectionCloser(connection), status=status)
    dropped.headers["Content-Length"] = str(max(length, 1))
    return dropped
