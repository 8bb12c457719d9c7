"""``make container-test``: the mock's image built with podman and driven from outside it.

Runs the commands of the README's container block (``container_commands.py`` holds them; a
test checks that the README shows exactly these): installs podman, runc and debootstrap, makes
or reuses a local Debian base image, builds the image, runs it with the service settings
(2 workers, SQLite on a volume, time scale 100), waits on its HEALTHCHECK, drives a report
through create -> poll -> download (the PDF and the DOCX read back as documents) over a
published loopback port, stops the container, starts it again, then replaces it by a new
container on the same volume, and each time finds the report still there. It also checks that
both workers answer and that the image holds this checkout's modules byte for byte. The
container and its volume are removed however the run ends (SIGTERM and Ctrl-C included); the
image and the base image stay, as the cache of the next run. Prints how long each step took;
exit status 0 only if every check passed. Logs of the base and the build: artifacts/container-test/.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import requests

# Sibling modules: `python scripts/container_test.py` puts scripts/ first on sys.path.
from container_commands import (
    ROOT,
    SERVICE_SETTINGS,
    ContainerCommands,
    ContainerTestError,
    free_port,
)
from container_drive import (
    check_report_survived,
    drive_a_report,
    seconds_to_first_healthz,
    workers_answering,
)

__all__ = ["main"]

LOG_DIR = ROOT / "artifacts" / "container-test"
HEALTHY_WITHIN_SECONDS = 60.0
WORKERS = int(SERVICE_SETTINGS["MOCKSERVER_WORKERS"])


class StepTimer:
    """Times each named step and prints a summary table at the end."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self.notes: list[str] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"--- {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self.steps.append((name, time.monotonic() - started))

    def summary(self) -> str:
        lines = [f"{seconds:7.1f} s  {name}" for name, seconds in self.steps]
        return "\n".join(["container-test timings:", *lines, *self.notes])


def run(
    argv: list[str], *, timeout: float, log: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``argv`` with podman's settings file; its output to ``log`` when given, else captured."""
    env = {**os.environ, "CONTAINERS_CONF": str(ROOT / "scripts" / "containers.conf")}
    shown = [shlex.quote(arg) if len(arg) < 200 else "'<program>'" for arg in argv]
    print("$ " + " ".join(shown), flush=True)
    if log is None:
        result = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    else:
        with log.open("w") as sink:
            result = subprocess.run(
                argv, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True,
                timeout=timeout,
            )  # fmt: skip
    if check and result.returncode != 0:
        detail = log.read_text()[-3000:] if log else (result.stdout + result.stderr)[-3000:]
        raise ContainerTestError(f"{argv[0]} {argv[1]} exited {result.returncode}:\n{detail}")
    return result


def inspect(commands: ContainerCommands) -> dict[str, object]:
    output = run(["podman", "inspect", commands.container], timeout=30).stdout
    state: dict[str, object] = json.loads(output)[0]["State"]
    return state


def started_at(commands: ContainerCommands) -> datetime:
    return datetime.fromisoformat(str(inspect(commands)["StartedAt"]))


def start_until_healthy(commands: ContainerCommands, start: list[str], timer: StepTimer) -> None:
    """Runs ``start`` (a ``podman run`` or ``podman start``), then the image's HEALTHCHECK
    until it passes, and notes how long the mock took to answer, seen from both sides."""
    run(start, timeout=60)
    answered_after = seconds_to_first_healthz(commands.url, within=HEALTHY_WITHIN_SECONDS)
    answered = datetime.now(UTC)
    deadline = time.monotonic() + HEALTHY_WITHIN_SECONDS
    while run(commands.healthcheck(), timeout=30, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise ContainerTestError(f"not healthy within {HEALTHY_WITHIN_SECONDS:.0f} s")
        time.sleep(0.2)
    status = run(commands.health_status(), timeout=30).stdout.strip()
    if status != "healthy":
        raise ContainerTestError(f"the check passed but podman says the container is {status!r}")
    from_start = (answered - started_at(commands)).total_seconds()
    timer.notes.append(
        f"{start[1]}: /healthz answered the host {from_start:.2f} s after the container "
        f"started (podman's StartedAt), {answered_after:.2f} s after `podman {start[1]}` returned"
    )


#: The SHA-256 of every module of the four packages (path and bytes), under a root given as the
#: argument or, in the image, where ``mockserver`` is installed.
SOURCE_DIGEST = """
import hashlib, importlib.util, pathlib, sys
if len(sys.argv) > 1:
    root = pathlib.Path(sys.argv[1])
else:
    root = pathlib.Path(importlib.util.find_spec("mockserver").origin).parent.parent
digest = hashlib.sha256()
for package in ("mockserver", "schemas", "contract_tests", "clients_under_test"):
    for path in sorted((root / package).rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\\0")
        digest.update(path.read_bytes() + b"\\0")
print(digest.hexdigest())
"""


def check_image_holds_this_checkout(commands: ContainerCommands) -> None:
    """The image's installed modules are this checkout's, byte for byte: a build that reused
    a stale layer (containers/buildah#4522) fails here rather than testing old code."""
    here = subprocess.run(
        [sys.executable, "-c", SOURCE_DIGEST, str(ROOT)], capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    inside = run(commands.python_in_image(SOURCE_DIGEST), timeout=60).stdout.strip()
    if inside != here:
        raise ContainerTestError(
            f"the image's modules (sha256 {inside[:12]}) are not this checkout's ({here[:12]}): "
            f"`podman build --no-cache` rebuilds every layer"
        )


def image_size(commands: ContainerCommands) -> str:
    size = run(["podman", "image", "inspect", commands.image, "--format", "{{.Size}}"], timeout=30)
    return f"{int(size.stdout.strip()) / 1e6:.0f} MB"


def container_test(timer: StepTimer) -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    commands = ContainerCommands.for_this_machine(host_port=free_port())
    with timer.step("system packages (podman, runc, debootstrap)"):
        run(["bash", "scripts/install-system-deps.sh", "--container"], timeout=600)
    commands.remove_leftovers(run)
    try:
        with timer.step("base image (debootstrap + podman import, or reused)"):
            run(commands.base(), timeout=900, log=LOG_DIR / "base.log")
        with timer.step("podman build"):
            run(commands.build(), timeout=900, log=LOG_DIR / "build.log")
        timer.notes.append(f"image {commands.image}: {image_size(commands)}")
        with timer.step("the image holds this checkout's modules"):
            check_image_holds_this_checkout(commands)
        with timer.step("podman run (2 workers, SQLite on a volume, time scale 100) -> healthy"):
            run(commands.create_volume(), timeout=30)
            start_until_healthy(commands, commands.run(), timer)
        with timer.step("create -> poll -> download PDF and DOCX"):
            driven = drive_a_report(commands.url)
            timer.notes.append(driven.describe())
        with timer.step(f"{WORKERS} workers answer"):
            pids = workers_answering(commands.url, wanted=WORKERS)
            if len(pids) != WORKERS:
                raise ContainerTestError(f"{len(pids)} worker(s) answered 300 requests: {pids}")
        with timer.step("podman stop"):
            run(commands.stop(), timeout=60)
            exit_code = inspect(commands)["ExitCode"]
            if exit_code != 0:
                raise ContainerTestError(f"the mock exited {exit_code} on SIGTERM, not 0")
        with timer.step("podman start -> healthy; the report is still there"):
            start_until_healthy(commands, commands.start(), timer)
            check_report_survived(commands.url, driven)
        with timer.step("a new container on the same volume -> healthy; the report is there"):
            run(commands.stop(), timeout=60)
            run(commands.remove_container(), timeout=60)
            start_until_healthy(commands, commands.run(), timer)
            check_report_survived(commands.url, driven)
    except (ContainerTestError, requests.RequestException, subprocess.TimeoutExpired):
        logs = run(commands.logs(), timeout=30, check=False)
        print((logs.stdout + logs.stderr)[-4000:], file=sys.stderr)
        raise
    finally:
        with timer.step("clean up (container and volume)"):
            commands.remove_leftovers(run)


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP end the run like Ctrl-C, so the clean-up still runs."""
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop_on_signal)
    started = time.monotonic()
    timer = StepTimer()
    try:
        container_test(timer)
    except (ContainerTestError, requests.RequestException, subprocess.TimeoutExpired) as failure:
        print(timer.summary())
        print(f"container-test FAILED after {time.monotonic() - started:.0f} s: {failure}")
        return 1
    except KeyboardInterrupt as interrupted:
        print(timer.summary())
        print(f"container-test interrupted ({interrupted or 'Ctrl-C'}); cleaned up")
        return 130
    print(timer.summary())
    print(f"container-test passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
