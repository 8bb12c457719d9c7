"""The poll's lean path: ``GET /api/reports/<id>`` answered without Flask's dispatch.

A poll is most of a client's traffic, and under a server Flask's own work per request (the
request and app contexts, URL matching, the hook chains, the response object) cost more than
everything the mock does for a poll. :class:`FastPoll` sits in front of the Flask app
(``app.wsgi_app``, so the test client and the served worker both go through it) and answers
the common poll itself, with the same service, gateway and journal calls the Flask hooks and
view make, in the same order:

1. the gateway's fault check, on the request's scope (one store read: the report with the
   cache version); the poll is this path's only when no fault rule can strike it;
2. the API key check (only an accepted key comes here: Flask answers the 401s);
3. ``ReportsApi.get`` and the envelope, held to ``schemas/`` when ``VALIDATE_RESPONSES`` is
   on, in the cached compact JSON;
4. the journal entry with the poll's count (one store write); when the store cannot take
   it, the outage's 503 with ``Retry-After``, as Flask answers. A store that is down at
   step 1 is that 503 too, answered here: the store (maybe hung until its timeout) is not
   asked a second time.

When the worker's caches show no fault rule for the report, steps 1 and 4 are one store
operation (:meth:`~mockserver.service.ServiceState.poll_scope`): the entry is written with
the read, and kept only if the caches were current and the report is the caller's (then the
answer is a 200 whatever the report's state). On Redis that makes a poll one round trip,
which a served worker awaits on its event loop (:meth:`FastPoll.answer_on_loop`).

Everything else goes to Flask unchanged: other routes and methods, a missing or refused key,
a poll that a fault rule may strike or that the rate limit counts, and any other error. A
poll handed over after step 1 carries its scope in the environ (:data:`SCOPE_ENVIRON_KEY`),
so Flask does not read the store again; one whose entry was written already is marked
(:data:`JOURNALED_ENVIRON_KEY`), so Flask writes no second one. The app's hooks are checked
once: if anything beyond the ones reproduced here is registered, the lean path stands aside
and Flask answers all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

from mockserver.core.encoded_json import dumps_compact
from mockserver.service import JournalEntry, LoopPollStore, owner_of_key
from mockserver.web import EXTENSION_KEY, JOURNALED_ENVIRON_KEY, SCOPE_ENVIRON_KEY, Backend
from mockserver.web.envelope import check_against_contract
from mockserver.web.reports import base_url_of
from mockserver.web.store_outage import (
    StoreOutage,
    is_store_outage,
    outage_answer,
    outage_tracker_of,
    record_in_journal,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "REPRODUCED_HOOKS",
    "FastPoll",
    "PollAnswer",
    "UnjournaledPoll",
    "install_fast_poll",
]

_POLL_PREFIX = "/api/reports/"
_OPENAPI_PATH = "/api/reports/{report_id}"
#: The Flask hooks whose work :class:`FastPoll` does itself (module.qualname); an app with
#: any other ``before``/``after``/``teardown`` hook or URL preprocessor keeps Flask for all.
REPRODUCED_HOOKS = frozenset(
    {
        "mockserver.web.gateway_hooks._inject_before_the_api",
        "mockserver.web.reports.require_api_key",
        "mockserver.web.gateway_hooks._spoil_the_answer",
        "mockserver.app._journal_request",
    }
)
#: API keys whose owner fingerprint a worker keeps (a few keys per deployment; bounded).
_CACHED_OWNERS = 1024


@dataclass(frozen=True)
class PollAnswer:
    """A whole answer: status, headers, body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTP_STATUS_CODES.get(self.status, 'UNKNOWN')}"


@dataclass(frozen=True)
class _CachedPoll:
    """A poll this path serves from the worker's caches: what the request names, and the
    cache version and poll counter its journal entry goes with."""

    path: str
    query: str
    target: str
    owner: str
    version: float
    count: str


@dataclass(frozen=True)
class UnjournaledPoll:
    """A poll's answer, to be sent once its journal entry (counting ``count``) is written."""

    answer: PollAnswer
    entry: JournalEntry
    count: str


def _hook_names(app: Flask) -> set[str]:
    chains: list[Any] = [
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        app.url_value_preprocessors,
    ]
    return {
        f"{hook.__module__}.{hook.__qualname__}"
        for chain in chains
        for hooks in chain.values()
        for hook in hooks
    }


class FastPoll:
    """WSGI middleware answering unfaulted polls; Flask (``flask_wsgi``) answers the rest."""

    def __init__(self, app: Flask, flask_wsgi: WSGIApplication) -> None:
        self._flask = flask_wsgi
        self._backend: Backend = app.extensions[EXTENSION_KEY]
        self._tracker: StoreOutage = outage_tracker_of(app)
        self._log = app.logger
        self._accepted: Any = app.config.get("API_KEYS")
        self._mode = str(app.config.get("VALIDATE_RESPONSES", "off"))
        self._trusted_hosts = app.config.get("TRUSTED_HOSTS")
        self._owners: dict[str, str] = {}
        unknown = _hook_names(app) - REPRODUCED_HOOKS
        #: Why the lean path stands aside, or ``None`` when it serves polls.
        self.disabled_because: str | None = None
        if self._backend.gateway.rate_limiter is not None:
            self.disabled_because = "the rate limit is on (its count and headers are Flask's)"
        elif unknown:
            self.disabled_because = f"the app has hooks it does not reproduce: {sorted(unknown)}"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = self.answer(environ)
        if answer is None:
            return self._flask(environ, start_response)
        start_response(answer.status_line, answer.headers)
        return [answer.body]

    def _owner(self, key: str) -> str:
        owner = self._owners.get(key)
        if owner is None:
            if len(self._owners) >= _CACHED_OWNERS:
                self._owners.clear()
            owner = self._owners[key] = owner_of_key(key)
        return owner

    def _poll_of(self, environ: WSGIEnvironment) -> tuple[str, str, str] | None:
        """``(path, report id, owner)`` of a poll this path may serve, else ``None``."""
        if self.disabled_because is not None or environ.get("REQUEST_METHOD") != "GET":
            return None
        path: str = environ.get("PATH_INFO", "")
        target = path[len(_POLL_PREFIX) :]
        if (
            not path.startswith(_POLL_PREFIX)
            or not target
            or "/" in target
            or not target.isascii()
            or environ.get("SCRIPT_NAME")
        ):
            return None
        key = environ.get("HTTP_X_API_KEY", "").strip()
        accepted = self._accepted
        if not key.startswith("sk-") or (accepted and key not in accepted):
            return None  # Flask answers the 401, after the gateway's faults
        return path, target, self._owner(key)

    def _cached_poll(self, environ: WSGIEnvironment) -> _CachedPoll | None:
        """The poll this path may serve from this worker's caches (current as of a version,
        no fault rule for the report), else ``None``."""
        poll = self._poll_of(environ)
        return None if poll is None else self._cached(poll, environ)

    def _cached(self, poll: tuple[str, str, str], environ: WSGIEnvironment) -> _CachedPoll | None:
        """:meth:`_cached_poll` of a poll :meth:`_poll_of` accepted."""
        path, target, owner = poll
        version = self._backend.state.clock.cached_version
        faults = self._backend.gateway.faults
        if version is None or not faults.surely_no_rule(version, target):
            return None
        query: str = environ.get("QUERY_STRING", "")
        return _CachedPoll(path, query, target, owner, version, faults.poll_count_key(target))

    def answer_before_journal(self, environ: WSGIEnvironment) -> UnjournaledPoll | None:
        """The 200 answer to a poll whose journal entry is still to be written, for a caller
        that writes it (then calls :meth:`journal_written`) before it sends the answer;
        ``None`` when :meth:`answer` must serve the poll (a fault rule may strike it, the
        caches are stale, the report is not the caller's, or anything failed)."""
        try:
            poll = self._cached_poll(environ)
            if poll is None:
                return None
            scope, entry = self._backend.state.poll_scope_unjournaled(
                poll.owner, poll.target, version=poll.version, path=poll.path, query=poll.query
            )
            if entry is None:
                return None
            body = self._poll_body(scope, poll.target, environ, poll.path)
        except Exception:
            return None  # answer() tries again, and answers as documented
        return UnjournaledPoll(_json_answer(200, body, None), entry, poll.count)

    def answer_on_loop(
        self, environ: WSGIEnvironment, loop_store: LoopPollStore
    ) -> Awaitable[PollAnswer | None] | None:
        """The answer to a poll this worker can serve from its caches with one round trip
        awaited through ``loop_store`` (Redis, on the event loop); ``None`` at once, or
        awaited, when :meth:`answer` must serve it (in a thread: not a cacheable poll, the
        report not the caller's, stale caches, or an answer that failed to build).

        A store that is down or does not answer within its timeout is the outage's 503 with
        ``Retry-After`` right here: the store is not asked a second time."""
        try:
            poll = self._cached_poll(environ)
        except Exception:
            return None
        return None if poll is None else self._answer_awaiting(poll, environ, loop_store)

    async def _answer_awaiting(
        self, poll: _CachedPoll, environ: WSGIEnvironment, loop_store: LoopPollStore
    ) -> PollAnswer | None:
        try:
            scope = await self._backend.state.poll_scope_on_loop(
                loop_store,
                poll.owner,
                poll.target,
                version=poll.version,
                path=poll.path,
                query=poll.query,
                count=poll.count,
            )
        except Exception as error:
            return self._outage(error, poll.path) if is_store_outage(error) else None
        if scope is None:
            return None
        try:
            body = self._poll_body(scope, poll.target, environ, poll.path)
        except Exception:  # Flask answers as documented (the violation, the 500 envelope)
            return self._to_flask(environ, journaled=True)
        self._tracker.answered(self._log)
        return _json_answer(200, body, None)

    def journal_written(self) -> None:
        """An entry of :meth:`answer_before_journal` was written: an outage this worker saw
        is over."""
        self._tracker.answered(self._log)

    def answer(self, environ: WSGIEnvironment) -> PollAnswer | None:
        """The answer to a poll this path serves; ``None`` when Flask must answer."""
        poll = self._poll_of(environ)
        if poll is None:
            return None
        path, target, owner = poll
        serving = self._backend
        state, gateway = serving.state, serving.gateway
        query: str = environ.get("QUERY_STRING", "")
        journaled = False
        try:
            cached = self._cached(poll, environ)
            if cached is not None:
                # The journal entry goes with the read (one Redis round trip) if the caches
                # still hold: then the answer is 200, whatever the report's state.
                scope, journaled = state.poll_scope(
                    owner,
                    target,
                    version=cached.version,
                    path=path,
                    query=query,
                    count=cached.count,
                )
            else:
                scope = state.scope(owner, target)
            if not journaled and not gateway.unfaulted(scope, "poll", target):
                environ[SCOPE_ENVIRON_KEY] = scope  # Flask counts, chooses and answers
                return None
            body = self._poll_body(scope, target, environ, path)
            found = body["data"]
        except Exception as error:
            if is_store_outage(error):  # the 503 Flask would answer, without asking again
                return self._outage(error, path)
            # A response that breaks the schemas, a bug: Flask answers it as documented
            # (the violation, the 500 envelope).
            return self._to_flask(environ, journaled)
        if journaled:  # a write got through: an outage this worker saw is over
            self._tracker.answered(self._log)
            return _json_answer(200, body, None)
        entry = ("GET", path, query, 200, found["id"] if found else target, None)
        failed = record_in_journal(serving, self._tracker, self._log, lambda: scope, entry)
        if failed is not None:
            return self._outage(failed, path)
        return _json_answer(200, body, None)

    @staticmethod
    def _to_flask(environ: WSGIEnvironment, journaled: bool) -> None:
        """Hand the request to Flask (``None``); when its journal entry and count are written
        already, Flask writes none (:data:`JOURNALED_ENVIRON_KEY`): one request, one entry,
        whose status is the 200 the lean path meant to send."""
        if journaled:
            environ[JOURNALED_ENVIRON_KEY] = True
        return None

    def journal_failed(self, poll: UnjournaledPoll, error: BaseException) -> PollAnswer | None:
        """The answer to a poll of :meth:`answer_before_journal` whose entry could not be
        written: the outage's 503 with ``Retry-After`` when the store is locked or down
        (neither the entry nor the count was written: the client polls again and nothing is
        lost), ``None`` for any other error (then :meth:`answer` serves the poll again)."""
        if not is_store_outage(error):
            return None
        return self._outage(error, poll.entry.path)

    def _outage(self, error: BaseException, path: str) -> PollAnswer:
        kind = self._backend.state.store_kind
        message, headers = outage_answer(self._tracker, self._log, kind, error)
        refusal = {"success": False, "error": message}
        self._check(refusal, 503, path)
        return _json_answer(503, refusal, headers)

    def _poll_body(
        self, scope: Any, target: str, environ: WSGIEnvironment, path: str
    ) -> dict[str, Any]:
        """The 200 envelope of the report as the caller sees it, held to ``schemas/``."""
        found = self._backend.reports.get(
            scope, target, base_url=base_url_of(environ, self._trusted_hosts)
        )
        body = {"success": True, "data": found}
        self._check(body, 200, path)
        return body

    def _check(self, body: dict[str, Any], status: int, path: str) -> None:
        check_against_contract(
            body,
            status,
            method="GET",
            openapi_path=_OPENAPI_PATH,
            path=path,
            mode=self._mode,
            log=self._log,
        )


def _json_answer(status: int, body: dict[str, Any], extra: dict[str, str] | None) -> PollAnswer:
    data = dumps_compact(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    if extra:
        headers += extra.items()
    return PollAnswer(status, headers, data)


def install_fast_poll(app: Flask) -> FastPoll:
    """Put the lean poll path in front of ``app`` (call it last, once every hook is in)."""
    fast = FastPoll(app, app.wsgi_app)
    app.wsgi_app = fast  # type: ignore[method-assign]
    return fast
