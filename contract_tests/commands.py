"""Running a client in any language: a subprocess on libfaketime's accelerated clock."""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from contract_tests.errors import UsageError
from contract_tests.runs import StopReason

__all__ = [
    "CommandFailed",
    "command_argv",
    "communicate_until",
    "faketime_environment",
    "remove_faketime_shared_memory",
]


class CommandFailed(Exception):
    """A client command exited non-zero; ``output`` is what it printed."""

    def __init__(self, exit_code: int, output: str) -> None:
        super().__init__(f"exit code {exit_code}: {output.strip()[-500:]}")
        self.exit_code = exit_code
        self.output = output


def command_argv(command: str) -> list[str]:
    argv = shlex.split(command)
    if not argv:
        raise UsageError(
            "--client-cmd is empty: pass a command such as 'node client.js {report_id}'"
        )
    return argv


def faketime_environment(time_scale: float) -> dict[str, str]:
    """Preload libfaketime into the command so its clock and its sleeps run ``time_scale`` x.

    The library is preloaded directly rather than through the ``faketime`` wrapper, so the
    shared memory it keeps is named after our own child's PID and can be removed afterwards.
    """
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        raise UsageError("libfaketime is not installed: run `make setup` (Debian package faketime)")
    return {"LD_PRELOAD": found[0], "FAKETIME": f"+0 x{time_scale:g}"}


def remove_faketime_shared_memory(pid: int) -> None:
    """libfaketime unlinks its shared memory only on a normal exit; tidy up after a kill."""
    for name in (f"/dev/shm/faketime_shm_{pid}", f"/dev/shm/sem.faketime_sem_{pid}"):
        with contextlib.suppress(OSError):
            os.remove(name)


def _stop_process_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM the command's whole process group (faketime and the client), then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def communicate_until(
    process: subprocess.Popen[str], limit: float, stop_reason: Callable[[], StopReason | None]
) -> tuple[str, str]:
    """Wait for the process, killing it when the kit says stop or ``limit`` real seconds pass."""
    deadline = time.monotonic() + limit
    result: list[tuple[str, str]] = []
    reader = threading.Thread(target=lambda: result.append(process.communicate()), daemon=True)
    reader.start()
    while reader.is_alive():
        reader.join(0.02)
        if stop_reason() is not None or time.monotonic() > deadline:
            _stop_process_group(process)
            reader.join(5)
            break
    return result[0] if result else ("", "")
