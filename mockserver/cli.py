"""``mockserver serve``: run the mock on a port, printing where it listens;
``mockserver demo``: the documented workflow once, against a demo report;
``mockserver record``: a recording proxy that writes what it sees as scenario files."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from mockserver.options import (
    DEFAULTS,
    SettingsError,
    add_serve_options,
    config_from_arguments,
    serve_option,
)
from mockserver.process_guard import PortInUse, check_port_free
from mockserver.serving import (
    THREADS_PER_WORKER,
    ServeOptions,
    UnsharedStore,
    check_store_is_shared,
    config_environment,
    run,
)
from mockserver.store.base import StoreError

__all__ = ["START_REFUSED", "build_parser", "config_from_arguments", "main"]

#: The exit status of a command that cannot start as it was asked to (a bad option or
#: variable, a malformed scenario file, a store it cannot open, a busy port): the same for
#: ``serve`` and ``record``, and the kit's "usage error". 1 is a failure once running.
START_REFUSED = 2


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 for the demo to finish")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line, with every option of ``serve`` (from :data:`mockserver.options.OPTIONS`).

    An option left out falls back to its ``MOCKSERVER_*`` environment variable, then to its
    default; an option given wins over the variable.
    """
    parser = argparse.ArgumentParser(
        prog="mockserver", description="A mock of the Reports API on a controllable clock."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mock server")
    add_serve_options(serve)
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
    record = commands.add_parser(
        "record",
        help="a recording proxy: pass requests to --upstream, write each report's lifecycle "
        "as a scenario file",
    )
    record.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="base URL of the API to pass requests to (a live deployment, or a mock)",
    )
    record.add_argument(
        "--out",
        type=Path,
        default=Path("recorded-scenarios"),
        metavar="DIR",
        help="where scenario files are written, one per report (default ./recorded-scenarios)",
    )
    record.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    record.add_argument(
        "--port",
        type=int,
        default=8081,
        help="port to listen on; 0 picks a free one (default 8081)",
    )
    record.add_argument(
        "--no-fetch-documents",
        dest="fetch_documents",
        action="store_false",
        help="do not download a completed report's PDF and DOCX to record whether they are "
        "available (downloads passing through the proxy still count)",
    )
    return parser


def _record(arguments: argparse.Namespace) -> int:
    from mockserver.recording import RecordingError, run_recording_proxy

    try:
        return run_recording_proxy(
            arguments.upstream,
            arguments.out,
            host=arguments.host,
            port=arguments.port,
            fetch_documents=arguments.fetch_documents,
            out=sys.stdout,
        )
    except RecordingError as error:
        print(f"mockserver record: {error}", file=sys.stderr)
        return START_REFUSED


def _serve(arguments: argparse.Namespace) -> int:
    from mockserver.app import backend_of, create_app

    given = config_from_arguments(arguments)
    # Options become MOCKSERVER_* variables, so every worker process configures itself
    # exactly as this one does (and as the container image does).
    os.environ.update(config_environment({k: v for k, v in given.items() if k in DEFAULTS}))
    try:
        options = ServeOptions(
            host=str(serve_option("HOST", arguments, os.environ)),
            port=int(serve_option("PORT", arguments, os.environ)),
            workers=int(serve_option("WORKERS", arguments, os.environ)),
            server=serve_option("SERVER", arguments, os.environ),
            threads=serve_option("THREADS", arguments, os.environ) or 0,
            header_timeout=int(serve_option("HEADER_TIMEOUT", arguments, os.environ)),
            max_connections=int(serve_option("MAX_CONNECTIONS", arguments, os.environ)),
        )
        body_timeout = float(serve_option("BODY_TIMEOUT", arguments, os.environ))
        state = backend_of(create_app()).state  # checks the settings, creates SQLite's tables
        settings = state.settings
        check_store_is_shared(settings, options.workers)
        check_port_free(options.host, options.port)
    except (SettingsError, UnsharedStore, StoreError, PortInUse) as error:
        print(f"mockserver: {error}", file=sys.stderr)
        return START_REFUSED
    options = replace(
        options, threads=options.threads or THREADS_PER_WORKER.get(state.store_kind, 4)
    )
    # The workers' front reads these from the environment, like the app's own options.
    os.environ.update(
        config_environment({"THREADS": options.threads, "BODY_TIMEOUT": body_timeout})
    )
    state.close()  # workers open their own connections

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
    if arguments.command == "record":
        return _record(arguments)
    return 2  # pragma: no cover - argparse rejects unknown commands first
