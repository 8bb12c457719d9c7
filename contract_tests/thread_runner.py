"""Running a Python client in a thread of its own, on the kit's virtual time.

The client's function (or coroutine function, run on a
:class:`~contract_tests.virtual_loop.VirtualTimeLoop`) runs in a fresh thread with every clock
and timed wait virtualised (:mod:`contract_tests.virtual_time`); the kit's thread keeps real
time for its safety net: a client that spends ``wall_clock_limit`` real seconds without
waiting on the kit's clock is stopped, and the run ends in ``VirtualTimeEscaped``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import threading
from collections.abc import Callable
from typing import Any

from contract_tests.errors import ClientStopped
from contract_tests.kit_clock import KitClock
from contract_tests.run_observers import RunObserver
from contract_tests.run_supervision import WALL_CLOCK_LIMIT, RunSupervisor, real_time_stop
from contract_tests.runs import RunRecord, StopReason
from contract_tests.virtual_loop import VirtualTimeLoop, virtual_loops
from contract_tests.virtual_time import VirtualTimeHooks, enter_virtual_thread, virtual_time

__all__ = ["run_in_thread"]


def run_in_thread(
    supervisor: RunSupervisor,
    clock: KitClock,
    call: Callable[[], Any],
    run: RunRecord,
    observer: RunObserver,
    created_epoch: float,
    wall_clock_limit: float = WALL_CLOCK_LIMIT,
) -> None:
    """Run ``call`` in a thread of its own on ``clock``'s virtual time, ``observer`` seeing
    it; its outcome goes into ``run``, then ``supervisor.end(run)``."""
    supervisor.begin(observer, wall_clock_limit)

    def on_clock_read() -> None:
        reason = observer.clock_read()
        if reason:
            supervisor.stop_here(reason)

    def on_wait_forever() -> None:
        if supervisor.stop_reason is None:
            supervisor.stop_reason = StopReason(
                "waits_forever",
                "it waited with nothing to wait for: no timer, no request, no thread",
            )

    hooks = VirtualTimeHooks(clock, on_clock_read)
    thread = threading.Thread(
        target=_client_body,
        args=(supervisor, clock, call, run, on_wait_forever),
        name="contract-kit-client",
        daemon=True,
    )
    try:
        # What the client prints is its own business, not the kit's report.
        with (
            virtual_time(hooks),
            virtual_loops(clock, on_wait_forever),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            thread.start()
            thread.join(wall_clock_limit)
            if thread.is_alive():
                supervisor.stop(real_time_stop(wall_clock_limit))
                thread.join(2.0)
    finally:
        run.ended_at = clock.now() - created_epoch
        supervisor.end(run)


def _client_body(
    supervisor: RunSupervisor,
    clock: KitClock,
    call: Callable[[], Any],
    run: RunRecord,
    on_wait_forever: Callable[[], None],
) -> None:
    enter_virtual_thread()
    supervisor.client_thread = threading.get_ident()
    try:
        outcome = call()
        if inspect.isawaitable(outcome):  # a coroutine function: run on the kit's loop
            outcome = _run_on_virtual_loop(outcome, clock, on_wait_forever)
        run.returned, run.did_return = outcome, True
    except ClientStopped:
        pass
    except BaseException as error:  # what the client raised is the verdict's input
        run.raised = error
    finally:
        supervisor.client_thread = None


def _run_on_virtual_loop(
    awaitable: Any, clock: KitClock, on_wait_forever: Callable[[], None]
) -> Any:
    """Run a coroutine on a fresh :class:`VirtualTimeLoop` in the calling (client) thread."""
    loop = VirtualTimeLoop(clock, on_wait_forever)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(awaitable)
    finally:
        try:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
