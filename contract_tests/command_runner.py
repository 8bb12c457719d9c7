"""Running a client command (any language) on the kit's discrete-event clock.

A libc program (bash, curl, Node, Python, ...) runs with the preload library of
:mod:`contract_tests.command_clock`; a Go or static binary runs under the syscall tracer of
:mod:`contract_tests.syscall_clock`. Either way its sleeps and timed waits move the virtual
clock by exactly their length, and nothing else does. A :class:`RealTimeSleepWatch` follows
the command's process tree: a client seen sleeping in real time gets no verdict but
:class:`ClockNotFollowed` (exit 2), and a tracer's own failure is reported as such.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

from contract_tests.clock_following import (
    ClockNotFollowed,
    RealTimeSleepWatch,
    WatchedClock,
    classify_executable,
)
from contract_tests.command_clock import CommandClock
from contract_tests.commands import CommandFailed, command_argv, communicate_until
from contract_tests.kit_clock import KitClock
from contract_tests.run_observers import RunObserver
from contract_tests.run_supervision import WALL_CLOCK_LIMIT, RunSupervisor, real_time_stop
from contract_tests.runs import ClientRun, RunRecord
from contract_tests.syscall_clock import syscall_clock_argv, tracer_failure

__all__ = ["judge_polling_command", "run_process"]

#: A command's exit status, stdout and stderr.
CommandOutcome = tuple[int, str, str]


def run_process(
    supervisor: RunSupervisor,
    clock: KitClock,
    command: str,
    run: RunRecord,
    observer: RunObserver,
    created_epoch: float,
    environment: dict[str, str],
    wall_clock_limit: float = WALL_CLOCK_LIMIT,
) -> CommandOutcome | None:
    """Run ``command`` on ``clock``, ``observer`` seeing it, with ``environment`` set over the
    kit's own; its exit status, stdout and stderr, or ``None`` when the kit stopped it. The
    caller judges the outcome, then calls ``supervisor.end(run)``. A tracer failure or a
    client off the clock raises instead (the run already ended)."""
    supervisor.begin(observer, wall_clock_limit)
    argv = command_argv(command)
    if classify_executable(argv).bypasses_libc:
        argv = syscall_clock_argv(argv)
    watch = RealTimeSleepWatch()
    supervisor.watch = watch
    supervisor.active_at = time.monotonic()
    command_clock = CommandClock(WatchedClock(clock, watch))
    try:
        with command_clock:
            full_environment = {**os.environ, **command_clock.environment(), **environment}
            # A session of its own, so that stopping it stops any children too (and its
            # session id names its process tree for the watch).
            process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=full_environment,
                text=True,
                start_new_session=True,
            )
            try:
                with watch.following(process.pid):
                    stdout, stderr, idled = communicate_until(
                        process,
                        wall_clock_limit,
                        lambda: supervisor.stop_reason,
                        lambda: supervisor.active_at,
                    )
            finally:
                run.ended_at = clock.now() - created_epoch
    finally:
        supervisor.watch = None
    if supervisor.stop_reason is None and idled:
        supervisor.stop_reason = real_time_stop(wall_clock_limit)
    tracer_error = tracer_failure(process.returncode or 0, stderr)
    if tracer_error is not None:
        supervisor.end(run)
        raise tracer_error
    try:
        watch.check(command)
    except ClockNotFollowed:
        supervisor.stop_reason = None
        supervisor.end(run)
        raise
    if supervisor.stop_reason is not None:
        return None
    return process.returncode, stdout, stderr


def judge_polling_command(run: ClientRun, outcome: CommandOutcome | None) -> None:
    """What a polling command's outcome says: exit 0 with the report's data as JSON on stdout
    is a return, anything else an error (``CommandFailed``); ``None`` (stopped) leaves the
    run as the stop left it."""
    if outcome is None:
        return
    returncode, stdout, stderr = outcome
    if returncode == 0:
        try:
            run.returned, run.did_return = json.loads(stdout), True
        except json.JSONDecodeError:
            run.raised = CommandFailed(
                0, "exit 0 but stdout is not the report as JSON: " + stdout[-300:]
            )
    else:
        run.raised = CommandFailed(returncode, stderr + stdout)
    gap = run.ended_at - (run.requests[-1].at if run.requests else 0.0)
    run.last_event = "poll" if run.requests and gap < 2.0 else "sleep"
