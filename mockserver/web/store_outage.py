"""A store that stops answering (Redis down, SQLite locked) is a 503 with ``Retry-After``.

Not a 500 "this is a bug": nothing is wrong with the request or the mock, and the client
should try again shortly. Each worker logs an outage once when it starts (with its reason)
and once when the store answers again (with how long it lasted and how many requests got a
503), never once per request: ten seconds of Redis downtime under load used to write 8 MB
of tracebacks. Nothing is restarted; the first request after the store is back succeeds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app

from mockserver.service import RequestScope
from mockserver.web import Backend, backend
from mockserver.web.envelope import send_error

__all__ = [
    "OUTAGE_RETRY_AFTER_SECONDS",
    "STORE_OUTAGE_ERRORS",
    "StoreOutage",
    "install_store_outage_handler",
    "is_store_outage",
    "outage_answer",
    "outage_tracker_of",
    "record_in_journal",
    "store_outage",
    "store_outage_response",
]

#: What ``Retry-After`` tells a client to wait before trying again.
OUTAGE_RETRY_AFTER_SECONDS = 1
_EXTENSION_KEY = "mockserver.store_outage"


def _outage_errors() -> tuple[type[Exception], ...]:
    import redis

    # OperationalError is SQLite's "database is locked", "unable to open database file",
    # "attempt to write a readonly database" and "disk I/O error".
    return (
        sqlite3.OperationalError,
        redis.ConnectionError,  # refused, reset, and BusyLoadingError while Redis loads
        redis.TimeoutError,
        redis.exceptions.ReadOnlyError,  # a replica that is not (yet) the primary
    )


STORE_OUTAGE_ERRORS: tuple[type[Exception], ...] = _outage_errors()


def is_store_outage(error: BaseException | None) -> bool:
    """Whether ``error`` means the store is unreachable or busy, not that the mock is wrong."""
    return isinstance(error, STORE_OUTAGE_ERRORS)


class StoreOutage:
    """One worker's view of its store's outages: logs the start and the end of each once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._refused = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException, log: Any, *, refused: bool = True) -> None:
        """A request found the store unavailable (and was ``refused`` a 503 for it)."""
        with self._lock:
            self._refused += int(refused)
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.error(
            "store unavailable (%s: %s); answering 503 with Retry-After until it is back",
            type(error).__name__,
            error,
        )

    def answered(self, log: Any) -> None:
        """A write got through to the store (the request journal's): the outage is over.

        Not a read: a locked SQLite file still answers reads, and would end every outage.
        """
        if self._since is None:
            return
        with self._lock:
            if self._since is None:
                return
            lasted = time.monotonic() - self._since
            refused, self._since, self._refused = self._refused, None, 0
        log.warning(
            "store available again after %.1f s; %d request(s) were answered 503", lasted, refused
        )


def record_in_journal(
    serving: Backend,
    tracker: StoreOutage,
    log: Any,
    scope_of: Callable[[], RequestScope],
    entry: tuple[str, str, str, int, str | None, str | None],
) -> BaseException | None:
    """Journal an answered request: ``entry`` is (method, path, query, status, report id,
    fault label). ``None`` when the answer stands; the store's error when it must become
    the outage's 503 instead: a poll whose count goes with its entry (neither was written,
    so the client retries and nothing it did is lost). Any other request took effect: its
    answer stands and the outage is logged once.
    """
    method, path, query, status, report_id, fault = entry
    scope = None
    try:
        scope = scope_of()
        serving.control.record_request(scope, method, path, query, status, report_id, fault=fault)
    except STORE_OUTAGE_ERRORS as error:
        if scope is not None and scope.deferred_count is not None:
            return error
        tracker.failed(error, log, refused=False)
    else:
        tracker.answered(log)
    return None


def outage_tracker_of(app: Flask) -> StoreOutage:
    """``app``'s outage tracker (set up by :func:`install_store_outage_handler`)."""
    tracker: StoreOutage = app.extensions[_EXTENSION_KEY]
    return tracker


def store_outage() -> StoreOutage:
    """The current app's outage tracker."""
    return outage_tracker_of(current_app)


def outage_answer(
    tracker: StoreOutage, log: Any, kind: str, error: BaseException
) -> tuple[str, dict[str, str]]:
    """The 503's message and headers for a request the store failed; counted and logged."""
    tracker.failed(error, log)
    message = (
        f"The mock's {kind} store is unavailable ({type(error).__name__}: {error}); "
        f"try again in {OUTAGE_RETRY_AFTER_SECONDS} s"
    )
    return message, {"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)}


def store_outage_response(error: BaseException) -> Response:
    """The 503 with ``Retry-After`` of a request the store failed (in the current app)."""
    kind = backend().state.store_kind
    message, headers = outage_answer(store_outage(), current_app.logger, kind, error)
    return send_error(message, 503, headers)


def install_store_outage_handler(app: Flask) -> None:
    """Answer store outages with 503 + ``Retry-After`` in the envelope, logged once each."""
    app.extensions[_EXTENSION_KEY] = StoreOutage()
    for error_type in STORE_OUTAGE_ERRORS:
        app.register_error_handler(error_type, store_outage_response)
