"""Detecting a command that does not follow the virtual clock (contract_tests/clock_following.py).

A Go client run with nothing intercepting its time really sleeps: the watch sees its requests
seconds apart in real time with the virtual clock standing still and refuses a verdict. A
client whose sleeps reach the kit (the tracer, or the preload library's ``ADVANCE``) is not
flagged, however long its virtual sleeps.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.clock_following import (
    ClockNotFollowed,
    ExecutableKind,
    RealTimeSleepWatch,
    WatchedClock,
    classify_executable,
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


def test_a_real_time_gap_with_the_clock_standing_still_is_refused() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    watch.request_received()
    watch.response_sent()
    real.now += 5.0
    watch.request_received()
    assert not watch.followed
    with pytest.raises(ClockNotFollowed) as raised:
        watch.check("./client")
    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "./client does not follow the kit's virtual clock" in message
    assert "request #2 it waited 5.0 s of real time" in message
    assert "Name the Go or static binary itself as the command" in message


def test_an_advance_between_the_requests_means_the_wait_was_seen() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    watch.request_received()
    watch.response_sent()
    real.now += 0.5
    watch.advanced()
    real.now += 4.5  # e.g. a slow machine between the advance and the next request
    watch.request_received()
    watch.check()


def test_waiting_for_the_mocks_answer_is_not_the_clients_sleep() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)
    watch.request_received()
    real.now += 3.0  # the mock takes its time to answer
    watch.response_sent()
    real.now += 0.01
    watch.request_received()
    watch.check()


def test_the_watched_clock_reports_every_advance() -> None:
    real = FakeRealClock()
    watch = RealTimeSleepWatch(threshold=1.0, clock=real)

    class Authority:
        def now(self) -> float:
            return 1.0

        def monotonic(self) -> float:
            return 2.0

        def settle(self) -> None:
            return None

        def advance(self, seconds: float) -> bool:
            return seconds < 10

    clock = WatchedClock(Authority(), watch)
    watch.request_received()
    watch.response_sent()
    real.now += 5.0
    assert clock.advance(5) is True
    watch.request_received()
    watch.check()
    assert (clock.now(), clock.monotonic(), clock.advance(20)) == (1.0, 2.0, False)


# -- real commands, run by the kit (MockBackend.run_command) -----------------------------------


def test_a_go_client_sleeping_in_real_time_is_detected(
    backend: MockBackend, go_poller: Path
) -> None:
    # bash is a libc program, so the kit puts no tracer on it; the Go binary it execs sleeps
    # its 1.5 s in real time while the clock stands still (a tight loop, if it were believed).
    command = f"bash -c 'exec {go_poller} {{report_id}} 1.5'"
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
