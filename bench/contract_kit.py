"""Benchmark of the contract-testing kit on the reference clients (run by hand, not by tests).

For each reference client: lifecycle examples checked per second, the wall time of a full
check with the kit's default budget, and how much virtual time the check covered per second
of real time. Python clients run on the kit's frozen virtual clock; the JavaScript client
runs under libfaketime at the kit's default speed-up. Prints a table and writes it, with the
command that produced it, to ``bench/RESULTS-contract-kit.md``.

    .venv/bin/python bench/contract_kit.py            # all three clients, then the corpus
    .venv/bin/python bench/contract_kit.py --no-js    # the Python clients only
    .venv/bin/python bench/contract_kit.py --corpus-only   # the corpus table only

The corpus table (``bench/corpus_checks.py``) is the time of a default check of every style of
the client corpus in ``tests/contract_tests/corpus/``, with the kit's verdict on each.
    # the Python clients, then the same checks with the kit of another checkout, side by side:
    git worktree add --detach /tmp/kit-before main
    .venv/bin/python bench/contract_kit.py --no-js --before /tmp/kit-before
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from corpus_checks import DEFAULT_LIMIT_SECONDS, corpus_table, time_corpus

from clients_under_test import exponential_backoff, fixed_interval
from contract_tests import CheckResult, ClientStopped, check_client, check_command
from contract_tests.runner import (
    DEFAULT_COMMAND_EXAMPLES,
    DEFAULT_EXAMPLES,
)

__all__ = ["Measurement", "main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS-contract-kit.md"
JS_CLIENT = ROOT / "clients_under_test" / "wait_for_report.js"
#: The aims: a full check of one Python client in under 10 s (issue 10), 1000x real time (issue 3).
AIM_WALL_SECONDS = 10.0
AIM_SPEED_UP = 1000.0


@dataclass(frozen=True)
class Measurement:
    """One full check of one client; ``outcome`` says whether every rule held."""

    client: str
    how: str
    examples: int
    wall_seconds: float
    virtual_seconds: float
    outcome: str

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.wall_seconds

    @property
    def speed_up(self) -> float:
        return self.virtual_seconds / self.wall_seconds


def measure(client: str, how: str, check: Callable[[], CheckResult]) -> Measurement:
    """Run ``check`` once, its client's prints silenced, timing the whole call.

    A check that crashes is recorded as such (examples and virtual time then read 0), so
    one broken run does not lose the others' numbers.
    """
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = check()
    except (Exception, ClientStopped) as error:
        wall = time.perf_counter() - started
        return Measurement(client, how, 0, wall, 0.0, f"crashed: {type(error).__name__}: {error}")
    wall = time.perf_counter() - started
    outcome = "passed" if result.passed else "BROKEN: " + ", ".join(result.broken_rules)
    return Measurement(client, how, result.examples_run, wall, result.virtual_seconds, outcome)


#: The Python clients measured, as ``module:function`` (the style names them in the table).
PYTHON_CLIENTS = {
    "exponential_backoff (Python)": "clients_under_test.exponential_backoff:wait_for_report",
    "fixed_interval (Python)": "clients_under_test.fixed_interval:wait_for_report",
}
_MEASURE_IN_TREE = """
import contextlib, io, json, sys, time
sys.path.insert(0, sys.argv[1])
from contract_tests import check_client
from contract_tests.cli import load_callable
client = load_callable(sys.argv[2])
started = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    result = check_client(client, examples=int(sys.argv[3]))
wall = time.perf_counter() - started
outcome = "passed" if result.passed else "BROKEN: " + ", ".join(result.broken_rules)
print(json.dumps([result.examples_run, wall, result.virtual_seconds, outcome]))
"""


def measure_in_tree(client: str, reference: str, tree: Path, examples: int) -> Measurement:
    """The same check run by the kit of another checkout ``tree``, in a process of its own."""
    ran = subprocess.run(
        [sys.executable, "-c", _MEASURE_IN_TREE, str(tree), reference, str(examples)],
        capture_output=True,
        text=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=False,
    )
    how = f"kit of {tree}"
    if ran.returncode != 0:
        return Measurement(client, how, 0, 1e-9, 0.0, f"crashed: {ran.stderr.strip()[-200:]}")
    examples_run, wall, virtual, outcome = json.loads(ran.stdout.strip().splitlines()[-1])
    return Measurement(client, how, examples_run, wall, virtual, outcome)


def table(measurements: Sequence[Measurement]) -> str:
    """A Markdown table of the measurements."""
    lines = [
        "| client | run on | examples | wall (s) | examples/s | virtual (s) | virtual/wall "
        "| outcome |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for m in measurements:
        lines.append(
            f"| {m.client} | {m.how} | {m.examples} | {m.wall_seconds:.1f} | "
            f"{m.examples_per_second:.1f} | {m.virtual_seconds:,.0f} | {m.speed_up:,.0f}x | "
            f"{m.outcome} |"
        )
    return "\n".join(lines)


def verdict(backoff: Measurement) -> str:
    """How the backoff client's full check compares with the issue's aims."""
    wall = "met" if backoff.wall_seconds < AIM_WALL_SECONDS else "NOT met"
    speed = "met" if backoff.speed_up >= AIM_SPEED_UP else "NOT met"
    return (
        f"Aims for the backoff client: full check under {AIM_WALL_SECONDS:g} s ({wall}: "
        f"{backoff.wall_seconds:.1f} s); at least {AIM_SPEED_UP:,.0f}x real time ({speed}: "
        f"{backoff.speed_up:,.0f}x)."
    )


def machine() -> str:
    """The interpreter, Node and core count the numbers were measured with."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return (
        f"Python {platform.python_version()}, Node {node.stdout.strip() or 'absent'}, "
        f"{os.cpu_count()} cores, {platform.machine()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--js-examples", type=int, default=DEFAULT_COMMAND_EXAMPLES)
    parser.add_argument("--no-js", action="store_true", help="skip the JavaScript client")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-corpus", action="store_true", help="skip the client corpus table")
    parser.add_argument("--corpus-only", action="store_true", help="only the client corpus table")
    parser.add_argument(
        "--corpus-limit",
        type=float,
        default=DEFAULT_LIMIT_SECONDS,
        help="real seconds after which one corpus check is stopped (its row says so)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of an earlier kit: each Python check runs there too, side by side",
    )
    arguments = parser.parse_args(argv)

    if arguments.corpus_only:
        return _corpus_only(arguments)
    measurements = [
        measure(
            "exponential_backoff (Python)",
            "kit's virtual clock",
            lambda: check_client(exponential_backoff.wait_for_report, examples=arguments.examples),
        ),
        measure(
            "fixed_interval (Python)",
            "kit's virtual clock",
            lambda: check_client(fixed_interval.wait_for_report, examples=arguments.examples),
        ),
    ]
    if arguments.before is not None:
        before = arguments.before.resolve()
        for position, (client, reference) in enumerate(PYTHON_CLIENTS.items()):
            measurements.insert(
                2 * position + 1, measure_in_tree(client, reference, before, arguments.examples)
            )
    if not arguments.no_js:
        measurements.append(
            measure(
                "wait_for_report.js (Node)",
                "preload library (discrete-event)",
                lambda: check_command(
                    f"node {JS_CLIENT} {{report_id}}", examples=arguments.js_examples
                ),
            )
        )

    command = shlex.join([".venv/bin/python", "bench/contract_kit.py", *sys.argv[1:]])
    text = "\n\n".join(
        [
            "# Contract kit benchmark",
            f"Produced by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
            f"({machine()}). Examples include the kit's explicit lifecycles and shrinking; "
            "wall time covers the whole check call, mock start-up included.",
            table(measurements),
            verdict(measurements[0]),
        ]
    )
    if not arguments.no_corpus:
        text += "\n\n" + _corpus_section(arguments)
    print(text)
    arguments.output.write_text(text + "\n")
    return 0


def _corpus_section(arguments: argparse.Namespace) -> str:
    print("Time of a default check per style of the client corpus:")
    timings = time_corpus(arguments.corpus_limit)
    return "\n\n".join(
        [
            "## Time of a default check per style",
            "Each correct client of `tests/contract_tests/corpus/`, checked with "
            "`python -m contract_tests check` and the default budget (documented profile), in "
            "a subprocess: wall time includes the interpreter's start.",
            corpus_table(timings),
        ]
    )


def _corpus_only(arguments: argparse.Namespace) -> int:
    command = shlex.join([".venv/bin/python", "bench/contract_kit.py", *sys.argv[1:]])
    text = "\n\n".join(
        [
            "# Contract kit benchmark: the client corpus",
            f"Produced by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({machine()}).",
            _corpus_section(arguments),
        ]
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
