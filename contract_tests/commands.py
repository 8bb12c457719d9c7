"""Running a client in any language: its command line, and a subprocess stopped when the kit says."""

from __future__ import annotations

import contextlib
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


def _stop_process_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM the command's whole process group (the client and its children), then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def communicate_until(
    process: subprocess.Popen[str],
    idle_limit: float,
    stop_reason: Callable[[], StopReason | None],
    last_activity: Callable[[], float],
) -> tuple[str, str, bool]:
    """Wait for the process, killing it when the kit says stop, or when ``idle_limit`` real
    seconds pass with no activity (``last_activity()``, a ``time.monotonic()`` reading of its
    last request or clock move). The third value says whether it was killed for idling.

    A client that keeps polling is never cut short in real time, however long its hour of
    virtual time takes; only one that does nothing the kit can see is.
    """
    result: list[tuple[str, str]] = []
    reader = threading.Thread(target=lambda: result.append(process.communicate()), daemon=True)
    reader.start()
    idled = False
    while reader.is_alive():
        reader.join(0.02)
        idled = time.monotonic() - last_activity() > idle_limit
        if stop_reason() is not None or idled:
            _stop_process_group(process)
            reader.join(5)
            break
    stdout, stderr = result[0] if result else ("", "")
    return stdout, stderr, idled
