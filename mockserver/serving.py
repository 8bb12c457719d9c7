"""Serving the mock for real: granian with N worker processes, or Werkzeug for debugging.

Granian was chosen over gunicorn by measurement on this project's 2-core machine (wrk on
loopback, ``bench/RESULTS.md``): a static Flask route served about 2x the requests per
second of gunicorn's ``gthread`` and ``sync`` workers, and a bare WSGI function about 6x.

Every worker builds its app from ``MOCKSERVER_*`` environment variables only
(:func:`worker_app`), the same way the container image is configured: ``mockserver serve``
turns its options into those variables before the workers start, so one code path serves
the command line, the Dockerfile and a CI ``services:`` block. Workers agree on state only
through a shared store, so more than one worker needs ``sqlite://`` or ``redis://``.

Granian serves each worker's Flask app through :mod:`mockserver.asgi_front` (its ASGI
interface): request bodies are read on the event loop, so a slow or stalled client holds no
Python thread. What the served mock withstands, and the settings that bound it, are in the
README ("What the served mock withstands") and measured in ``bench/NOTES.md``.
"""

from __future__ import annotations

import argparse
import encodings.idna  # noqa: F401  (imported before any fork: see _announce_when_accepting)
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from mockserver.asgi_front import BufferedWsgiFront, FrontLimits, InlineAnswer, InlineAnswerer
from mockserver.options import SERVE_DEFAULTS, serve_option
from mockserver.process_guard import MAIN_PID_VARIABLE, die_with_parent, raise_open_file_limit
from mockserver.render_pool import use_render_processes
from mockserver.settings import Settings
from mockserver.store.group_commit import LoopGroupCommit

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

    from mockserver.store.redis_store import RedisStore
    from mockserver.store.sqlite import SQLiteStore
    from mockserver.web.fast_poll import FastPoll, PollAnswer, UnjournaledPoll

__all__ = [
    "DEFAULT_HEADER_TIMEOUT_SECONDS",
    "DEFAULT_MAX_CONNECTIONS",
    "SERVERS",
    "THREADS_PER_WORKER",
    "WORKER_HEADER",
    "ServeOptions",
    "UnsharedStore",
    "check_store_is_shared",
    "config_environment",
    "inline_polls",
    "run",
    "worker_app",
]

ServerName = Literal["granian", "werkzeug"]
SERVERS: tuple[ServerName, ...] = ("granian", "werkzeug")
#: Response header naming the process that answered (mock-only; tells workers apart).
WORKER_HEADER = "X-Mock-Worker"
#: Python threads per worker running the Flask app, by store. Slow clients hold none (the
#: body is read on the event loop), nor do latency faults; a PDF download waits for its
#: render in one, so a second lets polls go on meanwhile. SQLite and Redis wait on I/O,
#: which four threads overlap. Hundreds only add GIL contention: see bench/NOTES.md.
THREADS_PER_WORKER = {"memory": 2, "sqlite": 4, "redis": 4}
#: Seconds a client has to send its request headers (slowloris) or, kept alive, its next
#: request before granian closes the connection (``--header-timeout``).
DEFAULT_HEADER_TIMEOUT_SECONDS: int = SERVE_DEFAULTS["HEADER_TIMEOUT"]
#: Connections one worker holds open at once (granian's backpressure, ``--max-connections``);
#: more wait in the kernel's accept queue. Idle keep-alive connections count, so this is well
#: above 1,024.
DEFAULT_MAX_CONNECTIONS: int = SERVE_DEFAULTS["MAX_CONNECTIONS"]
#: The kernel's queue of connections not yet accepted (granian's backlog).
_LISTEN_BACKLOG = 4096
_STARTUP_TIMEOUT_SECONDS = 30
#: How long granian waits for a worker to stop after SIGTERM before it kills it.
_WORKER_STOP_TIMEOUT_SECONDS = 5


class UnsharedStore(ValueError):
    """Raised when several workers would each keep their own in-memory store."""


@dataclass(frozen=True)
class ServeOptions:
    """Where and how to serve, beside the app's own settings."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    server: ServerName = "granian"
    threads: int = 1  # Python threads per worker (see THREADS_PER_WORKER)
    header_timeout: int = DEFAULT_HEADER_TIMEOUT_SECONDS
    max_connections: int = DEFAULT_MAX_CONNECTIONS


def config_environment(config: Mapping[str, Any]) -> dict[str, str]:
    """The ``MOCKSERVER_*`` variables that give ``create_app()`` this configuration.

    Values are JSON, which Flask's ``from_prefixed_env`` parses back to the same types
    (so a signing secret ``"123"`` stays a string).
    """
    return {f"MOCKSERVER_{key}": json.dumps(value) for key, value in config.items()}


def check_store_is_shared(settings: Settings, workers: int) -> None:
    """Refuse several workers on ``memory://``: each would see only its own reports."""
    if workers > 1 and settings.store_url.split("://", 1)[0] == "memory":
        raise UnsharedStore(
            f"--workers {workers} needs a store the workers share; memory:// lives in one "
            "process, so a report created through one worker would be unknown to the "
            "others. Add --store sqlite:///tmp/reports-mock.db (one host) or "
            "--store redis://127.0.0.1:6379/0 (several hosts), or use --workers 1"
        )


def _with_worker_header(app: WSGIApplication) -> WSGIApplication:
    pid_header = (WORKER_HEADER, str(os.getpid()))

    def answer(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append(pid_header)
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return answer


def worker_app() -> BufferedWsgiFront:
    """The ASGI app of one worker process: ``create_app()`` from the environment alone.

    Granian calls this in every worker (``mockserver.serving:worker_app`` as a factory). The
    front's limits come from ``MOCKSERVER_THREADS``, ``MOCKSERVER_BODY_TIMEOUT`` and the
    app's ``MAX_CONTENT_LENGTH``.
    """
    # A forked worker inherits the main process's SIGTERM handler, which only sets a flag
    # there: a stop arriving while this worker builds its app would be ignored, and the
    # worker would outlive the server. Until granian installs its own handlers, a stop stops.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, signal.SIG_DFL)
    die_with_parent()
    from mockserver.app import backend_of, create_app

    app = create_app()

    def option(key: str) -> Any:
        return serve_option(key, argparse.Namespace(), os.environ)

    limits = FrontLimits(
        max_body_bytes=backend_of(app).state.settings.max_body_bytes,
        body_timeout=float(option("BODY_TIMEOUT")),
        threads=int(option("THREADS") or THREADS_PER_WORKER["sqlite"]),
        download_threads=int(option("DOWNLOAD_THREADS")),
    )
    use_render_processes(int(option("RENDER_PROCESSES")))
    return BufferedWsgiFront(_with_worker_header(app), limits, inline=inline_polls(app))


def inline_polls(app: Flask) -> InlineAnswerer | None:
    """The lean poll answered on the event loop: on ``memory://`` (a poll waits for no I/O)
    at once; on ``sqlite://`` read on the loop and sent once its journal entry is committed
    (:func:`_sqlite_polls`); on Redis with its one round trip awaited there, in a batch
    (:func:`_redis_polls`). ``None`` when the lean path is not installed."""
    from mockserver.app import backend_of
    from mockserver.store.redis_store import RedisStore
    from mockserver.store.sqlite import SQLiteStore
    from mockserver.web.fast_poll import FastPoll

    fast = app.wsgi_app
    store = backend_of(app).state.store
    if not isinstance(fast, FastPoll):
        return None
    pid_header = (WORKER_HEADER.lower().encode(), str(os.getpid()).encode())

    def asgi(found: PollAnswer) -> InlineAnswer:
        headers = [
            (name.lower().encode(), value.encode("latin-1")) for name, value in found.headers
        ]
        return found.status, [*headers, pid_header], found.body

    if isinstance(store, SQLiteStore):
        return _sqlite_polls(fast, store, asgi)
    if isinstance(store, RedisStore):
        return _redis_polls(fast, store, asgi)
    if backend_of(app).state.store_kind != "memory":
        return None

    def answer(environ: dict[str, Any]) -> InlineAnswer | None:
        found = fast.answer(environ)
        return None if found is None else asgi(found)

    return answer


def _sqlite_polls(
    fast: FastPoll, store: SQLiteStore, asgi: Callable[[PollAnswer], InlineAnswer]
) -> InlineAnswerer:
    """SQLite polls on the event loop: the read there (a WAL read never waits for the
    writer; a locked database fails it at once and the pool serves the poll as before),
    the journal entries of the polls in flight written in one transaction by one thread, and
    each answer sent only once its entry is committed. A write the store refused (locked
    past the busy timeout, or down) is the outage's 503 with ``Retry-After``, as from the
    pool; any other failed write sends the poll to the pool, which serves it again."""
    journal = LoopGroupCommit(
        store.append_requests,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="mock-journal"),
    )
    loop_threads: set[int] = set()

    async def after_journal(poll: UnjournaledPoll) -> InlineAnswer | None:
        try:
            await journal.submit((poll.entry, poll.count))
        except Exception as error:
            refusal = fast.journal_failed(poll, error)  # locked or down: the outage's 503
            return None if refusal is None else asgi(refusal)
        fast.journal_written()
        return asgi(poll.answer)

    def answer(environ: dict[str, Any]) -> Awaitable[InlineAnswer | None] | None:
        thread = threading.get_ident()
        if thread not in loop_threads:
            store.wait_for_no_lock_in_this_thread()
            loop_threads.add(thread)
        poll = fast.answer_before_journal(environ)
        return None if poll is None else after_journal(poll)

    return answer


def _redis_polls(
    fast: FastPoll, store: RedisStore, asgi: Callable[[PollAnswer], InlineAnswer]
) -> InlineAnswerer:
    """Redis polls on the event loop: each lean poll's one round trip (its Lua script) goes
    with the other polls in flight in one pipeline, made by one thread per worker
    (:class:`~mockserver.store.redis_store.RedisPollBatches`), instead of a pool thread per
    poll; a Redis that is down is the outage's 503 at once. A poll the lean path does not
    serve from its caches goes to the pool as before."""
    from mockserver.store.redis_store import RedisPollBatches

    batches = RedisPollBatches(
        store, ThreadPoolExecutor(max_workers=1, thread_name_prefix="mock-redis")
    )

    async def as_asgi(pending: Awaitable[PollAnswer | None]) -> InlineAnswer | None:
        found = await pending
        return None if found is None else asgi(found)

    def answer(environ: dict[str, Any]) -> Awaitable[InlineAnswer | None] | None:
        pending = fast.answer_on_loop(environ, batches)
        return None if pending is None else as_asgi(pending)

    return answer


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _announce_when_accepting(
    workers_forked: Callable[[], bool],
    host: str,
    port: int,
    base: str,
    announce: Callable[[str], None],
) -> None:
    """Wait for every worker to be forked, then for the port to accept; then announce.

    Nothing here may hold a lock while granian forks a worker (a lock held then stays held
    forever in the child): so it only sleeps until the forks are done, and the one module a
    connection imports lazily (``encodings.idna``) is imported with this module.
    """
    deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
    while not workers_forked() and time.monotonic() < deadline:
        time.sleep(0.002)
    probe_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    while time.monotonic() < deadline:
        try:
            socket.create_connection((probe_host, port), timeout=1).close()
        except OSError:
            time.sleep(0.005)
            continue
        announce(base)
        return
    print(f"mockserver: no worker accepted on {base} in {_STARTUP_TIMEOUT_SECONDS} s", flush=True)


def run(options: ServeOptions, announce: Callable[[str], None]) -> int:
    """Serve until interrupted; ``announce(base_url)`` once the socket accepts connections.

    The configuration comes from ``MOCKSERVER_*`` in ``os.environ``. Returns the exit status.
    """
    if options.server == "werkzeug":
        return _run_werkzeug(options, announce)
    return _run_granian(options, announce)


def _run_granian(options: ServeOptions, announce: Callable[[str], None]) -> int:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    # Granian cannot report a port the kernel chose, so choose it here (a tiny race that
    # only --port 0 has, and only against another program binding the same moment).
    port = options.port or _free_port(options.host)
    raise_open_file_limit()  # workers inherit it: one descriptor per connection
    os.environ[MAIN_PID_VARIABLE] = str(os.getpid())  # workers exit when this process dies
    os.environ["MOCKSERVER_THREADS"] = str(options.threads)
    server = Granian(
        target="mockserver.serving:worker_app",
        factory=True,
        interface=Interfaces.ASGINL,  # asgi_front: no lifespan events to answer
        address=options.host,
        port=port,
        workers=options.workers,
        http=HTTPModes.http1,  # the documented API; header_read_timeout is HTTP/1's
        websockets=False,
        backlog=_LISTEN_BACKLOG,
        backpressure=options.max_connections,
        http1_settings=HTTP1Settings(header_read_timeout=options.header_timeout * 1000),
        log_level=LogLevels.warning,
        workers_kill_timeout=_WORKER_STOP_TIMEOUT_SECONDS,
        respawn_failed_workers=True,  # a crashed worker is replaced
        respawn_interval=0.5,
    )
    host = f"[{options.host}]" if ":" in options.host else options.host
    base = f"http://{host}:{port}"
    # On Linux each granian worker binds its own socket (SO_REUSEPORT) once it has built its
    # app, so announce only when the port accepts: whoever reads the banner can connect.
    server.on_startup(
        lambda: threading.Thread(
            target=_announce_when_accepting,
            args=(lambda: len(server.wrks) >= options.workers, options.host, port, base, announce),
            daemon=True,
        ).start()
    )
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    except SystemExit as stop:  # granian exits non-zero when a worker fails to start
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def _run_werkzeug(options: ServeOptions, announce: Callable[[str], None]) -> int:
    from werkzeug.serving import make_server

    from mockserver.app import create_app

    if options.workers != 1:
        print("mockserver: --server werkzeug runs one process: use --workers 1", file=sys.stderr)
        return 2
    server = make_server(options.host, options.port, create_app(), threaded=True)
    host = f"[{options.host}]" if ":" in options.host else options.host
    announce(f"http://{host}:{server.server_port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
