"""``python -m contract_tests check``: check a client, a consumer, a command or a whole
workflow (``verify``, provider verification, lives in ``verify_cli``).

Exit status: 0 when every rule holds, 1 when a rule is broken, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from contract_tests.errors import KitError, UsageError
from contract_tests.reporting import render_result
from contract_tests.runner import (
    DEFAULT_COMMAND_EXAMPLES,
    DEFAULT_EXAMPLES,
    CheckResult,
    check_client,
    check_command,
    check_consumer,
)
from contract_tests.verify_cli import add_verify_parser, run_verify
from contract_tests.workflow_runner import (
    DEFAULT_WORKFLOW_COMMAND_EXAMPLES,
    DEFAULT_WORKFLOW_EXAMPLES,
    check_workflow,
    check_workflow_command,
)

__all__ = ["load_callable", "main"]


def load_callable(reference: str) -> Callable[..., Any]:
    """The function named ``MODULE:FUNCTION``; a :class:`UsageError` listing what is there."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise UsageError(
            f"{reference!r} is not MODULE:FUNCTION, e.g. my_app.polling:wait_for_report"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(
            f"cannot import module {module_name!r}: {error}. Is it on PYTHONPATH?"
        ) from error
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            available = sorted(
                n for n in dir(target) if not n.startswith("_") and callable(getattr(target, n))
            )
            raise UsageError(
                f"{module_name!r} has no {attribute!r}. Callables there: {', '.join(available) or 'none'}"
            )
        target = getattr(target, part)
    if not callable(target):
        raise UsageError(f"{reference!r} is a {type(target).__name__}, not a function")
    return target  # type: ignore[no-any-return]


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m contract_tests",
        description="Check a Reports API client against the documented contract, on virtual time.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check", help="check a client, a consumer, a command or a whole workflow"
    )
    target = check.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--client",
        metavar="MODULE:FUNCTION",
        help="a Python polling client fn(report_id, *, base_url, api_key)",
    )
    target.add_argument("--consumer", metavar="MODULE:FUNCTION", help="a report consumer fn(data)")
    target.add_argument(
        "--client-cmd",
        metavar="COMMAND",
        help="a client in any language: a command with {report_id}; gets SW_BASE_URL and SW_API_KEY",
    )
    target.add_argument(
        "--workflow",
        metavar="MODULE:FUNCTION",
        help="a whole workflow fn(case_id, *, base_url, api_key, output_dir): create, wait, "
        "retry as documented, save the PDF and the DOCX",
    )
    target.add_argument(
        "--workflow-cmd",
        metavar="COMMAND",
        help="a workflow in any language: gets SW_BASE_URL, SW_API_KEY, SW_CASE_ID and "
        "SW_OUTPUT_DIR ({case_id} and {output_dir} in COMMAND are replaced too); exit 0 = done",
    )
    check.add_argument(
        "--examples",
        type=int,
        help=f"generated examples (default {DEFAULT_EXAMPLES}, {DEFAULT_COMMAND_EXAMPLES} for "
        f"--client-cmd, {DEFAULT_WORKFLOW_EXAMPLES} for --workflow, "
        f"{DEFAULT_WORKFLOW_COMMAND_EXAMPLES} for --workflow-cmd)",
    )
    check.add_argument(
        "--seed", type=int, default=0, help="Hypothesis seed (default 0: reproducible)"
    )
    check.add_argument(
        "--strict",
        action="store_true",
        help="resilience profile: also inject transient faults (5xx, 429, dropped connections, slow or garbled answers)",
    )
    check.add_argument(
        "--examples-from",
        action="append",
        metavar="PATH",
        help="a scenario file (mockserver record, GET /_mock/requests?format=scenario) or a "
        "directory of them: each recorded lifecycle runs as an explicit example, replayed by "
        "the mock as recorded (for --workflow, each completed one) (repeatable)",
    )
    add_verify_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    parser = build_parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code not in (0, None) else 0
    if arguments.command == "verify":
        return run_verify(arguments)
    try:
        result = _run(arguments)
    except KitError as error:  # a usage error, or a client the kit cannot judge truly
        print(f"contract_tests: {error}", file=sys.stderr)
        return 2
    print(render_result(result))
    return 0 if result.passed else 1


def _run(arguments: argparse.Namespace) -> CheckResult:
    if arguments.examples is not None and arguments.examples < 0:
        raise UsageError(f"--examples {arguments.examples}: pass 0 or more")
    if arguments.workflow or arguments.workflow_cmd:
        return _run_workflow(arguments)
    if arguments.client_cmd:
        examples = DEFAULT_COMMAND_EXAMPLES if arguments.examples is None else arguments.examples
        return check_command(
            arguments.client_cmd,
            examples=examples,
            seed=arguments.seed,
            strict=arguments.strict,
            examples_from=arguments.examples_from,
        )
    examples = DEFAULT_EXAMPLES if arguments.examples is None else arguments.examples
    if arguments.consumer:
        return check_consumer(
            load_callable(arguments.consumer),
            examples=examples,
            seed=arguments.seed,
            examples_from=arguments.examples_from,
        )
    client = load_callable(arguments.client)
    return check_client(
        client,
        examples=examples,
        seed=arguments.seed,
        strict=arguments.strict,
        examples_from=arguments.examples_from,
    )


def _run_workflow(arguments: argparse.Namespace) -> CheckResult:
    if arguments.workflow_cmd:
        examples = (
            DEFAULT_WORKFLOW_COMMAND_EXAMPLES if arguments.examples is None else arguments.examples
        )
        return check_workflow_command(
            arguments.workflow_cmd,
            examples=examples,
            seed=arguments.seed,
            strict=arguments.strict,
            examples_from=arguments.examples_from,
        )
    examples = DEFAULT_WORKFLOW_EXAMPLES if arguments.examples is None else arguments.examples
    return check_workflow(
        load_callable(arguments.workflow),
        examples=examples,
        seed=arguments.seed,
        strict=arguments.strict,
        examples_from=arguments.examples_from,
    )
