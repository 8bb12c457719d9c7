"""``python -m contract_tests verify``: the command line of provider verification.

Exit status: 0 when the deployment matches the documented contract, 1 on drift, 2 for a
usage error or a host that does not answer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from contract_tests.errors import UsageError
from contract_tests.verify import DEFAULT_CASE_ID, DOCUMENTED_POLL_SECONDS, verify_provider
from contract_tests.verify_http import ProviderUnreachable

__all__ = ["add_verify_parser", "run_verify"]


def add_verify_parser(commands: Any) -> None:
    """Add the ``verify`` subcommand to the kit's subparsers."""
    verify = commands.add_parser(
        "verify",
        help="hold a live deployment to the documented contract (a drift report)",
        description=(
            "Run the documented workflow once against a live deployment (one demo report by "
            "default: it costs nothing) and report every way it differs from the contract."
        ),
    )
    verify.add_argument(
        "--base-url", required=True, help="the deployment, e.g. https://api.example.com"
    )
    verify.add_argument("--api-key", required=True, help="its API key (never printed)")
    verify.add_argument(
        "--case-id",
        default=DEFAULT_CASE_ID,
        help=f"the case to create the report for (default {DEFAULT_CASE_ID})",
    )
    verify.add_argument(
        "--json", metavar="PATH", type=Path, help="also write the drift report as JSON"
    )
    verify.add_argument(
        "--no-demo-data",
        action="store_true",
        help="create a real report (it may cost) instead of one with options.use_demo_data",
    )
    verify.add_argument(
        "--timeout",
        type=float,
        help="seconds to wait for a terminal status (default: the documented window + 30 s)",
    )
    verify.add_argument(
        "--poll-every",
        type=float,
        default=DOCUMENTED_POLL_SECONDS,
        help="seconds between polls (default 5, as documented; lower it only for a mock on a sped-up clock)",
    )


def run_verify(arguments: argparse.Namespace) -> int:
    """Run ``verify`` with parsed ``arguments``; the exit status."""
    try:
        report = verify_provider(
            arguments.base_url,
            arguments.api_key,
            case_id=arguments.case_id,
            use_demo_data=not arguments.no_demo_data,
            timeout=arguments.timeout,
            poll_interval=arguments.poll_every,
        )
    except (UsageError, ProviderUnreachable) as error:
        print(f"contract_tests verify: {error}", file=sys.stderr)
        return 2
    print(report.render())
    if arguments.json is not None:
        try:
            report.write_json(arguments.json)
        except OSError as error:
            print(
                f"contract_tests verify: cannot write --json {arguments.json}: {error.strerror}",
                file=sys.stderr,
            )
            return 2
    return 1 if report.drifted else 0
