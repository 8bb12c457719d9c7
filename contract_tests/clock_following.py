"""Noticing a command that does not follow the kit's virtual clock, before it earns a verdict.

A client that reads time or sleeps where the kit cannot see it (a Go binary or a static build
under the preload library, which only reaches libc) waits in *real* time while the mock's clock
stands still: its 5-second sleeps look like a tight loop, its deadlines never come. Its verdict
would be false, so the kit must stop with exit 2 and say why. Two ways to tell, used together:

- before the run, :func:`classify_executable` reads the command's ELF file (following ``#!``
  lines): a Go binary or a statically linked one bypasses libc, so it needs the syscall tracer
  (:mod:`contract_tests.syscall_clock`) rather than the preload library;
- during the run, :class:`RealTimeSleepWatch` sees what no classification can (a script that
  starts a Go binary, a sleep through a path nobody hooked): between an answer of the mock and
  the client's next request, ``threshold`` seconds of real time during which every process
  and thread of the command was asleep, with no advance of the virtual clock, mean the client
  waited on a clock the kit does not drive. Time the client spends running, runnable (starved
  of CPU on a loaded machine), stopped or in disk I/O does not count, so the verdict does not
  depend on the machine's load. :class:`WatchedClock` feeds it the advances of any
  :class:`ClockAuthority`.
"""

from __future__ import annotations

import contextlib
import enum
import os
import shutil
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
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
    "process_tree_asleep",
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


#: Task states of a process that waits for something (``S``: an interruptible sleep: a timer,
#: a socket, a child). ``R`` (running, or runnable but waiting for a CPU), ``D`` (disk I/O),
#: ``T``/``t`` (stopped by a signal or a tracer) are not a client's sleep.
_ASLEEP_STATES = frozenset(b"S")
#: Tasks that are gone (zombie, dead): neither asleep nor working, so not counted either way.
_GONE_STATES = frozenset(b"ZX")


def _stat_fields(path: str) -> list[bytes] | None:
    """State, ppid, pgrp and session of a ``/proc/.../stat`` file (``None`` once gone)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2 :].split(None, 4)[:4]


def process_tree_asleep(root_pid: int, proc: str = "/proc") -> bool:
    """Whether every task of the command started as ``root_pid`` is asleep (state ``S``) now.

    The command is its session (the kit starts it with a session of its own, so its session id
    is ``root_pid``) plus any descendant that left the session. One task running, runnable
    (waiting for a CPU on a loaded machine), in disk I/O or stopped makes it ``False``; so
    does a tree with no live task. The tree is read twice and must agree: a child forked while
    the first reading ran (its parent then asleep, waiting for it) shows up in the second.
    Reads ``/proc`` only (no ptrace rights needed).
    """
    first = _asleep_members(root_pid, proc)
    return first is not None and _asleep_members(root_pid, proc) == first


def _asleep_members(root_pid: int, proc: str) -> frozenset[int] | None:
    """The processes of the tree if every one of their tasks sleeps; ``None`` otherwise."""
    try:
        names = os.listdir(proc)
    except OSError:
        return None
    parents: dict[int, int] = {}
    members: list[int] = []
    for name in names:
        if not name.isdigit():
            continue
        fields = _stat_fields(f"{proc}/{name}/stat")
        if fields is None or len(fields) < 4:
            continue
        pid = int(name)
        parents[pid] = int(fields[1])
        if pid == root_pid or int(fields[3]) == root_pid:
            members.append(pid)
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    seen = set(members)
    while members:
        pid = members.pop()
        for child in children.get(pid, ()):
            if child not in seen:
                seen.add(child)
                members.append(child)
    asleep = 0
    for pid in seen:
        try:
            tasks = os.listdir(f"{proc}/{pid}/task")
        except OSError:
            continue  # exited since the listing
        for task in tasks:
            fields = _stat_fields(f"{proc}/{pid}/task/{task}/stat")
            if fields is None or fields[0][0] in _GONE_STATES:
                continue
            if fields[0][0] not in _ASLEEP_STATES:
                return None
            asleep += 1
    return frozenset(seen) if asleep else None


@dataclass(frozen=True)
class _Gap:
    real_seconds: float
    request_number: int


class RealTimeSleepWatch:
    """Watches a command's requests (as the mock receives them), the kit's clock and whether
    the command's processes sleep, and tells a client that waits on a clock the kit does not
    drive.

    Call :meth:`request_received` when a request of the client reaches the mock,
    :meth:`response_sent` when the mock has answered it, and :meth:`advanced` whenever the
    virtual clock moves (:class:`WatchedClock` does this one, and marks the kit's own work on
    a clock request with :meth:`kit_working`). While the command runs, :meth:`following`
    samples its process tree every ``period`` (:func:`process_tree_asleep`) and feeds
    :meth:`sample`. After the run, :meth:`check` raises :class:`ClockNotFollowed` if the client
    once spent ``threshold`` seconds of real time *asleep*, every one of its processes and
    threads in an interruptible sleep, between an answer and its next request, with the
    virtual clock standing still.

    Only time asleep counts: a correct client starved of CPU on a loaded machine (runnable,
    ``R``), stopped (``T``), busy computing or reading the disk can take seconds between an
    answer and its next request without sleeping, and is not flagged; a client that sleeps in
    real time is asleep all along. Time is credited between two samples that both saw the tree
    asleep, at most ``max_step`` per pair (a late sample means the kit itself was starved, and
    time it did not see is not held against the client).

    The default threshold (1 s) is far above what a client on the virtual clock spends asleep
    between an answer and its next request (loopback, a little computing: milliseconds) and
    below the shortest sleep a polling client uses (the documented interval is 5 s).
    """

    def __init__(
        self,
        threshold: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        period: float = 0.02,
        max_step: float = 0.25,
    ) -> None:
        self.threshold = threshold
        self.period = period
        self.max_step = max_step
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight = 0
        self._requests = 0
        self._gap: _Gap | None = None
        #: Whether an answer was sent and neither a request nor a clock move followed yet.
        self._open = False
        #: Counts openings and closings, so a sample taken across one is dropped.
        self._gap_number = 0
        self._asleep_seconds = 0.0
        self._asleep_since: float | None = None
        self._kit_calls = 0

    def request_received(self) -> None:
        with self._lock:
            self._requests += 1
            if self._open and self._gap is None and self._asleep_seconds >= self.threshold:
                self._gap = _Gap(self._asleep_seconds, self._requests)
            self._close()
            self._in_flight += 1

    def response_sent(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if self._in_flight == 0:
                self._gap_number += 1
                self._open = True
                self._asleep_seconds = 0.0
                self._asleep_since = None

    def advanced(self) -> None:
        with self._lock:
            self._close()  # the client's wait was seen: no real-time gap to judge

    def _close(self) -> None:
        if self._open:
            self._gap_number += 1
        self._open = False
        self._asleep_since = None

    @contextlib.contextmanager
    def kit_working(self) -> Iterator[None]:
        """While the kit answers a clock request, the client waits on the kit: not its sleep."""
        with self._lock:
            self._kit_calls += 1
            self._asleep_since = None
        try:
            yield
        finally:
            with self._lock:
                self._kit_calls -= 1
                self._asleep_since = None

    def open_gap(self) -> int | None:
        """The number of the gap being watched (answered, nothing since), or ``None``."""
        with self._lock:
            return self._gap_number if self._open and self._kit_calls == 0 else None

    def sample(self, asleep: bool, gap_number: int | None = None) -> None:
        """One reading of the command's tree (``asleep``: every task sleeps), taken during gap
        ``gap_number`` (:meth:`open_gap` before the reading; the current gap if omitted)."""
        with self._lock:
            if not self._open or self._kit_calls:
                return
            if gap_number is not None and gap_number != self._gap_number:
                return
            now = self._clock()
            if asleep and self._asleep_since is not None:
                self._asleep_seconds += min(now - self._asleep_since, self.max_step)
            self._asleep_since = now if asleep else None

    @contextlib.contextmanager
    def following(
        self, root_pid: int, probe: Callable[[int], bool] = process_tree_asleep
    ) -> Iterator[None]:
        """Sample the tree of the command started as ``root_pid`` every :attr:`period` (only
        while a gap is open: a client on the virtual clock costs no reading)."""
        stop = threading.Event()

        def sample_until_stopped() -> None:
            while not stop.wait(self.period):
                gap_number = self.open_gap()
                if gap_number is not None:
                    self.sample(probe(root_pid), gap_number)

        sampler = threading.Thread(
            target=sample_until_stopped, name="contract-kit-sleep-watch", daemon=True
        )
        sampler.start()
        try:
            yield
        finally:
            stop.set()
            sampler.join(5)

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
        with self._watch.kit_working():
            self._authority.settle()

    def advance(self, seconds: float) -> bool:
        with self._watch.kit_working():
            moved = self._authority.advance(seconds)
        self._watch.advanced()
        return moved
