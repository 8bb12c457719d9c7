"""``mockserver serve``: run the mock on a port, printing where it listens;
``mockserver demo``: the documented workflow once, against a demo report."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mockserver.process_guard import PortInUse, check_port_free
from mockserver.scenarios import SCENARIOS
from mockserver.serving import (
    DEFAULT_BODY_TIMEOUT_SECONDS,
    DEFAULT_HEADER_TIMEOUT_SECONDS,
    DEFAULT_MAX_CONNECTIONS,
    SERVERS,
    THREADS_PER_WORKER,
    ServeOptions,
    UnsharedStore,
    check_store_is_shared,
    config_environment,
    run,
)
from mockserver.settings import SettingsError
from mockserver.store.base import StoreError

__all__ = ["build_parser", "config_from_arguments", "main"]


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: use 0 (frozen) or more")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 for the demo to finish")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def build_parser() -> argparse.ArgumentParser:
    """The command line, with every option of ``serve``.

    An option left out falls back to its ``MOCKSERVER_*`` environment variable, then to
    :data:`mockserver.settings.DEFAULTS`; an option given wins over the variable.
    """
    environ = os.environ
    parser = argparse.ArgumentParser(
        prog="mockserver", description="A mock of the Reports API on a controllable clock."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mock server")
    serve.add_argument(
        "--host",
        default=environ.get("MOCKSERVER_HOST", "127.0.0.1"),
        help="address to bind (default 127.0.0.1, or MOCKSERVER_HOST)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=int(environ.get("MOCKSERVER_PORT", "8080")),
        help="port (default 8080, or MOCKSERVER_PORT; 0 picks one)",
    )
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=int(environ.get("MOCKSERVER_WORKERS", "1")),
        help="worker processes (default 1, or MOCKSERVER_WORKERS); more than one needs "
        "--store sqlite:///... or redis://...",
    )
    serve.add_argument(
        "--server",
        choices=SERVERS,
        default=environ.get("MOCKSERVER_SERVER", "granian"),
        help="granian (default: production) or werkzeug (one process, for debugging)",
    )
    serve.add_argument(
        "--threads",
        type=_positive_int,
        default=_env_int("MOCKSERVER_THREADS"),
        help="Python threads per worker running the app (default by store: 2 on memory://, "
        "4 on SQLite and Redis; or MOCKSERVER_THREADS)",
    )
    serve.add_argument(
        "--header-timeout",
        type=_positive_int,
        default=_env_int("MOCKSERVER_HEADER_TIMEOUT") or DEFAULT_HEADER_TIMEOUT_SECONDS,
        help="seconds a client has to send its request headers, or its next request on a "
        f"kept-alive connection (default {DEFAULT_HEADER_TIMEOUT_SECONDS}, at most 60; "
        "or MOCKSERVER_HEADER_TIMEOUT)",
    )
    serve.add_argument(
        "--body-timeout",
        type=_positive_seconds,
        default=float(environ.get("MOCKSERVER_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT_SECONDS)),
        help="seconds a client has to send a whole request body before a 408 (default "
        f"{DEFAULT_BODY_TIMEOUT_SECONDS:g}, or MOCKSERVER_BODY_TIMEOUT)",
    )
    serve.add_argument(
        "--max-connections",
        type=_positive_int,
        default=_env_int("MOCKSERVER_MAX_CONNECTIONS") or DEFAULT_MAX_CONNECTIONS,
        help="connections each worker holds open at once; more wait to be accepted (default "
        f"{DEFAULT_MAX_CONNECTIONS}, or MOCKSERVER_MAX_CONNECTIONS)",
    )
    serve.add_argument(
        "--time-scale",
        type=_non_negative,
        help="virtual seconds per real second: 100 makes 5 minutes pass in 3 s; 0 freezes "
        "(default 1)",
    )
    serve.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        help="scenario of reports created without an X-Mock-Scenario header (default happy)",
    )
    serve.add_argument("--seed", type=int, help="seed of case profiles and report ids (default 0)")
    serve.add_argument(
        "--jitter",
        action="store_true",
        default=None,
        help="vary step durations, reproducibly from --seed",
    )
    serve.add_argument("--start-time", help="ISO 8601 time the virtual clock starts at")
    serve.add_argument(
        "--store",
        help="memory:// (default), sqlite:///path.db (workers on one host, survives restarts) "
        "or redis://host:6379/0 (replicas on several hosts)",
    )
    serve.add_argument(
        "--retention",
        type=_non_negative,
        help="virtual seconds a report is kept (default 86400; 0 keeps every report)",
    )
    serve.add_argument("--public-base-url", help="base of download URLs (default: request host)")
    serve.add_argument("--signing-secret", help="HMAC secret of download URLs (default: random)")
    serve.add_argument(
        "--no-control-api",
        action="store_true",
        default=None,
        help="do not serve /_mock/ (public sandbox)",
    )
    serve.add_argument(
        "--fault",
        action="append",
        metavar="RULE",
        help="inject a fault into every report's requests, e.g. '503@polls=3,4', "
        "'drop@rate=0.05', 'latency=100-900@rate=0.5' (repeatable; see the README)",
    )
    serve.add_argument(
        "--rate-limit",
        action="store_true",
        default=None,
        help="enforce the documented limit: X-RateLimit-* headers, 429 past it (default off)",
    )
    serve.add_argument(
        "--rate-limit-per-minute",
        type=_positive_int,
        help="requests per virtual minute per API key with --rate-limit (default 100)",
    )
    serve.add_argument(
        "--rate-limit-window",
        choices=("fixed", "sliding"),
        help="count per clock minute (fixed, default) or over the last 60 s (sliding)",
    )
    serve.add_argument(
        "--validate-responses",
        choices=("off", "log", "raise"),
        help="check every response against schemas/ (default off)",
    )
    demo = commands.add_parser(
        "demo", help="create a demo report, follow it and download its documents"
    )
    demo.add_argument("--url", help="base URL of a running mock (default: start one here)")
    demo.add_argument(
        "--time-scale",
        type=_positive,
        default=20.0,
        help="time scale of the mock started here (default 20: the demo report takes ~3 s); "
        "with --url the server's own applies",
    )
    demo.add_argument(
        "--output-dir",
        type=Path,
        default=Path("mockserver-demo"),
        help="where the PDF and DOCX are saved (default ./mockserver-demo)",
    )
    return parser


def config_from_arguments(arguments: argparse.Namespace) -> dict[str, Any]:
    """The ``create_app`` configuration of the options given (the rest: environment, defaults)."""
    given = {
        "TIME_SCALE": arguments.time_scale,
        "SCENARIO": arguments.scenario,
        "SEED": arguments.seed,
        "JITTER": arguments.jitter,
        "STORE": arguments.store,
        "RETENTION_SECONDS": arguments.retention,
        "CONTROL_API": None if arguments.no_control_api is None else False,
        "VALIDATE_RESPONSES": arguments.validate_responses,
        "FAULTS": "; ".join(arguments.fault) if arguments.fault else None,
        "RATE_LIMIT": arguments.rate_limit,
        "RATE_LIMIT_PER_MINUTE": arguments.rate_limit_per_minute,
        "RATE_LIMIT_WINDOW": arguments.rate_limit_window,
        "START_TIME": arguments.start_time,
        "PUBLIC_BASE_URL": arguments.public_base_url,
        "SIGNING_SECRET": arguments.signing_secret,
    }
    return {key: value for key, value in given.items() if value is not None}


def _serve(arguments: argparse.Namespace) -> int:
    from mockserver.app import create_app
    from mockserver.web import EXTENSION_KEY

    # Options become MOCKSERVER_* variables, so every worker process configures itself
    # exactly as this one does (and as the container image does).
    os.environ.update(config_environment(config_from_arguments(arguments)))
    try:
        app = create_app()  # checks the settings, and creates the store's tables once
        settings = app.extensions[EXTENSION_KEY].settings
        check_store_is_shared(settings, arguments.workers)
    except (SettingsError, UnsharedStore, StoreError) as error:
        print(f"mockserver: {error}", file=sys.stderr)
        return 2
    if arguments.header_timeout > 60:
        print("mockserver: --header-timeout is at most 60 seconds", file=sys.stderr)
        return 2
    try:
        check_port_free(arguments.host, arguments.port)
    except PortInUse as error:
        print(f"mockserver: {error}", file=sys.stderr)
        return 1
    store_kind = app.extensions[EXTENSION_KEY].store.kind
    os.environ["MOCKSERVER_BODY_TIMEOUT"] = str(arguments.body_timeout)
    options = ServeOptions(
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        server=arguments.server,
        threads=arguments.threads or THREADS_PER_WORKER.get(store_kind, 4),
        header_timeout=arguments.header_timeout,
        max_connections=arguments.max_connections,
    )
    app.extensions[EXTENSION_KEY].store.close()  # workers open their own connections

    def announce(base: str) -> None:
        print(f"Reports mock listening on {base}", flush=True)
        print(
            f"  time scale {settings.time_scale:g}x, default scenario "
            f"{settings.default_scenario}, seed {settings.seed}, store {settings.store_url}, "
            f"{options.workers} worker(s) on {options.server}",
            flush=True,
        )
        print(f"  try: curl -H 'X-API-Key: sk-test' {base}/api/reports/rpt_unknown", flush=True)
        if settings.control_api:
            print(f"  control API: {base}/_mock/clock, {base}/_mock/requests", flush=True)
            print(f"  inspector (live page): {base}/_mock/", flush=True)

    return run(options, announce)


def _demo(arguments: argparse.Namespace) -> int:
    from mockserver.demo import DemoError, run_demo

    try:
        return run_demo(
            arguments.url,
            time_scale=arguments.time_scale,
            output_dir=arguments.output_dir,
            out=sys.stdout,
        )
    except DemoError as error:
        print(f"\nmockserver demo: {error}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    arguments = build_parser().parse_args(argv)
    if arguments.command == "serve":
        return _serve(arguments)
    if arguments.command == "demo":
        return _demo(arguments)
    return 2  # pragma: no cover - argparse rejects unknown commands first
