"""The cost of one poll inside the process, without a network: where the time goes.

Calls the mock's WSGI app directly for ``GET /api/reports/<id>`` on a processing and on a
completed report, next to a static Flask route returning the same bytes, and prints the
CPU microseconds per request (best of several rounds) and, with ``--profile``, the functions
that take the time (cProfile).

    .venv/bin/python bench/profile_poll.py [--store sqlite:///tmp/p.db] [--profile completed]
    .venv/bin/python bench/profile_poll.py --without-poll-caches   # the cost before them

It also prints the store operations a poll makes (each a call of the store's interface; on
SQLite one statement or transaction, on Redis one round trip).

``--without-poll-caches`` puts back, for comparison, what the poll path did before it was
profiled: encode the structured report on every poll, sign with ``hmac.new`` and
``urlencode`` on every poll, format each timestamp and work out the host URL every time.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import pstats
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Flask, Response
from werkzeug.test import EnvironBuilder

from mockserver import create_app
from mockserver.app import backend_of
from mockserver.store.base import ReportStore

KEY = "sk-profile"


def call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> bytes:
    """One request through the WSGI interface, as a server would make it."""
    status: list[str] = []

    def start_response(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(code)

    body = b"".join(app(dict(environ), start_response))
    if not status[0].startswith("200"):
        raise RuntimeError(f"{status[0]}: {body[:200]!r}")
    return body


def environ_for(path: str, method: str = "GET", body: object | None = None) -> dict[str, Any]:
    builder = EnvironBuilder(
        path=path,
        method=method,
        headers={"X-API-Key": KEY},
        json=body,
        base_url="http://127.0.0.1:8080",
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


class StoreOperations:
    """Counts the calls of a store's interface, by name, by wrapping the store's methods.

    A call made of other calls of the interface (SQLite's and memory's
    ``report_number_and_entry`` is a read and a write) counts as those calls: only the
    innermost calls are store operations.
    """

    def __init__(self, store: ReportStore) -> None:
        self.counts: dict[str, int] = {}
        self._depth = 0
        self._nested = False
        for name in dir(type(store)):
            method = getattr(store, name)
            if name.startswith("_") or not callable(method) or name == "close":
                continue
            setattr(store, name, self._counting(name, method))

    def _counting(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            self._nested = False
            try:
                return method(*args, **kwargs)
            finally:
                self._depth -= 1
                if not self._nested:  # made no call of the interface: an operation
                    self.counts[name] = self.counts.get(name, 0) + 1
                self._nested = self._depth > 0

        return counted

    def per_call(self, app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> str:
        """The store operations one request makes, e.g. ``2 (append_request, ...)``."""
        self.counts.clear()
        call(app, environ)
        names = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in self.counts.items())
        return f"{sum(self.counts.values())} ({names})"


def microseconds_per_call(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any], count: int
) -> float:
    """CPU time of this thread per call (best of 5 rounds): steady on a busy machine."""
    best = float("inf")
    for _ in range(5):
        started = time.thread_time()
        for _ in range(count):
            call(app, environ)
        best = min(best, (time.thread_time() - started) / count)
    return best * 1e6


def without_poll_caches() -> None:
    """Undo the poll path's caches (see the module docstring), for a before/after."""
    import hashlib
    import hmac
    from urllib.parse import urlencode

    from flask import request

    from mockserver.core import clock, signing, wire
    from mockserver.service import reports_api as service
    from mockserver.web import envelope, reports

    def encode_every_time(body: object) -> str:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False)

    def sign_every_time(self: signing.UrlSigner, base_url: str, path: str, now: float) -> str:
        expires = int(now) + self.ttl_seconds
        message = f"{path}\n{expires}".encode()
        digest = hmac.new(self.secret, message, hashlib.sha256).hexdigest()
        query = urlencode({"expires": expires, "signature": digest})
        return f"{base_url.rstrip('/')}{path}?{query}"

    derive = service._derived_report.__wrapped__

    @functools.lru_cache(maxsize=512)  # cached as before, but as a plain dict
    def derive_plain(profile: Any, report_date: str) -> dict[str, Any]:
        return dict(derive(profile, report_date))

    envelope.dumps_compact = encode_every_time  # type: ignore[assignment]
    signing.UrlSigner.sign = sign_every_time  # type: ignore[method-assign]
    wire.format_timestamp = clock.format_timestamp.__wrapped__  # type: ignore[assignment]
    reports._base_url = lambda: request.host_url
    service._derived_report = derive_plain  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="memory://")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--profile", choices=("processing", "completed"))
    parser.add_argument("--without-poll-caches", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.without_poll_caches:
        without_poll_caches()

    app = create_app({"TIME_SCALE": 0, "STORE": arguments.store})
    ids = {}
    for route, scenario in (("processing", "stuck"), ("completed", "happy")):
        created = app.test_client().post(
            "/api/reports",
            json={"case_id": f"case_{route}", "type": "technical_report"},
            headers={"X-API-Key": KEY, "X-Mock-Scenario": scenario},
        )
        ids[route] = created.get_json()["data"]["id"]
    app.test_client().post("/_mock/clock/advance", json={"seconds": 900})

    operations = StoreOperations(backend_of(app).state.store)
    environs = {route: environ_for(f"/api/reports/{rid}") for route, rid in ids.items()}
    bodies = {route: call(app, environ) for route, environ in environs.items()}
    for route, body in bodies.items():
        assert json.loads(body)["data"]["status"] == route, body[:200]

    static = Flask("static_stub")

    @static.get("/api/reports/<report_id>")
    def stub(report_id: str) -> Response:
        return Response(bodies["completed" if report_id == ids["completed"] else "processing"])

    for route, environ in environs.items():
        mock_cost = microseconds_per_call(app, environ, arguments.count)
        static_cost = microseconds_per_call(static, environ, arguments.count)
        print(
            f"{route:<11} mock {mock_cost:7.1f} µs/poll   static Flask {static_cost:6.1f} µs"
            f"   mock's own work {mock_cost - static_cost:6.1f} µs"
            f"   ({len(bodies[route]):,} bytes)"
        )
        print(f"{'':<11} store operations per poll: {operations.per_call(app, environ)}")
    if arguments.profile:
        environ = environs[arguments.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(arguments.count):
            call(app, environ)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        print(text.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
