"""Command clients on the discrete-event clock: the preload library and the kit's server.

Each test runs a real command (bash, coreutils, curl, node, python) under a CommandClock on the
kit's own clock (a MockBackend: the mock behind the loopback server), and checks what the
command saw, what the mock saw and how far the clock moved.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kit_commands import (
    KIT_START_EPOCH,
    elapsed,
    journal_times,
    mock_control,
    moved,
    pending_report,
    stop_after,
)

from contract_tests.command_clock import CommandClock
from contract_tests.errors import UsageError
from contract_tests.harness import API_KEY, MockBackend
from contract_tests.kit_clock import MONOTONIC_START
from contract_tests.native_build import LIBRARY_SOURCE, virtual_clock_library

START_REALTIME = KIT_START_EPOCH
#: A slow mock: every API request waits this long (real time) before the API answers.
SLOW_ANSWER = {"rules": [{"fault": "latency", "ms": 200}]}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return virtual_clock_library(tmp_path_factory.mktemp("clock-cache"))


@pytest.fixture
def clock(backend: MockBackend, library: Path) -> Iterator[CommandClock]:
    with CommandClock(backend.clock, library=library) as started:
        yield started


def run(
    clock: CommandClock, argv: list[str], **extra: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``argv`` on the clock; its result and the real seconds it took."""
    environment = {**os.environ, **clock.environment(), **extra}
    started = time.monotonic()
    completed = subprocess.run(
        argv, env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed, time.monotonic() - started


def numbers(text: str) -> list[float]:
    return [float(word) for word in text.split()]


def test_a_bash_sleep_moves_the_clock_by_exactly_its_length_without_waiting(
    clock: CommandClock, backend: MockBackend
) -> None:
    done, real = run(clock, ["bash", "-c", "date +%s.%N; sleep 5; date +%s.%N"])
    before, after = numbers(done.stdout)
    assert before == START_REALTIME
    assert after - before == 5.0
    assert moved(clock) == [5.0]
    assert real < 5.0  # the sleep did not happen in real time
    assert clock.followed and [advance.requested for advance in clock.advances] == [5.0]


def test_an_hour_long_sleep_returns_at_once_with_the_clock_an_hour_on(
    clock: CommandClock, backend: MockBackend
) -> None:
    done, real = run(clock, ["bash", "-c", "date +%s; sleep 3600; date +%s"])
    assert numbers(done.stdout) == [START_REALTIME, START_REALTIME + 3600]
    assert moved(clock) == [3600.0]
    assert real < 60.0


def test_bash_seconds_and_epochseconds_follow_the_clock(
    clock: CommandClock, backend: MockBackend
) -> None:
    script = "echo $EPOCHSECONDS $SECONDS; sleep 7; echo $EPOCHSECONDS $SECONDS"
    done, _ = run(clock, ["bash", "-c", script])
    assert numbers(done.stdout) == [START_REALTIME, 0, START_REALTIME + 7, 7]


def test_a_python_subprocess_sleeps_and_reads_time_on_the_clock(
    clock: CommandClock, backend: MockBackend
) -> None:
    script = textwrap.dedent("""
        import asyncio, datetime, select, time
        wall, steady = time.time(), time.monotonic()
        today = datetime.datetime.now(datetime.timezone.utc).timestamp()
        time.sleep(5)
        select.select([], [], [], 2.5)
        asyncio.run(asyncio.sleep(1.5))
        print(wall, today, time.time() - wall, time.monotonic() - steady)
    """)
    done, _ = run(clock, [sys.executable, "-c", script])
    assert numbers(done.stdout) == [START_REALTIME, START_REALTIME, 9.0, 9.0]
    assert moved(clock) == [5.0, 2.5, 1.5]


def test_a_wait_on_something_already_ready_does_not_move_the_clock(
    clock: CommandClock, backend: MockBackend
) -> None:
    script = textwrap.dedent("""
        import os, select, time
        read_end, write_end = os.pipe()
        os.write(write_end, b"x")
        start = time.monotonic()
        ready = select.select([read_end], [], [], 30)[0]
        print(len(ready), time.monotonic() - start)
    """)
    done, _ = run(clock, [sys.executable, "-c", script])
    assert numbers(done.stdout) == [1, 0]
    assert moved(clock) == []


def test_sleeps_that_arrive_during_an_advance_overlap_instead_of_adding_up(
    clock: CommandClock, backend: MockBackend
) -> None:
    # The mock is still answering: up to 50 pipelined requests of 200 ms each keep its loop
    # busy (10 s at most), so the first advance waits to settle until the test hangs up.
    report_id = pending_report(backend)
    mock_control(backend, "PUT", "/_mock/faults", SLOW_ANSWER)
    poll = f"GET /api/reports/{report_id} HTTP/1.1\r\nHost: kit\r\nX-API-Key: {API_KEY}\r\n\r\n"
    busy = socket.create_connection(("127.0.0.1", backend.server.port))
    busy.sendall(poll.encode() * 50)
    replies: list[str] = []

    def sleep_for(seconds: int) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as speaker:
            speaker.connect(str(clock.socket_path))
            speaker.sendall(f"ADVANCE {seconds * 10**9}\n".encode())
            replies.append(speaker.makefile("rb").readline().decode().strip())

    sleepers = [threading.Thread(target=sleep_for, args=(s,)) for s in (5, 3)]
    for sleeper in sleepers:
        sleeper.start()
    deadline = time.monotonic() + 10
    while clock.advances_received < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # both sleeps reached the kit while the first advance is settling
    busy.close()  # unread answers: a reset, and the mock's loop drops the rest
    for sleeper in sleepers:
        sleeper.join(10)
    assert replies == ["OK", "OK"]
    assert sum(moved(clock)) == 5.0  # the later deadline, not 5 + 3
    assert sorted(advance.requested for advance in clock.advances) == [3.0, 5.0]


def test_the_clock_stands_still_while_curl_waits_for_a_slow_server(
    clock: CommandClock, backend: MockBackend
) -> None:
    url = f"{backend.base_url}/api/reports/{pending_report(backend)}"
    mock_control(backend, "PUT", "/_mock/faults", SLOW_ANSWER)
    script = 'for i in 1 2 3 4; do curl -sf -H "X-API-Key: $KEY" "$URL" >/dev/null || exit 1; sleep 5; done'
    run(clock, ["bash", "-c", script], URL=url, KEY=API_KEY)
    assert journal_times(backend) == [0.0, 5.0, 10.0, 15.0]
    assert moved(clock) == [5.0] * 4  # nothing but the sleeps moved the clock


def test_node_timers_advance_exactly_and_fetch_reaches_loopback(
    clock: CommandClock, backend: MockBackend
) -> None:
    url = f"{backend.base_url}/api/reports/{pending_report(backend)}"
    mock_control(backend, "PUT", "/_mock/faults", SLOW_ANSWER)
    script = textwrap.dedent("""
        const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        (async () => {
          const start = Date.now(), steady = performance.now();
          await new Promise((resolve) => setTimeout(resolve, 5000));
          const afterTimer = Date.now();
          const headers = {"X-API-Key": process.env.KEY};
          const body = await (await fetch(process.env.URL, {headers})).json();
          const afterFetch = Date.now();
          await sleep(5000);
          console.log(start / 1000, afterTimer - start, afterFetch - afterTimer,
                      Date.now() - afterFetch, Math.round(performance.now() - steady),
                      body.data.status);
        })();
    """)
    done, _ = run(clock, ["node", "-e", script], URL=url, KEY=API_KEY)
    *times, status = done.stdout.split()
    assert numbers(" ".join(times)) == [START_REALTIME, 5000, 0, 5000, 10000]
    assert status == "pending"
    assert journal_times(backend) == [5.0]
    # undici's own timers may wake the loop half-way through a sleep: the total is exact.
    assert moved(clock)[0] == 5.0
    assert elapsed(backend) == pytest.approx(10.0, abs=1e-9)


@pytest.mark.parametrize(
    ("script", "advances"),
    [
        ("sleep 30; echo first; sleep 40; echo second", [30.0]),
        ("echo first; sleep 1e10; echo second", []),  # in 24-day nanosleeps
    ],
)
def test_a_stop_answer_freezes_the_command_until_it_is_killed(
    backend: MockBackend, library: Path, script: str, advances: list[float]
) -> None:
    stop_after(backend, 60.0)
    with CommandClock(backend.clock, library=library) as clock:
        process = subprocess.Popen(
            ["bash", "-c", script],
            env={**os.environ, **clock.environment()},
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert clock.stopped.wait(timeout=30)
            time.sleep(0.3)
            assert process.poll() is None  # still frozen in the refused sleep
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate(timeout=10)
    assert output.split() == ["first"]
    assert moved(clock) == advances


def test_a_static_binary_never_says_hello_and_is_seen_not_to_follow(
    clock: CommandClock, backend: MockBackend, tmp_path: Path
) -> None:
    source = tmp_path / "sleeper.c"
    source.write_text(
        "#include <time.h>\nint main(void) {\n"
        "  struct timespec pause = {0, 50000000};\n  return nanosleep(&pause, 0);\n}\n"
    )
    binary = tmp_path / "sleeper"
    subprocess.run(["cc", "-static", "-o", str(binary), str(source)], check=True)
    _, real = run(clock, [str(binary)])
    assert not clock.followed and clock.hello_pids == []
    assert moved(clock) == [] and real >= 0.05  # it slept in real time


def test_nanosecond_waits_move_the_clock_by_exactly_their_length(
    clock: CommandClock, backend: MockBackend
) -> None:
    # Go's runtime sleeps 139 ns at a time; the kit's clock reads in float Unix seconds,
    # which resolve 238 ns. A thousand such waits still move the file's clock by 139 us.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as speaker:
        speaker.connect(str(clock.socket_path))
        replies = speaker.makefile("rb")
        for _ in range(1000):
            speaker.sendall(b"ADVANCE 139\n")
            assert replies.readline() == b"OK\n"
    realtime_ns, monotonic_ns = struct.unpack("<qq", clock.shared_file.read_bytes()[:16])
    assert realtime_ns == int(START_REALTIME) * 10**9 + 139_000
    assert monotonic_ns == int(MONOTONIC_START) * 10**9 + 139_000
    assert elapsed(backend) == pytest.approx(139e-6, abs=1e-6)  # and the mock's with it


def test_a_process_that_breaks_the_protocol_gets_an_error_line(clock: CommandClock) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as speaker:
        speaker.connect(str(clock.socket_path))
        speaker.sendall(b"HELLO 42\nADVANCE -5\n")
        replies = speaker.makefile("rb").read().decode().splitlines()
    assert replies[0] == "OK"
    assert replies[1].startswith("ERROR unknown request")
    assert clock.hello_pids == [42]


def test_a_command_whose_kit_is_gone_ends_with_a_message(
    backend: MockBackend, library: Path
) -> None:
    clock = CommandClock(backend.clock, library=library).start()
    environment = {**os.environ, **clock.environment()}
    clock.close()
    gone = subprocess.run(
        ["sleep", "1"], env=environment, capture_output=True, text=True, timeout=30, check=False
    )
    assert gone.returncode == 125
    assert "virtual clock" in gone.stderr and "kit" in gone.stderr


def test_the_library_is_built_once_per_source_and_without_a_compiler_says_install_gcc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = virtual_clock_library(tmp_path)
    built_at = first.stat().st_mtime_ns
    assert virtual_clock_library(tmp_path) == first
    assert first.stat().st_mtime_ns == built_at
    assert LIBRARY_SOURCE.name == "virtual_clock.c"
    monkeypatch.setenv("PATH", str(tmp_path / "no-compilers-here"))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(UsageError, match="install gcc"):
        virtual_clock_library(tmp_path / "elsewhere")


def test_a_timed_wait_for_a_running_child_process_does_not_move_the_clock(
    clock: CommandClock, backend: MockBackend
) -> None:
    script = textwrap.dedent("""
        import subprocess, sys, time
        start = time.monotonic()
        child = [sys.executable, "-c", "print(sum(range(3 * 10**6)))"]
        done = subprocess.run(child, capture_output=True, text=True, timeout=30)
        print(done.stdout.strip(), time.monotonic() - start)
    """)
    done, _ = run(clock, [sys.executable, "-c", script])
    assert numbers(done.stdout) == [sum(range(3 * 10**6)), 0]
    assert moved(clock) == []


def test_work_of_a_node_thread_pool_takes_no_virtual_time(
    clock: CommandClock, backend: MockBackend, tmp_path: Path
) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(os.urandom(20_000_000))
    script = textwrap.dedent("""
        const fs = require("fs"), crypto = require("crypto");
        const start = Date.now(), took = (what) => () => console.log(what, Date.now() - start);
        setTimeout(took("timer"), 5000);
        fs.promises.readFile(process.env.DATA)
          .then((bytes) => crypto.createHash("sha256").update(bytes).digest("hex"))
          .then(took("read"));
        crypto.pbkdf2("secret", "salt", 200000, 32, "sha256", took("pbkdf2"));
    """)
    done, _ = run(clock, ["node", "-e", script], DATA=str(data))
    assert sorted(done.stdout.splitlines()) == ["pbkdf2 0", "read 0", "timer 5000"]
    assert moved(clock) == [5.0]


def test_an_authority_that_fails_ends_the_command_with_a_message(
    clock: CommandClock, backend: MockBackend
) -> None:
    # The mock moves its clock a year at a time at most: it refuses a two-year sleep.
    environment = {**os.environ, **clock.environment()}
    sleep = "import time; time.sleep(2 * 365 * 24 * 3600)"
    failed = subprocess.run(
        [sys.executable, "-c", sleep],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert failed.returncode == 125
    assert "the mock refused POST /_mock/clock/advance" in failed.stderr
    assert len(clock.failures) == 1 and "refused" in str(clock.failures[0])
    assert moved(clock) == [] and elapsed(backend) == 0.0


def test_a_timed_lock_wait_waits_its_length_in_real_time_without_spinning(
    clock: CommandClock, backend: MockBackend
) -> None:
    # Python computes the deadline of Event.wait from the virtual monotonic clock; the kernel
    # reads the real one. Moved onto the real clock, the wait lasts its length instead of
    # returning at once (a spin) or never (a hang).
    script = textwrap.dedent("""
        import threading, time
        cpu = time.process_time()
        print(threading.Event().wait(0.3), time.process_time() - cpu)
    """)
    done, real = run(clock, [sys.executable, "-c", script])
    woke, cpu = done.stdout.split()
    assert woke == "False" and float(cpu) < 0.2
    assert real >= 0.3
    assert moved(clock) == []
