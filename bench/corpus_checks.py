"""Time of a default check of every style of the client corpus (run by bench/contract_kit.py).

Each correct client of ``tests/contract_tests/corpus/`` is checked the way a user checks
theirs, with the kit's command line and its default budget (``--client MODULE:FUNCTION`` for
Python, ``--client-cmd`` for bash, Node and Go), in a subprocess with a time limit, so a style
that hangs or fails still gets its row: the verdict column says what the kit answered (or
that it was stopped). Goals from issue 10: a Python style under 10 s, a command style under
60 s, on this 2-core machine.

    .venv/bin/python bench/contract_kit.py --corpus-only
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_PARENT = ROOT / "tests" / "contract_tests"
sys.path.insert(0, str(CORPUS_PARENT))

from corpus import CLIENTS, CorpusClient, CorpusError, build_go_clients  # noqa: E402

__all__ = ["GOALS", "CorpusTiming", "corpus_table", "time_corpus"]

#: Goal for the wall time of a default check, by kind of client (issue 10).
GOALS = {"python": 10.0, "command": 60.0}
#: Real seconds after which a check is stopped and reported as such.
DEFAULT_LIMIT_SECONDS = 300.0


@dataclass(frozen=True)
class CorpusTiming:
    """One default check of one correct client of the corpus."""

    style: str
    how: str
    wall_seconds: float
    goal_seconds: float
    verdict: str

    @property
    def goal_met(self) -> bool:
        return self.verdict == "passed" and self.wall_seconds < self.goal_seconds


def _kit_arguments(client: CorpusClient, go_bin: Path | None) -> list[str]:
    if client.kind == "python":
        return ["--client", client.target]
    return ["--client-cmd", client.command(go_bin)]


def _verdict(ran: subprocess.CompletedProcess[str]) -> str:
    if ran.returncode == 0:
        return "passed"
    result = re.search(r"^Result: (.*)$", ran.stdout, re.MULTILINE)
    if ran.returncode == 1 and result:
        return f"FAILED: {result.group(1)}"
    last = (ran.stderr.strip() or ran.stdout.strip()).splitlines()[-1:] or ["no output"]
    return f"ERROR (exit {ran.returncode}): {last[0][:160]}"


def time_one(client: CorpusClient, go_bin: Path | None, limit: float) -> CorpusTiming:
    """Check ``client`` with the kit's command line and default budget; time the whole run."""
    how = "in-process" if client.kind == "python" else "command"
    goal = GOALS[client.kind]
    try:
        arguments = _kit_arguments(client, go_bin)
    except CorpusError as error:
        return CorpusTiming(client.style, how, 0.0, goal, f"NOT RUN: {error}")
    environment = {**os.environ, "PYTHONPATH": str(CORPUS_PARENT)}
    started = time.perf_counter()
    try:
        ran = subprocess.run(
            [sys.executable, "-m", "contract_tests", "check", *arguments],
            capture_output=True,
            text=True,
            timeout=limit,
            env=environment,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        wall = time.perf_counter() - started
        return CorpusTiming(client.style, how, wall, goal, f"STOPPED after {limit:g} s")
    return CorpusTiming(client.style, how, time.perf_counter() - started, goal, _verdict(ran))


def time_corpus(limit: float = DEFAULT_LIMIT_SECONDS) -> list[CorpusTiming]:
    """A default check of each correct client of the corpus, one after the other."""
    timings = []
    with tempfile.TemporaryDirectory(prefix="corpus-go-") as work:
        try:
            go_bin: Path | None = build_go_clients(Path(work))
        except CorpusError as error:
            print(f"warning: {error}", file=sys.stderr)
            go_bin = None
        for client in CLIENTS:
            if client.correct:
                timings.append(time_one(client, go_bin, limit))
                print(f"  {client.style}: {timings[-1].wall_seconds:.1f} s, {timings[-1].verdict}")
    return timings


def corpus_table(timings: Sequence[CorpusTiming]) -> str:
    """The Markdown table: style, how it runs, wall time, goal, and the kit's verdict."""
    lines = [
        "| style (correct client) | run as | wall (s) | goal (s) | goal met | verdict |",
        "|---|---|---:|---:|---|---|",
    ]
    for t in timings:
        met = "yes" if t.goal_met else "no"
        lines.append(
            f"| {t.style} | {t.how} | {t.wall_seconds:.1f} | < {t.goal_seconds:g} | {met} "
            f"| {t.verdict} |"
        )
    return "\n".join(lines)
