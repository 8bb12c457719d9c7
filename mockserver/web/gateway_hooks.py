"""The gateway's hooks on the Flask app: ask :class:`~mockserver.gateway.ApiGateway` about
each ``/api`` and ``/storage`` request (never ``/_mock`` or ``/healthz``) and translate its
answer to HTTP.

1. Before the API (app-wide): the fault of the request; latency sleeps in the gateway, a
   500/502/503/429 answers here in the error envelope, so the API never runs.
2. Before each ``/api`` route, after the API key check (the limit is per key, so a 401 is
   neither counted nor limited): the rate limit, when it is on; 429 past it.
3. After the route: ``X-RateLimit-*`` on every ``/api`` answer; a ``truncate`` or ``non_json``
   fault spoils the body, a ``drop`` replaces it with one that closes the connection.

``drop`` closes the connection without a response: the body iterator shuts the socket down
(``werkzeug.socket``/``gunicorn.socket`` in the WSGI environ) and raises
:class:`ConnectionResetError`, which both servers treat as a lost client.
"""

from __future__ import annotations

import contextlib
import errno
import socket

from flask import Blueprint, Flask, Response, current_app, g, request

from mockserver.asgi_front import DEFERRED_DELAY_KEY
from mockserver.core.fault_choice import NON_JSON_BODY, Fault, truncated
from mockserver.core.rate_limit import RateLimitDecision
from mockserver.gateway import FAULT_HEADER
from mockserver.web import api_gateway, backend, request_scope, route_of_view
from mockserver.web.envelope import send_error

__all__ = ["install_gateway", "journal_fault_label"]

_FAULTED_SEGMENTS = ("api", "storage")


def install_gateway(app: Flask, api: Blueprint, *, rate_limit: bool) -> None:
    """Put the gateway in front of ``app``'s ``/api`` and ``/storage`` routes.

    ``api`` is the blueprint of the documented API: register it first, so that its key
    check runs before the rate limit.
    """
    app.before_request(_inject_before_the_api)
    if rate_limit:
        app.before_request_funcs.setdefault(api.name, []).append(_limit_the_caller)
        app.after_request_funcs.setdefault(api.name, []).append(_add_rate_limit_headers)
    app.after_request(_spoil_the_answer)


def journal_fault_label() -> str | None:
    """The label of the fault injected into the current request, for the journal."""
    fault: Fault | None = g.get("fault")
    return fault.label if fault is not None else None


def _inject_before_the_api() -> Response | None:
    if request.path.split("/", 2)[1] not in _FAULTED_SEGMENTS:
        return None
    route, target_argument = route_of_view(current_app.view_functions.get(request.endpoint or ""))
    target = (request.view_args or {}).get(target_argument) if target_argument else None
    serving = backend()
    gateway = serving.gateway
    target = None if target is None else str(target)
    scope = request_scope(serving, report_id=gateway.report_id_named(route, target))
    # Served, the front waits out a latency fault on its event loop, not in this thread.
    deferred: list[float] | None = request.environ.get(DEFERRED_DELAY_KEY)
    fault = gateway.fault_for(
        scope, route, target, wait=None if deferred is None else deferred.append
    )
    if fault is None:
        return None
    g.fault = fault
    refusal = gateway.refusal_of_fault(fault)
    return None if refusal is None else send_error(refusal.message, refusal.status, refusal.headers)


def _limit_the_caller() -> Response | None:
    gateway = api_gateway()
    decision = gateway.admit(request_scope())
    if decision is None:
        return None
    g.rate_limit = decision
    refusal = gateway.refusal_of_limit(decision)
    return None if refusal is None else send_error(refusal.message, refusal.status, refusal.headers)


def _add_rate_limit_headers(response: Response) -> Response:
    decision: RateLimitDecision | None = g.get("rate_limit")
    if decision is not None:
        response.headers.update(decision.headers())
    return response


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
        response.set_data(NON_JSON_BODY)
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
