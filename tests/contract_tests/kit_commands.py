"""Running commands on the real kit's clock, for the tests of the preload library, the syscall
tracer and the clock-following detector (and for ``bench/``).

The clock is the kit's own: a :class:`~contract_tests.harness.MockBackend` (the mock behind
the loopback server, its :class:`~contract_tests.kit_clock.KitClock` the authority) served to
the command by a :class:`~contract_tests.command_clock.CommandClock` (Unix socket and seqlock'd
shared file). What a test scripts, it scripts through public interfaces: the mock's control API
over HTTP (faults, the request journal), the ``KitClock``'s ``gate`` (refusing a wait, as the
kit does when it stops a client) and the ``CommandClock``'s records. The Go clients of
``go_clients/`` are built here with Debian's ``go``.
"""

from __future__ import annotations

import calendar
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from contract_tests.command_clock import CommandClock
from contract_tests.harness import API_KEY, KIT_START_TIME, MockBackend
from contract_tests.kit_clock import MONOTONIC_START
from contract_tests.model import Lifecycle, Observation

__all__ = [
    "GO_CLIENTS",
    "KIT_START_EPOCH",
    "NEVER_FINISHES",
    "build_go_client",
    "command_environment",
    "elapsed",
    "journal_times",
    "mock_control",
    "moved",
    "pending_report",
    "stop_after",
]

#: The kit's clock starts here (``KIT_START_TIME``), in Unix seconds.
KIT_START_EPOCH = float(calendar.timegm(time.strptime(KIT_START_TIME, "%Y-%m-%dT%H:%M:%SZ")))
GO_CLIENTS = Path(__file__).parent / "go_clients"
#: A report that stays ``pending`` for ever: polls never see a terminal status.
NEVER_FINISHES = Lifecycle(
    path="pending", analysis="accident_only", timeline=(Observation(0, "pending", None),)
)


def command_environment(
    backend: MockBackend, clock: CommandClock, *, preload: bool = True, **extra: str
) -> dict[str, str]:
    """The environment of a command on ``clock``: the clock's variables, ``SW_BASE_URL`` and
    ``SW_API_KEY`` of the mock, then ``extra``. ``preload=False`` leaves ``LD_PRELOAD`` out
    (a command under the syscall tracer alone)."""
    variables = clock.environment()
    if not preload:
        del variables["LD_PRELOAD"]
    return {
        **os.environ,
        **variables,
        "SW_BASE_URL": backend.base_url,
        "SW_API_KEY": API_KEY,
        **extra,
    }


def elapsed(backend: MockBackend) -> float:
    """Virtual seconds since the kit's clock started."""
    return backend.clock.monotonic() - MONOTONIC_START


def moved(clock: CommandClock) -> list[float]:
    """How far each ``ADVANCE`` moved the clock, leaving out those that found their deadline
    already passed (a sleep that overlapped an earlier one)."""
    return [advance.advanced for advance in clock.advances if advance.advanced > 0]


def mock_control(backend: MockBackend, method: str, path: str, body: Any = None) -> Any:
    """Call the mock's control API (``/_mock/...``) over loopback; the envelope's ``data``."""
    request = urllib.request.Request(
        backend.base_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def journal_times(backend: MockBackend) -> list[float]:
    """Virtual seconds since the kit's start at which the mock answered each API request of
    its journal (the kit's mock keeps the last 10), oldest first."""
    entries = mock_control(backend, "GET", "/_mock/requests?limit=10")["requests"]
    return [float(entry["epoch_seconds"]) - KIT_START_EPOCH for entry in entries]


def pending_report(backend: MockBackend, case_id: str = "case_clock") -> str:
    """Reset the mock and create a report that never leaves ``pending``; its id."""
    report_id, _created = backend.prepare(NEVER_FINISHES, case_id)
    return report_id


def stop_after(backend: MockBackend, seconds: float) -> None:
    """Make the kit refuse (``STOP``) any wait that would take its clock past ``seconds``."""
    backend.clock.gate = lambda wait: elapsed(backend) + wait <= seconds


def build_go_client(name: str, output_dir: Path) -> Path:
    """Build ``go_clients/<name>`` with Debian's ``go``; the build cache is the user's (or
    ``$GOCACHE``), so a second build is quick; bounded to two minutes."""
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("`go` is not installed: run `make setup` (Debian package golang-go)")
    environment = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", CGO_ENABLED="0")
    environment.setdefault("GOCACHE", str(Path.home() / ".cache" / "go-build"))
    output = output_dir / name
    subprocess.run(
        [go, "build", "-o", str(output), "."],
        cwd=GO_CLIENTS / name,
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return output
