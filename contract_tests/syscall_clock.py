"""The syscall tracer: commands that bypass libc (Go, static builds) on the kit's virtual clock.

``native/syscall_clock.c`` runs a command under ``ptrace`` with a seccomp filter that stops only
the time system calls, with the vDSO taken away at every ``exec``; it speaks the kit's command
clock protocol (``docs/virtual-time.md``) over ``$RMK_CLOCK_SOCKET`` and reads the virtual time
from ``$RMK_CLOCK_SHM``. What it does and what was measured: ``docs/virtual-time-go.md``.

The tracer is compiled with the system ``cc`` on first use, into a cache keyed by the hash of
its source (``make setup`` builds it ahead), so an edited source is never run stale.

    argv = syscall_clock_argv(["./client", report_id, base_url])   # then run with the kit's env
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from contract_tests.errors import KitError, UsageError
from contract_tests.native_build import NATIVE_SOURCES, NativeBuildFailed, build_native

__all__ = [
    "EXIT_STOPPED",
    "EXIT_TRACER_FAILED",
    "SyscallClockUnavailable",
    "build_syscall_clock",
    "syscall_clock_argv",
    "tracer_failure",
]

EXIT_STOPPED = 125
"""The tracer's exit status when the kit answered ``STOP``: the command was killed."""

EXIT_TRACER_FAILED = 120
"""The tracer's exit status when it could not do its work; see :func:`tracer_failure`."""

_FAILURE_PREFIX = "syscall_clock: "

_SOURCE_NAME = "syscall_clock.c"
_COMPILE_FLAGS = ("-O2", "-Wall", "-std=gnu11")


class SyscallClockUnavailable(KitError):
    """The tracer cannot be built or cannot run here; the message says what to do instead."""


def _check_platform() -> None:
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise SyscallClockUnavailable(
            f"the syscall tracer runs on x86_64 Linux only (this is {sys.platform} "
            f"{platform.machine()}): run Go and static clients on an x86_64 Linux machine or "
            "container, or check a Python or libc-linked client instead"
        )


def build_syscall_clock(cache_dir: Path | None = None, compiler: str | None = None) -> Path:
    """Return the path of the built tracer, compiling it first if this source is not built."""
    _check_platform()
    try:
        return build_native(
            NATIVE_SOURCES / _SOURCE_NAME,
            "syscall_clock-{hash}",
            _COMPILE_FLAGS,
            cache_dir=cache_dir,
            compiler=compiler,
        )
    except (NativeBuildFailed, UsageError) as error:
        raise SyscallClockUnavailable(str(error)) from error


def syscall_clock_argv(argv: Sequence[str], *, tracer: Path | None = None) -> list[str]:
    """The argv that runs ``argv`` under the tracer (built if need be).

    Run it with ``RMK_CLOCK_SOCKET`` and ``RMK_CLOCK_SHM`` in its environment. Its exit status
    is the command's, 128 + the signal if the command was killed, :data:`EXIT_STOPPED` when the
    kit answered ``STOP``, and :data:`EXIT_TRACER_FAILED` when the tracer itself could not run
    (check with :func:`tracer_failure`, so a client's own exit status is never taken for it).
    """
    if not argv:
        raise SyscallClockUnavailable("no command to run under the syscall tracer")
    return [str(tracer or build_syscall_clock()), *argv]


def tracer_failure(returncode: int, stderr: str) -> SyscallClockUnavailable | None:
    """The tracer's own failure, if that is what ended the run (not the client's exit status).

    The kit should raise it (exit 2): the client was not judged."""
    if returncode != EXIT_TRACER_FAILED:
        return None
    reasons = [line for line in stderr.splitlines() if line.startswith(_FAILURE_PREFIX)]
    if not reasons:
        return None
    return SyscallClockUnavailable(
        f"the syscall tracer could not run the client: {reasons[-1][len(_FAILURE_PREFIX) :]}"
    )


if __name__ == "__main__":  # `make setup`: build ahead, print where
    try:
        print(build_syscall_clock())
    except SyscallClockUnavailable as error:
        print(f"syscall tracer not built: {error}", file=sys.stderr)
