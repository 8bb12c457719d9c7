"""Noticing a command that does not follow the kit's virtual clock, before it earns a verdict.

A client that reads time or sleeps where the kit cannot see it (a Go binary or a static build
under the preload library, which only reaches libc) waits in *real* time while the mock's clock
stands still: its 5-second sleeps look like a tight loop, its deadlines never come. Its verdict
would be false, so the kit must stop with exit 2 and say why. Two ways to tell, used together:

- before the run, :func:`classify_executable` reads the command's ELF file (following ``#!``
  lines): a Go binary or a statically linked one bypasses libc, so it needs the syscall tracer
  (:mod:`contract_tests.syscall_clock`) rather than the preload library;
- during the run, :class:`RealTimeSleepWatch` sees what no classification can (a script that
  starts a Go binary, a sleep through a path nobody hooked): two requests of the client, after
  the mock had answered the first, separated by ``threshold`` seconds of real time with no
  advance of the virtual clock between them, mean the client waited on a clock the kit does
  not drive. :class:`WatchedClock` feeds it the advances of any :class:`ClockAuthority`.
"""

from __future__ import annotations

import enum
import os
import shutil
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from contract_tests.clock_authority import ClockAuthority
from contract_tests.errors import KitError

__all__ = [
    "ClockNotFollowed",
    "ExecutableKind",
    "RealTimeSleepWatch",
    "WatchedClock",
    "classify_executable",
]

_PT_INTERP = 3
_GO_MARKERS = (b"\xff Go buildinf:", b"Go build ID:", b".note.go.buildid", b"runtime.goexit")


class ClockNotFollowed(KitError):
    """The command waited on a clock the kit does not drive; its verdict would be false.

    ``exit_code`` is 2 (a usage error, not a verdict); the message names the cause and what to
    do instead."""

    exit_code = 2


class ExecutableKind(enum.Enum):
    """How a command's program reads time, as far as its file says."""

    LIBC = "dynamically linked against libc: the preload library reaches its clock"
    GO = "a Go binary: reads the clock and sleeps by system calls, bypassing libc"
    STATIC = "statically linked: no dynamic loader, so no preloaded library"
    UNKNOWN = "not an ELF file the kit can read"

    @property
    def bypasses_libc(self) -> bool:
        return self in (ExecutableKind.GO, ExecutableKind.STATIC)


def _resolve(program: str) -> Path | None:
    found = shutil.which(program) if os.sep not in program else program
    return Path(found) if found and Path(found).is_file() else None


def _classify_elf(head: bytes, path: Path) -> ExecutableKind:
    if len(head) < 64 or head[4] != 2 or head[5] != 1:  # 64-bit little-endian only
        return ExecutableKind.UNKNOWN
    (phoff,) = struct.unpack_from("<Q", head, 32)
    phentsize, phnum = struct.unpack_from("<HH", head, 54)
    with path.open("rb") as file:
        file.seek(phoff)
        table = file.read(phentsize * phnum)
        file.seek(0)
        body = file.read(64 * 1024 * 1024)
    has_interpreter = any(
        struct.unpack_from("<I", table, i * phentsize)[0] == _PT_INTERP
        for i in range(min(phnum, len(table) // max(phentsize, 1)))
    )
    if any(marker in body for marker in _GO_MARKERS):
        return ExecutableKind.GO
    return ExecutableKind.LIBC if has_interpreter else ExecutableKind.STATIC


def classify_executable(argv: Sequence[str], _depth: int = 0) -> ExecutableKind:
    """Classify the program ``argv`` runs: its ELF file, or the interpreter on its ``#!`` line.

    ``env X``, ``bash script`` and similar are classified by the program they start only when
    that is the file itself; anything the file starts later is for :class:`RealTimeSleepWatch`.
    """
    if not argv or _depth > 4:
        return ExecutableKind.UNKNOWN
    path = _resolve(argv[0])
    if path is None:
        return ExecutableKind.UNKNOWN
    try:
        with path.open("rb") as file:
            head = file.read(256)
        if head.startswith(b"#!"):
            words = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
            if words and Path(words[0]).name == "env":
                words = [word for word in words[1:] if not word.startswith("-")]
            return classify_executable(words, _depth + 1) if words else ExecutableKind.UNKNOWN
        if head.startswith(b"\x7fELF"):
            return _classify_elf(head, path)
    except OSError:
        return ExecutableKind.UNKNOWN
    return ExecutableKind.UNKNOWN


@dataclass(frozen=True)
class _Gap:
    real_seconds: float
    request_number: int


class RealTimeSleepWatch:
    """Watches a command's requests (as the mock receives them) and the kit's clock advances.

    Call :meth:`request_received` when a request of the client reaches the mock,
    :meth:`response_sent` when the mock has answered it, and :meth:`advanced` whenever the
    virtual clock moves (:class:`WatchedClock` does this one). After the run, :meth:`check`
    raises :class:`ClockNotFollowed` if the client once waited ``threshold`` real seconds,
    between an answer and its next request, with the virtual clock standing still.

    The default threshold (1 s) is far above what a client on the virtual clock spends between
    an answer and its next request (loopback, a little computing: milliseconds) and below the
    shortest sleep a polling client uses (the documented interval is 5 s).
    """

    def __init__(self, threshold: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.threshold = threshold
        self._clock = clock
        self._lock = threading.Lock()
        self._answered_at: float | None = None
        self._in_flight = 0
        self._requests = 0
        self._gap: _Gap | None = None

    def request_received(self) -> None:
        with self._lock:
            self._requests += 1
            if self._answered_at is not None and self._in_flight == 0 and self._gap is None:
                waited = self._clock() - self._answered_at
                if waited >= self.threshold:
                    self._gap = _Gap(waited, self._requests)
            self._in_flight += 1
            self._answered_at = None

    def response_sent(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if self._in_flight == 0:
                self._answered_at = self._clock()

    def advanced(self) -> None:
        with self._lock:
            self._answered_at = None  # the client's wait was seen: no real-time gap to judge

    @property
    def followed(self) -> bool:
        return self._gap is None

    def check(self, command: str = "the client") -> None:
        """Raise :class:`ClockNotFollowed` if a real-time wait was seen."""
        gap = self._gap
        if gap is None:
            return
        raise ClockNotFollowed(
            f"{command} does not follow the kit's virtual clock: before its request "
            f"#{gap.request_number} it waited {gap.real_seconds:.1f} s of real time while the "
            "virtual clock stood still, so it sleeps or reads the time where the kit cannot see "
            "it (a Go binary, a static build, or a clock read past libc). Its verdict would be "
            "false, so none is given. Name the Go or static binary itself as the command (the "
            "kit runs those under its syscall tracer; a script or launcher that starts one "
            "hides it), or make the client sleep and read the time through libc."
        )


class WatchedClock:
    """A :class:`ClockAuthority` that tells a :class:`RealTimeSleepWatch` of every advance."""

    def __init__(self, authority: ClockAuthority, watch: RealTimeSleepWatch) -> None:
        self._authority = authority
        self._watch = watch

    def now(self) -> float:
        return self._authority.now()

    def monotonic(self) -> float:
        return self._authority.monotonic()

    def settle(self) -> None:
        self._authority.settle()

    def advance(self, seconds: float) -> bool:
        moved = self._authority.advance(seconds)
        self._watch.advanced()
        return moved
