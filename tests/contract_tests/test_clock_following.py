"""Detecting a command that does not follow the virtual clock (contract_tests/clock_following.py).

A Go client run with nothing intercepting its time really sleeps: the watch sees it asleep for
seconds of real time between an answer and its next request, with the virtual clock standing
still, and refuses a verdict. A client whose sleeps reach the kit (the tracer, or the preload
library's ``ADVANCE``) is not flagged, however long its virtual sleeps; nor is one that spends
seconds of real time awake (busy, starved of CPU, stopped) between two requests.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from contract_tests.clock_following import (
    ClockNotFollowed,
    ExecutableKind,
    RealTimeSleepWatch,
    WatchedClock,
    classify_executable,
    process_tree_asleep,
)
from contract_tests.harness import MockBackend
from contract_tests.model import Lifecycle, Observation

sys.path.insert(0, str(Path(__file__).parent))
from kit_commands import NEVER_FINISHES, build_go_client, journal_times


class FakeRealClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def go_poller(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_go_client("poller", tmp_path_factory.mktemp("go"))


# -- the watch, on a clock of our own ---------------------------------------------------------


def _samples(watch: RealTimeSleepWatch, real: FakeRealClock, seconds: float, asleep: bool) -> None:
    """What the sampler would feed the watch: a reading of the tree every 0.2 s."""
    for _ in range(round(seconds / 0.2)):
        real.now += 0.2
        watch.sample(asleep)


def _answered(watch: RealTimeSleepWatch, real: FakeRealClock) -> None:
    watch.request_received()
    watch.response_sent()
    watch.sample(True)  # the first reading of the gap: the tree already asleep


def test_a_real_time_sleep_with_the_clock_standing_still_is_refused() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    _answered(watch, real)
    _samples(watch, real, 5.0, asleep=True)
    watch.request_received()
    assert not watch.followed
    with pytest.raises(ClockNotFollowed) as raised:
        watch.check("./client")
    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "./client does not follow the kit's virtual clock" in message
    assert "request #2 it waited 5.0 s of real time" in message
    assert "Name the Go or static binary itself as the command" in message


@pytest.mark.parametrize("why", ["busy or starved of CPU (R)", "stopped (T)", "disk I/O (D)"])
def test_real_time_spent_awake_is_not_a_sleep(why: str) -> None:
    """Five real seconds between an answer and the next request, the tree never all asleep:
    a correct client on a loaded machine, stopped by a signal, or reading the disk."""
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    _answered(watch, real)
    _samples(watch, real, 5.0, asleep=False)
    watch.request_received()
    watch.check()


def test_only_time_asleep_adds_up_and_a_waking_moment_splits_it() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    _answered(watch, real)
    for _ in range(6):  # 0.6 s asleep, a reading awake (two intervals lost), and again
        _samples(watch, real, 0.6, asleep=True)
        _samples(watch, real, 0.2, asleep=False)
        watch.sample(True)
    watch.request_received()
    assert not watch.followed  # 6 x 0.6 s asleep: 3.6 s, though never 1 s in one stretch
    with pytest.raises(ClockNotFollowed, match=r"it waited 3\.6 s"):
        watch.check()


def test_a_late_reading_counts_no_more_than_max_step() -> None:
    """The kit itself starved: time it did not see is not held against the client."""
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real, max_step=0.25)
    _answered(watch, real)
    for _ in range(3):
        real.now += 2.0
        watch.sample(True)
    watch.request_received()
    watch.check()  # 6 real seconds between readings, 0.75 s credited


def test_an_advance_between_the_requests_means_the_wait_was_seen() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    _answered(watch, real)
    _samples(watch, real, 0.6, asleep=True)
    watch.advanced()
    assert watch.open_gap() is None
    _samples(watch, real, 4.4, asleep=True)  # e.g. waiting to be scheduled after the advance
    watch.request_received()
    watch.check()


def test_waiting_for_the_mocks_answer_is_not_the_clients_sleep() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    watch.request_received()
    _samples(watch, real, 3.0, asleep=True)  # the mock takes its time to answer
    watch.response_sent()
    real.now += 0.01
    watch.request_received()
    watch.check()


def test_a_reading_taken_across_a_request_is_dropped() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    _answered(watch, real)
    stale = watch.open_gap()
    assert stale is not None
    watch.request_received()
    watch.response_sent()
    watch.sample(True)
    real.now += 5.0
    watch.sample(True, stale)  # read before the request arrived: not about this gap
    watch.request_received()
    watch.check()


def test_the_watched_clock_reports_every_advance_and_its_own_work() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)

    class Authority:
        def now(self) -> float:
            return 1.0

        def monotonic(self) -> float:
            return 2.0

        def settle(self) -> None:
            # The client waits for the kit's SETTLED: asleep, but on the kit, not a clock.
            assert watch.open_gap() is None
            _samples(watch, real, 3.0, asleep=True)

        def advance(self, seconds: float) -> bool:
            return seconds < 10

    clock = WatchedClock(Authority(), watch)
    _answered(watch, real)
    clock.settle()
    assert watch.open_gap() is not None  # the gap goes on after the kit's work
    _samples(watch, real, 0.4, asleep=True)
    watch.request_received()
    watch.check()
    watch.response_sent()
    _samples(watch, real, 5.0, asleep=True)
    assert clock.advance(5) is True
    watch.request_received()
    watch.check()
    assert (clock.now(), clock.monotonic(), clock.advance(20)) == (1.0, 2.0, False)


# -- reading a process tree's state ------------------------------------------------------------


def _started(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, start_new_session=True)


def _until(condition: Callable[[], bool]) -> bool:
    """Poll ``condition`` for up to 30 s of real time (a bound, not a speed goal)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def _state(pid: int) -> str:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]


def test_a_tree_of_sleeping_processes_is_asleep_and_one_busy_child_wakes_it() -> None:
    sleeping = _started(["bash", "-c", "sleep 60 & sleep 60; wait"])
    busy = _started(["bash", "-c", "sleep 60 & while :; do :; done"])
    try:
        # Every task sleeps (bash in wait, both sleeps in nanosleep): asleep, once started.
        assert _until(lambda: process_tree_asleep(sleeping.pid))
        # A busy loop is running or runnable at every reading, however loaded the machine.
        assert _until(lambda: _state(busy.pid) == "R")
        assert not any(process_tree_asleep(busy.pid) for _ in range(20))
        # A stopped process is not asleep, and nor is its tree.
        os.killpg(sleeping.pid, signal.SIGSTOP)
        assert _until(lambda: _state(sleeping.pid) == "T")
        assert not process_tree_asleep(sleeping.pid)
    finally:
        for process in (sleeping, busy):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not process_tree_asleep(sleeping.pid)  # gone: nothing to judge


# -- real commands, run by the kit (MockBackend.run_command) -----------------------------------


def test_a_go_client_sleeping_in_real_time_is_detected(
    backend: MockBackend, go_poller: Path
) -> None:
    # bash is a libc program, so the kit puts no tracer on it; the Go binary it execs sleeps
    # its 2 s in real time while the clock stands still (a tight loop, if it were believed).
    command = f"bash -c 'exec {go_poller} {{report_id}} 2'"
    with pytest.raises(ClockNotFollowed, match=r"before its request #2 it waited \d+\.\d s"):
        backend.run_command(command, NEVER_FINISHES, "case_go")
    assert journal_times(backend) == [0.0, 0.0]  # two polls, the clock never moved


def test_the_same_go_client_under_the_tracer_is_not(backend: MockBackend, go_poller: Path) -> None:
    done_at_4_5 = Lifecycle(
        path="completed",
        analysis="accident_only",
        timeline=(Observation(0, "pending", None), Observation(4.5, "completed", None)),
    )
    run = backend.run_command(f"{go_poller} {{report_id}} 1.5", done_at_4_5, "case_go")
    assert run.did_return and run.returned["status"] == "completed"
    assert [request.at for request in run.requests] == [0.0, 1.5, 3.0, 4.5]


def test_a_client_whose_sleeps_reach_the_kit_is_not_flagged(backend: MockBackend) -> None:
    """The preload library's side: bash's ``sleep 5`` is an ``ADVANCE`` over the socket."""
    poll = 'curl -sf -H "X-API-Key: $SW_API_KEY" "$SW_BASE_URL/api/reports/{report_id}"'
    script = f"for i in 1 2 3; do {poll} >/dev/null || exit 1; sleep 5; done; echo null"
    run = backend.run_command(f"bash -c {shlex.quote(script)}", NEVER_FINISHES, "case_sh")
    assert run.did_return and run.raised is None
    assert [request.at for request in run.requests] == [0.0, 5.0, 10.0]
    assert run.ended_at == 15.0


_POLL = 'curl -s -H "X-API-Key: $SW_API_KEY" "$SW_BASE_URL/api/reports/{report_id}"'
#: A second request that is not a poll of the report (two polls at one virtual instant would
#: be a tight loop, which is not what these tests are about).
_OTHER = 'curl -s -H "X-API-Key: $SW_API_KEY" "$SW_BASE_URL/api/reports/rpt_another"'


def _release_after(marker: Path, action: Callable[[], None]) -> threading.Thread:
    """Once ``marker`` exists, hold the client 1.5 s of real time, then ``action()``."""

    def hold() -> None:
        if _until(marker.exists):
            time.sleep(1.5)  # the client's real-time gap: at least this long, by construction
        action()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    return thread


def test_a_client_busy_on_the_cpu_between_two_requests_is_not_flagged(
    backend: MockBackend, tmp_path: Path
) -> None:
    """Between an answer and its next request, the client computes for 1.5 s of real time (as
    a correct client starved of CPU on a loaded machine takes that long) with no sleep: the
    watch that counted real time alone refused it (exit 2); running is not sleeping."""
    busy, release = tmp_path / "busy", tmp_path / "release"
    spin = f'while [ ! -e "{release}" ]; do :; done'
    script = f"{_POLL} >/dev/null; : > {busy}; {spin}; {_OTHER} >/dev/null; echo null"
    holder = _release_after(busy, release.touch)
    run = backend.run_command(f"bash -c {shlex.quote(script)}", NEVER_FINISHES, "case_busy")
    holder.join(5)
    assert run.did_return and run.raised is None and run.stopped is None
    assert [request.at for request in run.requests] == [0.0, 0.0]


def test_a_client_stopped_by_a_signal_between_two_requests_is_not_flagged(
    backend: MockBackend, tmp_path: Path
) -> None:
    """The client is stopped (SIGSTOP, state T) for 1.5 s of real time, then continued."""
    pid_file = tmp_path / "pid"
    stop = f"echo $$ > {pid_file}; kill -STOP $$"
    script = f"{_POLL} >/dev/null; {stop}; {_OTHER} >/dev/null; echo null"

    def hold_then_resume() -> None:
        if _until(lambda: pid_file.exists() and pid_file.read_text().strip().isdigit()):
            pid = int(pid_file.read_text())
            if _until(lambda: _state(pid) == "T"):
                time.sleep(1.5)  # stopped at least this long, by construction
            os.kill(pid, signal.SIGCONT)

    holder = threading.Thread(target=hold_then_resume, daemon=True)
    holder.start()
    run = backend.run_command(f"bash -c {shlex.quote(script)}", NEVER_FINISHES, "case_stopped")
    holder.join(5)
    assert run.did_return and run.raised is None and run.stopped is None
    assert [request.at for request in run.requests] == [0.0, 0.0]


# -- classifying executables ----------------------------------------------------------------


def test_go_binaries_are_classified_as_bypassing_libc(go_poller: Path) -> None:
    kind = classify_executable([str(go_poller), "rpt_1"])
    assert kind is ExecutableKind.GO and kind.bypasses_libc


def test_libc_programs_and_scripts_are_classified_as_reachable(tmp_path: Path) -> None:
    assert classify_executable(["bash", "-c", "true"]) is ExecutableKind.LIBC
    script = tmp_path / "client.sh"
    script.write_text("#!/usr/bin/env -S bash -e\ncurl ...\n")
    script.chmod(0o755)
    assert classify_executable([str(script)]) is ExecutableKind.LIBC
    assert not ExecutableKind.LIBC.bypasses_libc


def test_static_binaries_and_unknown_files(tmp_path: Path) -> None:
    source = tmp_path / "hello.c"
    source.write_text("int main(void) { return 0; }\n")
    static = tmp_path / "hello"
    cc = shutil.which("cc") or "gcc"
    subprocess.run([cc, "-static", "-o", str(static), str(source)], check=True, timeout=60)
    assert classify_executable([str(static)]) is ExecutableKind.STATIC
    assert classify_executable(["no-such-program-here"]) is ExecutableKind.UNKNOWN
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    assert classify_executable([str(text)]) is ExecutableKind.UNKNOWN
    assert classify_executable([]) is ExecutableKind.UNKNOWN
