"""The syscall tracer (contract_tests/native/syscall_clock.c) on the kit's own clock.

Every assertion is on virtual time, exactly: a sleep of N s moves the clock by N s, a Go
client's polls are 5 s apart to the nanosecond, a 10-minute context ends at 10 minutes. A
tracer that let a program sleep in real time would not fail an assertion but the test's own
time limit (an hour of sleeping is asked for).

The clock is a MockBackend's (the mock behind the kit's loopback server) served by a
CommandClock; commands run under the tracer alone (no ``LD_PRELOAD``), and the Go poller polls
the mock's ``GET /api/reports/:id``.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.command_clock import CommandClock
from contract_tests.harness import MockBackend
from contract_tests.model import Lifecycle, Observation
from contract_tests.syscall_clock import (
    EXIT_STOPPED,
    EXIT_TRACER_FAILED,
    SyscallClockUnavailable,
    build_syscall_clock,
    syscall_clock_argv,
    tracer_failure,
)

sys.path.insert(0, str(Path(__file__).parent))
from kit_commands import (
    KIT_START_EPOCH,
    NEVER_FINISHES,
    build_go_client,
    command_environment,
    elapsed,
    journal_times,
    pending_report,
    stop_after,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.uname().machine != "x86_64",
    reason="the syscall tracer is for x86_64 Linux",
)

S = 1_000_000_000
START_REALTIME_NS = int(KIT_START_EPOCH) * S


@pytest.fixture(scope="module")
def tracer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_syscall_clock(tmp_path_factory.mktemp("native"))


@pytest.fixture(scope="module")
def go_binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("go")
    return {name: build_go_client(name, directory) for name in ("sleeper", "poller")}


@pytest.fixture
def clock(backend: MockBackend) -> Iterator[CommandClock]:
    with CommandClock(backend.clock) as served:
        yield served


def run_traced(
    tracer: Path, backend: MockBackend, clock: CommandClock, argv: list[str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` under ``tracer`` alone (no preload library) on ``clock``, with the mock's
    ``SW_BASE_URL`` and ``SW_API_KEY``."""
    return subprocess.run(
        syscall_clock_argv(argv, tracer=tracer),
        env=command_environment(backend, clock, preload=False),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_build_is_cached_by_the_hash_of_the_source(tmp_path: Path) -> None:
    first = build_syscall_clock(tmp_path)
    built_at = first.stat().st_mtime_ns
    again = build_syscall_clock(tmp_path)
    assert again == first and again.stat().st_mtime_ns == built_at
    assert first.name.startswith("syscall_clock-") and os.access(first, os.X_OK)


def test_a_failed_build_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(SyscallClockUnavailable, match="make setup"):
        build_syscall_clock(tmp_path, compiler="/bin/false")


def test_without_the_kit_the_tracer_fails_and_says_why(tracer: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RMK_CLOCK")}
    completed = subprocess.run(
        [str(tracer), "true"], env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == EXIT_TRACER_FAILED
    failure = tracer_failure(completed.returncode, completed.stderr)
    assert failure is not None
    assert "RMK_CLOCK_SOCKET and RMK_CLOCK_SHM must be set" in str(failure)
    # a client that exits 120 itself, without the tracer's word, is not the tracer failing
    assert tracer_failure(EXIT_TRACER_FAILED, "client: no such report\n") is None


def test_a_go_sleep_of_an_hour_is_an_hour_of_virtual_time(
    tracer: Path, backend: MockBackend, clock: CommandClock, go_binaries: dict[str, Path]
) -> None:
    completed = run_traced(tracer, backend, clock, [str(go_binaries["sleeper"]), "3600"])
    assert completed.returncode == 0, completed.stderr
    wall_lines = completed.stdout.split()
    start, end = int(wall_lines[1]), int(wall_lines[2])
    assert start == START_REALTIME_NS  # time.Now() read the virtual clock, not the vDSO's
    assert end - start == 3600 * S
    assert completed.stdout.strip().endswith(f"slept {3600 * S}")
    assert elapsed(backend) == 3600.0  # and not one of sysmon's sleeps while it exits
    assert len(clock.hello_pids) == 1  # the tracer said HELLO on its one connection


def test_a_go_polling_client_polls_exactly_every_five_seconds(
    backend: MockBackend, go_binaries: dict[str, Path]
) -> None:
    # The kit's own run of a command client: it puts a Go binary under the tracer itself.
    done_at_150 = Lifecycle(
        path="completed",
        analysis="accident_only",
        timeline=(Observation(0, "pending", None), Observation(150, "completed", None)),
    )
    run = backend.run_command(f"{go_binaries['poller']} {{report_id}}", done_at_150, "case_go")
    assert run.raised is None and run.did_return, run.raised
    assert run.returned["status"] == "completed" and len(run.requests) == 31
    times = [request.at for request in run.requests]
    assert [later - earlier for earlier, later in itertools.pairwise(times)] == [5.0] * 30
    # start-up, requests and the tracer's own work cost (almost) no virtual time
    assert times[0] < 0.001


def test_a_go_clients_ten_minute_context_ends_it_at_ten_minutes(
    backend: MockBackend, go_binaries: dict[str, Path]
) -> None:
    run = backend.run_command(f"{go_binaries['poller']} {{report_id}}", NEVER_FINISHES, "case_go")
    assert run.stopped is None and "context deadline exceeded" in str(run.raised)
    # at 0, 5, ..., 595 s; the deadline and the end of the 120th sleep are the same instant,
    # so Go's runtime may let a 121st request start before the context's timer cancels it
    assert len(run.requests) in (120, 121)
    assert run.requests[119].at - run.requests[0].at == 595.0
    assert run.ended_at == 600.0


def test_stop_from_the_kit_kills_the_command_instead_of_resuming_it(
    tracer: Path, backend: MockBackend, clock: CommandClock, go_binaries: dict[str, Path]
) -> None:
    report_id = pending_report(backend)
    stop_after(backend, 62.0)
    completed = run_traced(tracer, backend, clock, [str(go_binaries["poller"]), report_id])
    assert completed.returncode == EXIT_STOPPED
    polls = [line for line in completed.stderr.splitlines() if line.startswith("poll ")]
    assert len(polls) == 13  # 0..60 s; the sleep past 62 s never returned
    assert journal_times(backend)[-1] == 60.0 and elapsed(backend) <= 62.0


def test_libc_programs_and_their_children_follow_too(
    tracer: Path, backend: MockBackend, clock: CommandClock
) -> None:
    script = "date +%s%N; sleep 2.5; date +%s%N; sleep 0.25; date +%s%N"
    completed = run_traced(tracer, backend, clock, ["bash", "-c", script])
    assert completed.returncode == 0, completed.stderr
    first, second, third = (int(line) for line in completed.stdout.split())
    assert first == START_REALTIME_NS  # glibc lost its vDSO at exec: date asked the tracer
    assert (second - first, third - second) == (2_500_000_000, 250_000_000)


def test_threads_sleeping_at_once_advance_the_clock_once(
    tracer: Path, backend: MockBackend, clock: CommandClock
) -> None:
    program = (
        "import threading, time\n"
        "start = time.monotonic_ns()\n"
        "threads = [threading.Thread(target=time.sleep, args=(s,)) for s in (1, 3, 2)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(time.monotonic_ns() - start)\n"
    )
    completed = run_traced(tracer, backend, clock, [sys.executable, "-c", program])
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout) == 3 * S
    assert elapsed(backend) == 3.0


def test_a_timed_wait_ends_early_when_its_event_comes_and_on_time_when_not(
    tracer: Path, backend: MockBackend, clock: CommandClock
) -> None:
    program = (
        "import os, select, threading, time\n"
        "r, w = os.pipe()\n"
        "threading.Thread(target=lambda: (time.sleep(2), os.write(w, b'x'))).start()\n"
        "start = time.monotonic_ns()\n"
        "ready = select.select([r], [], [], 10)[0]\n"
        "print(bool(ready), time.monotonic_ns() - start)\n"
        "start = time.monotonic_ns()\n"
        "print(threading.Event().wait(7), time.monotonic_ns() - start)\n"
        "print(select.poll().poll(1500), time.monotonic_ns() - start)\n"
    )
    completed = run_traced(tracer, backend, clock, [sys.executable, "-c", program])
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        f"True {2 * S}",  # select woke at the write, 2 s in, not at its 10 s timeout
        f"False {7 * S}",  # Event.wait (a futex with a timeout) timed out at exactly 7 s
        f"[] {8_500_000_000}",  # poll with nothing to wait for: its whole 1.5 s
    ]


def test_sigterm_to_the_tracer_ends_the_command_with_it(
    tracer: Path, backend: MockBackend, clock: CommandClock
) -> None:
    process = subprocess.Popen(
        syscall_clock_argv(["bash", "-c", "cat; echo never"], tracer=tracer),
        env=command_environment(backend, clock, preload=False),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        while clock.waits == 0 and process.poll() is None:  # until the command waits on stdin
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM
    assert output == ""  # cat was killed, not left to finish


STATIC_PROGRAM = r"""
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
int main(void) {
    struct timespec start, end;
    struct timeval wall;
    clock_gettime(CLOCK_MONOTONIC, &start);
    sleep(3);
    usleep(500000);
    clock_gettime(CLOCK_MONOTONIC, &end);
    gettimeofday(&wall, NULL);
    printf("%lld %ld %ld\n", (end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec),
           (long)wall.tv_sec, (long)time(NULL));
    return 0;
}
"""


def test_a_static_build_follows_the_virtual_clock(
    tracer: Path, backend: MockBackend, clock: CommandClock, tmp_path: Path
) -> None:
    source = tmp_path / "static.c"
    source.write_text(STATIC_PROGRAM)
    program = tmp_path / "static"
    subprocess.run(["cc", "-static", "-O2", "-o", str(program), str(source)], check=True)
    completed = run_traced(tracer, backend, clock, [str(program)])
    assert completed.returncode == 0, completed.stderr
    seconds = START_REALTIME_NS // S + 3
    assert completed.stdout.split() == ["3500000000", str(seconds), str(seconds)]
