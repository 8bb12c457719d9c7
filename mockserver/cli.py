"""``mockserver serve``: run the mock on a port, printing where it listens."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from mockserver.scenarios import DEFAULT_SCENARIO, SCENARIOS
from mockserver.settings import SettingsError

__all__ = ["build_parser", "config_from_arguments", "main"]


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: use 0 (frozen) or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line, with every option of ``serve``."""
    parser = argparse.ArgumentParser(
        prog="mockserver", description="A mock of the Reports API on a controllable clock."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks one)")
    serve.add_argument(
        "--time-scale",
        type=_non_negative,
        default=1.0,
        help="virtual seconds per real second: 100 makes 5 minutes pass in 3 s; 0 freezes",
    )
    serve.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        choices=sorted(SCENARIOS),
        help="scenario of reports created without an X-Mock-Scenario header",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed of case profiles and report ids")
    serve.add_argument(
        "--jitter", action="store_true", help="vary step durations, reproducibly from --seed"
    )
    serve.add_argument("--start-time", help="ISO 8601 time the virtual clock starts at")
    serve.add_argument("--store", default="memory://", help="store URL (default memory://)")
    serve.add_argument("--public-base-url", help="base of download URLs (default: request host)")
    serve.add_argument("--signing-secret", help="HMAC secret of download URLs (default: random)")
    serve.add_argument(
        "--no-control-api", action="store_true", help="do not serve /_mock/ (public sandbox)"
    )
    serve.add_argument(
        "--validate-responses",
        choices=("off", "log", "raise"),
        default="off",
        help="check every response against schemas/ (default off)",
    )
    return parser


def config_from_arguments(arguments: argparse.Namespace) -> dict[str, Any]:
    """The ``create_app`` configuration that ``serve``'s options ask for."""
    config: dict[str, Any] = {
        "TIME_SCALE": arguments.time_scale,
        "SCENARIO": arguments.scenario,
        "SEED": arguments.seed,
        "JITTER": arguments.jitter,
        "STORE": arguments.store,
        "CONTROL_API": not arguments.no_control_api,
        "VALIDATE_RESPONSES": arguments.validate_responses,
    }
    optional = {
        "START_TIME": arguments.start_time,
        "PUBLIC_BASE_URL": arguments.public_base_url,
        "SIGNING_SECRET": arguments.signing_secret,
    }
    config.update({key: value for key, value in optional.items() if value})
    return config


def _serve(arguments: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from mockserver.app import create_app

    try:
        app = create_app(config_from_arguments(arguments))
    except SettingsError as error:
        print(f"mockserver: {error}", file=sys.stderr)
        return 2
    server = make_server(arguments.host, arguments.port, app, threaded=True)
    base = f"http://{arguments.host}:{server.server_port}"
    print(f"Reports mock listening on {base}", flush=True)
    print(
        f"  time scale {arguments.time_scale:g}x, default scenario {arguments.scenario}, "
        f"seed {arguments.seed}, store {arguments.store}",
        flush=True,
    )
    print(f"  try: curl -H 'X-API-Key: sk-test' {base}/api/reports/rpt_unknown", flush=True)
    if not arguments.no_control_api:
        print(f"  control API: {base}/_mock/clock, {base}/_mock/requests", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    arguments = build_parser().parse_args(argv)
    if arguments.command == "serve":
        return _serve(arguments)
    return 2  # pragma: no cover - argparse rejects unknown commands first
