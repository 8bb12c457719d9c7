"""The server's tests run once per store backend: memory, SQLite and a real ``redis-server``.

``app`` and ``app_factory`` are overridden here so that every API test in this folder runs
against each backend (test ids end in ``[memory]``, ``[sqlite]``, ``[redis]``). Choose a subset
with ``REPORTS_MOCK_TEST_STORES=memory,sqlite`` for a quicker local run.

On SQLite and Redis the app is two apps on one store, as two worker processes would be, and
successive requests alternate between them: each has its own service, clock and caches, so
every API test also checks that the state the workers share is all the state there is.
(``test_multiworker.py`` does the same with real processes under the production server.)

The Redis server is the Debian ``redis-server`` binary, started here on a free loopback port
for the session, without persistence; each app gets its own key prefix. When the binary is
missing the Redis runs are skipped, except under CI (``CI`` set), where that is a failure:
``scripts/install-system-deps.sh`` installs it.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from mockserver.app import backend_of

from ..conftest import require_binary

BACKENDS = ("memory", "sqlite", "redis")
SHARED_BACKENDS = ("sqlite", "redis")


def selected_backends() -> list[str]:
    """The backends ``REPORTS_MOCK_TEST_STORES`` names (default: all of them)."""
    raw = os.environ.get("REPORTS_MOCK_TEST_STORES", ",".join(BACKENDS))
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown:
        raise pytest.UsageError(f"REPORTS_MOCK_TEST_STORES names {unknown}: use {BACKENDS}")
    return chosen


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def alternating(*workers: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that hands each request to the next of ``workers`` in turn."""
    turns = itertools.cycle(workers)

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return next(turns)(environ, start_response)

    return serve


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """A ``redis-server`` on ``127.0.0.1:port`` without persistence, once it answers a ping.

    Skips the test when the binary is missing (fails it under CI, ``CI`` set); the caller
    terminates the process."""
    binary = require_binary("redis-server", package="redis-server")
    import redis

    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return process
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.terminate()
                    process.wait(timeout=10)
                    raise
                time.sleep(0.02)
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://127.0.0.1:<port>/0`` of a real ``redis-server`` that lives for the session."""
    port = free_port()
    process = start_redis(port, tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def new_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """``new_store_url(backend)``: the URL of a fresh, empty store of that backend."""
    counter = itertools.count()

    def make(backend: str) -> str:
        if backend == "memory":
            return "memory://"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path}/store-{next(counter)}.db"
        base: str = request.getfixturevalue("redis_server")
        return f"{base}?prefix=test-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture(params=selected_backends())
def store_backend(request: pytest.FixtureRequest) -> str:
    """The backend this run of an API test uses."""
    backend: str = request.param
    return backend


@pytest.fixture
def app_factory(
    app_factory: Callable[..., Flask], store_backend: str, new_store_url: Callable[[str], str]
) -> Iterator[Callable[..., Flask]]:
    """The suite's ``app_factory``, on a fresh store of ``store_backend`` for every app."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        overrides.setdefault("STORE", new_store_url(store_backend))
        app = app_factory(**overrides)
        made.append(app)
        if store_backend in SHARED_BACKENDS:
            second_worker = app_factory(**overrides)
            made.append(second_worker)
            app.wsgi_app = alternating(app.wsgi_app, second_worker.wsgi_app)  # type: ignore[method-assign]
        return app

    yield factory
    for app in made:
        backend_of(app).state.close()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    """A mock on a frozen clock, on a fresh store of ``store_backend``."""
    return app_factory()


@dataclass
class LiveServer:
    """A ``mockserver serve`` process and the base URL it printed."""

    process: subprocess.Popen[str]
    url: str
    banner: str

    def stop(self) -> None:
        """Stop it as a container runtime would (SIGTERM), and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()


SERVE_COMMAND = (sys.executable, "-m", "mockserver", "serve")


@pytest.fixture
def start_server() -> Iterator[Callable[..., LiveServer]]:
    """``start_server(*options, command=..., env=...)``: a live server, stopped after the test.

    ``command`` defaults to ``python -m mockserver serve --port 0``; ``env`` is added to this
    process's environment. Returns once the server printed where it listens.
    """
    started: list[LiveServer] = []

    def start(
        *options: str,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> LiveServer:
        argv = [*(command or [*SERVE_COMMAND, "--port", "0"]), *options]
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"listening on http://[^:/]+:(\d+)", banner)
        if match is None:
            process.kill()
            rest = process.stdout.read()
            process.stdout.close()
            raise AssertionError(f"{argv} did not start: {banner}{rest}")
        server = LiveServer(process, f"http://127.0.0.1:{match.group(1)}", banner)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
