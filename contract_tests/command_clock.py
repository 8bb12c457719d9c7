"""The kit's side of the virtual clock of command clients (any language, through libc).

A :class:`CommandClock` serves one run of a command: it writes the :class:`ClockAuthority`'s
time into a small shared file that every process of the command maps read-only, and answers
the one-line requests the preload library (``native/virtual_clock.c``) sends over a Unix
socket when a process sleeps or waits with a timeout. The protocol is in
``docs/virtual-time.md``; in short::

    HELLO <pid>   -> OK        a process loaded the library
    WAIT          -> SETTLED   once ``authority.settle()`` returned
    ADVANCE <ns>  -> OK        once ``authority.advance()`` returned True and the file shows
                                the new time; STOP when it returned False

An ``ADVANCE`` is a deadline, not a step: it ends ``ns`` after the time the file showed when
the request arrived, so two processes sleeping at once (``sleep 5 & sleep 3; wait``) move the
clock to the later deadline, not by the sum. The clock records which processes introduced
themselves and every advance, so the runner can tell a client that never followed the clock
(a static or Go binary: no ``HELLO``) from one that did.
"""

from __future__ import annotations

import contextlib
import math
import mmap
import os
import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from contract_tests.clock_authority import ClockAuthority
from contract_tests.errors import KitError
from contract_tests.native_build import virtual_clock_library

__all__ = ["ClockAdvance", "CommandClock", "CommandClockError"]

#: The shared file: realtime ns, monotonic ns (int64 little-endian), then a sequence word that
#: is odd while the kit writes, so readers retry instead of seeing half of a new time.
_FILE_SIZE = 4096
_TIMES = struct.Struct("<qq")
_SEQUENCE = struct.Struct("<Q")
_SEQUENCE_OFFSET = 16
_MAX_LINE = 256
_UNIX_PATH_LIMIT = 107


class CommandClockError(KitError):
    """The command clock could not start or a process spoke out of protocol."""


@dataclass(frozen=True)
class ClockAdvance:
    """One ``ADVANCE``: who asked, for how long, and how far the clock moved for it."""

    pid: int
    requested: float
    advanced: float


def _seconds_to_ns(seconds: float) -> int:
    # Whole seconds apart: ``seconds * 1e9`` of a Unix time is off by up to 128 ns.
    whole = math.floor(seconds)
    return whole * 1_000_000_000 + round((seconds - whole) * 1_000_000_000)


def _resolution_ns(seconds: float) -> int:
    """How finely a float holds ``seconds``, in ns (238 ns for a Unix time of 2026)."""
    return max(1, math.ceil(math.ulp(seconds) * 1_000_000_000))


class CommandClock:
    """Serves the virtual clock to every process of a command, on one ``authority``."""

    def __init__(self, authority: ClockAuthority, *, library: Path | None = None) -> None:
        self.authority = authority
        self.library = library
        self.hello_pids: list[int] = []
        self.advances: list[ClockAdvance] = []
        self.waits = 0
        #: ADVANCE requests received, answered or not (an advance may be waiting its turn).
        self.advances_received = 0
        #: Exceptions the authority raised while serving; the process that asked exits 125.
        self.failures: list[Exception] = []
        #: Set once the authority refused an advance; every later WAIT/ADVANCE gets STOP.
        self.stopped = threading.Event()
        self._directory: Path | None = None
        self._file: mmap.mmap | None = None
        self._sequence = 0
        self._published_realtime_ns = 0
        self._published_monotonic_ns = 0
        #: What the authority's ``monotonic()`` read at the last publish, in ns.
        self._authority_monotonic_ns = 0
        self._authority_lock = threading.Lock()
        self._records_lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._closing = False

    # ------------------------------------------------------------------ life cycle

    def start(self) -> CommandClock:
        if self.library is None:
            self.library = virtual_clock_library()
        self._directory = Path(tempfile.mkdtemp(prefix="rmk-clock-"))
        if len(str(self._directory / "clock.sock")) > _UNIX_PATH_LIMIT:
            shutil.rmtree(self._directory)
            self._directory = Path(tempfile.mkdtemp(prefix="rmk-clock-", dir="/tmp"))
        with open(self.shared_file, "wb") as created:
            created.truncate(_FILE_SIZE)
        with open(self.shared_file, "r+b") as opened:
            self._file = mmap.mmap(opened.fileno(), _FILE_SIZE)
        self.publish()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(64)
        self._listener = listener
        self._spawn(self._accept_connections, "command-clock-accept")
        return self

    def close(self) -> None:
        """Stop serving and remove the socket and the shared file. Processes still running
        lose their clock: their next wait ends them with exit code 125 and a message."""
        self._closing = True
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._records_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> CommandClock:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ what the child gets

    @property
    def socket_path(self) -> Path:
        return self._private_dir() / "clock.sock"

    @property
    def shared_file(self) -> Path:
        return self._private_dir() / "clock.time"

    def environment(self) -> dict[str, str]:
        """Variables to add to the command's environment (``LD_PRELOAD`` keeps any library
        the caller already preloads, after ours)."""
        if self.library is None or self._listener is None:
            raise CommandClockError("start the CommandClock before asking for its environment")
        preload = str(self.library)
        inherited = os.environ.get("LD_PRELOAD", "")
        return {
            "LD_PRELOAD": f"{preload}:{inherited}" if inherited else preload,
            "RMK_CLOCK_SOCKET": str(self.socket_path),
            "RMK_CLOCK_SHM": str(self.shared_file),
        }

    def publish(self) -> None:
        """Write the authority's time into the shared file (seqlock: odd while writing)."""
        self._publish(self._published_monotonic_ns)

    def _publish(self, expected_monotonic_ns: int) -> None:
        """Publish the authority's time, or exactly ``expected_monotonic_ns`` when the
        authority reads within its resolution of it.

        The authority reads in float seconds, which at today's Unix times resolve 238 ns,
        while commands wait nanoseconds (Go's runtime sleeps 139 ns at a time): taken as read,
        the file's time is off by up to 119 ns after each wait, and a Go client's 5 s polls
        drifted by microseconds (4 ten-minute runs in 12). So the file shows the exact
        deadline; a larger difference means the clock was moved by other means, and is
        published as read."""
        if self._file is None:
            raise CommandClockError("the CommandClock is not started")
        now = self.authority.now()
        realtime = _seconds_to_ns(now)
        monotonic = _seconds_to_ns(self.authority.monotonic())
        self._authority_monotonic_ns = monotonic
        if self._sequence and abs(monotonic - expected_monotonic_ns) <= _resolution_ns(now):
            realtime = self._published_realtime_ns + (
                expected_monotonic_ns - self._published_monotonic_ns
            )
            monotonic = expected_monotonic_ns
        self._sequence += 1
        _SEQUENCE.pack_into(self._file, _SEQUENCE_OFFSET, self._sequence)
        _TIMES.pack_into(self._file, 0, realtime, monotonic)
        self._sequence += 1
        _SEQUENCE.pack_into(self._file, _SEQUENCE_OFFSET, self._sequence)
        self._published_realtime_ns = realtime
        self._published_monotonic_ns = monotonic

    @property
    def followed(self) -> bool:
        """Whether any process of the command loaded the library (said HELLO)."""
        return bool(self.hello_pids)

    # ------------------------------------------------------------------ serving

    def _private_dir(self) -> Path:
        if self._directory is None:
            raise CommandClockError("the CommandClock is not started")
        return self._directory

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_connections(self) -> None:
        assert self._listener is not None
        while not self._closing:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._records_lock:
                self._connections.add(connection)
            self._spawn(self._serve, "command-clock-process", connection)

    def _serve(self, connection: socket.socket) -> None:
        pid = 0
        pending = b""
        try:
            while True:
                while b"\n" not in pending:
                    chunk = connection.recv(_MAX_LINE)
                    if not chunk:
                        return
                    pending += chunk
                    if len(pending) > _MAX_LINE:
                        connection.sendall(b"ERROR line too long\n")
                        return
                line, pending = pending.split(b"\n", 1)
                try:
                    reply, pid = self._answer(line.decode("ascii", "replace").split(), pid)
                except Exception as error:  # the authority failed: end this process, loudly
                    with self._records_lock:
                        self.failures.append(error)
                    reply = f"ERROR the kit's clock failed: {error!r}"[:400]
                connection.sendall(reply.encode("ascii") + b"\n")
                if reply.startswith("ERROR"):
                    return
        except OSError:
            return
        finally:
            with self._records_lock:
                self._connections.discard(connection)
            connection.close()

    def _answer(self, words: list[str], pid: int) -> tuple[str, int]:
        """The reply to one request, and the PID of the process on this connection."""
        verb = words[0] if words else ""
        if verb == "HELLO" and len(words) >= 2 and words[1].isdigit():
            with self._records_lock:
                self.hello_pids.append(int(words[1]))
            return "OK", int(words[1])
        if verb == "WAIT" and len(words) == 1:
            if self.stopped.is_set():
                return "STOP", pid
            with self._authority_lock:
                self.authority.settle()
                self.publish()
            with self._records_lock:
                self.waits += 1
            return "SETTLED", pid
        if verb == "ADVANCE" and len(words) == 2 and words[1].isdigit():
            return self._advance(int(words[1]), pid), pid
        return f"ERROR unknown request {' '.join(words)[:80]!r}", pid

    def _advance(self, requested_ns: int, pid: int) -> str:
        # The deadline counts from the time the process last saw, not from when its turn
        # comes: concurrent sleeps overlap as they would in real time.
        deadline_ns = self._published_monotonic_ns + requested_ns
        with self._records_lock:
            self.advances_received += 1
        with self._authority_lock:
            if self.stopped.is_set():
                return "STOP"
            missing_ns = deadline_ns - self._published_monotonic_ns
            advanced = 0.0
            if missing_ns > 0:
                advanced = missing_ns / 1e9
                # From where the authority reads (within its resolution of the file's time)
                # to the deadline, so that its rounding never adds up.
                step_ns = max(0, deadline_ns - self._authority_monotonic_ns)
                if not self.authority.advance(step_ns / 1e9):
                    self.stopped.set()
                    return "STOP"
                self._publish(deadline_ns)
        with self._records_lock:
            self.advances.append(ClockAdvance(pid, requested_ns / 1e9, advanced))
        return "OK"
