"""Benchmark of the syscall tracer (run by hand, not by tests): what it costs and how exact it is.

1. Cost of one intercepted system call: a C loop of 100 000 ``clock_gettime`` system calls,
   alone and under the tracer (and under ``strace --seccomp-bpf`` when installed, as the
   reference for what a ptrace stop costs on this machine).
2. A default command check's worth of Go client runs: 30 runs of a correct Go polling client
   (5 s ``time.Sleep``, 10-minute context, ``net/http`` to the mock), against lifecycles of 2 to
   12 minutes and one that never ends (the context gives up at 10 minutes): real time, polls,
   tracer stops per poll, and the gaps between polls in virtual time (min and max).

The clock is the kit's: a ``MockBackend`` (the mock behind the loopback server) served by a
``CommandClock``, with the tracer alone (no preload library).

    .venv/bin/python bench/syscall_clock.py
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "contract_tests"))

from kit_commands import build_go_client, command_environment  # noqa: E402

from contract_tests.command_clock import CommandClock  # noqa: E402
from contract_tests.harness import MockBackend  # noqa: E402
from contract_tests.model import Lifecycle, Observation  # noqa: E402
from contract_tests.syscall_clock import build_syscall_clock  # noqa: E402

__all__ = ["main"]

LOOP_C = r"""
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
int main(void) {
    struct timespec ts;
    for (int i = 0; i < 100000; i++) syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    printf("%ld\n", (long)ts.tv_sec);
    return 0;
}
"""
SYSCALLS = 100_000
PENDING_POLLS = (24, 36, 48, 60, 144, 10_000)  # 2, 3, 4, 5, 12 minutes, and never
POLL_LINE = re.compile(r"^poll \d+ \w+ at (\d+)$", re.MULTILINE)


def _timed(argv: list[str], environment: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    completed = subprocess.run(
        argv, env=environment, capture_output=True, text=True, timeout=600, check=False
    )
    return time.perf_counter() - start, completed.stderr


def _lifecycle(pending_polls: int) -> Lifecycle:
    """Pending for ``pending_polls`` polls 5 s apart, then completed."""
    return Lifecycle(
        path="completed",
        analysis="accident_only",
        timeline=(
            Observation(0, "pending", None),
            Observation(5 * pending_polls, "completed", None),
        ),
    )


def measure_stop_cost(tracer: Path, backend: MockBackend, scratch: Path) -> list[str]:
    source = scratch / "loop.c"
    source.write_text(LOOP_C)
    loop = scratch / "loop"
    subprocess.run(["cc", "-O2", "-o", str(loop), str(source)], check=True)
    native, _ = _timed([str(loop)])
    with CommandClock(backend.clock) as clock:
        environment = command_environment(backend, clock, preload=False)
        traced, _ = _timed([str(tracer), str(loop)], environment)
    rows = [
        f"| {SYSCALLS} clock_gettime, native | {native:.3f} s | {native / SYSCALLS * 1e6:.2f} µs |",
        f"| the same under syscall_clock | {traced:.3f} s | {traced / SYSCALLS * 1e6:.1f} µs |",
    ]
    strace = shutil.which("strace")
    if strace:
        seconds, _ = _timed(
            [
                strace,
                "-f",
                "--seccomp-bpf",
                "-e",
                "trace=clock_gettime",
                "-o",
                "/dev/null",
                str(loop),
            ]
        )
        rows.append(
            f"| the same under strace --seccomp-bpf | {seconds:.3f} s"
            f" | {seconds / SYSCALLS * 1e6:.1f} µs |"
        )
    return rows


def measure_check(tracer: Path, poller: Path, backend: MockBackend) -> list[str]:
    total_real = 0.0
    polls = stops = 0
    gaps: list[int] = []
    runs = 30
    for run, pending in zip(range(runs), itertools.cycle(PENDING_POLLS), strict=False):
        report_id, _created = backend.prepare(_lifecycle(pending), f"case_{run}")
        with CommandClock(backend.clock) as clock:
            environment = command_environment(
                backend, clock, preload=False, RMK_SYSCALL_CLOCK_STATS="1"
            )
            seconds, stderr = _timed([str(tracer), str(poller), report_id], environment)
        total_real += seconds
        times = [int(sent) for sent in POLL_LINE.findall(stderr)]  # the client's own clock
        polls += len(times)
        found = re.search(r"syscall_clock: (\d+) stops", stderr)
        stops += int(found.group(1)) if found else 0
        gaps.extend(later - earlier for earlier, later in itertools.pairwise(times))
    return [
        f"| runs | {runs} |",
        f"| polls | {polls} |",
        f"| real time, all runs | {total_real:.1f} s |",
        f"| real time per run (mean) | {total_real / runs:.2f} s |",
        f"| real time per poll | {total_real / polls * 1000:.1f} ms |",
        f"| tracer stops per poll | {stops / polls:.0f} |",
        f"| gap between polls, min / max (virtual) | {min(gaps)} / {max(gaps)} ns |",
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        tracer = build_syscall_clock(scratch / "native")
        poller = build_go_client("poller", scratch)
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
        print("| what | time | per call |\n|---|---|---|")
        backend = MockBackend()
        try:
            print("\n".join(measure_stop_cost(tracer, backend, scratch)))
            print("\n| a default check's worth of Go client runs | |\n|---|---|")
            print("\n".join(measure_check(tracer, poller, backend)))
        finally:
            backend.close()


if __name__ == "__main__":
    main()
