"""The run in progress, and how the kit stops its client, whichever way the client runs.

A :class:`RunSupervisor` is shared by the server's loop (each answered request reaches the
run's observer there; a command's :class:`~contract_tests.clock_following.RealTimeSleepWatch`
is told of each arrival), the kit's clock (its gate asks the observer before every wait) and
the thread that runs the client (a Python client's thread, or the one waiting for a command).
The first reason to stop wins; a Python client is stopped by an exception thrown into its
thread, a command by its process group being killed (``commands.communicate_until``).
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Iterable
from typing import Any

from contract_tests.clock_following import RealTimeSleepWatch
from contract_tests.errors import ClientStopped, VirtualTimeEscaped
from contract_tests.loopback import Answer
from contract_tests.run_observers import RunObserver
from contract_tests.runs import RunRecord, StopReason

__all__ = ["WALL_CLOCK_LIMIT", "RunSupervisor", "WsgiApp", "real_time_stop"]

#: Real seconds one example may take before the client is stopped.
WALL_CLOCK_LIMIT = 30.0

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def real_time_stop(limit: float) -> StopReason:
    """Why a client that spent ``limit`` real seconds off the kit's clock was stopped."""
    return StopReason("too_long_in_real_time", f"it ran for more than {limit:g}s of real time")


class _StopClient(ClientStopped):
    """Thrown into a client's thread when the kit stops it from another thread."""

    def __init__(self) -> None:
        super().__init__("the kit stopped the client")


def _throw_into(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(_StopClient)
    )


class RunSupervisor:
    """The run in progress: its observer, why its client must stop, the client's thread, a
    command's real-time watch, and when the client was last seen active."""

    def __init__(self) -> None:
        self.observer: RunObserver | None = None
        self.watch: RealTimeSleepWatch | None = None
        #: ``time.monotonic()`` of the last request answered or clock move (commands' watchdog).
        self.active_at = time.monotonic()
        self.stop_reason: StopReason | None = None
        self.client_thread: int | None = None
        #: Real seconds the run in progress may spend off the kit's clock.
        self.wall_clock_limit = WALL_CLOCK_LIMIT

    def begin(self, observer: RunObserver, wall_clock_limit: float = WALL_CLOCK_LIMIT) -> None:
        """A run starts, seen by ``observer``."""
        self.observer = observer
        self.stop_reason = None
        self.client_thread = None
        self.wall_clock_limit = wall_clock_limit

    def end(self, run: RunRecord) -> None:
        """The run ended: a stopped client's outcome is its stop reason, not what it did
        after. Raises :class:`VirtualTimeEscaped` if it was stopped for its real time."""
        reason = self.stop_reason
        if reason is not None:
            run.stopped, run.raised, run.did_return = reason, None, False
        self.observer = None
        self.client_thread = None
        if reason is not None and reason.kind == "too_long_in_real_time":
            raise VirtualTimeEscaped(
                f"the client ran for more than {self.wall_clock_limit:g}s of real time in one "
                "example without waiting on the kit's clock. It blocks on something the kit "
                "does not virtualise (a lock or Thread.join without a timeout, a subprocess, a "
                "socket to another server, a C extension's own sleep). Requests so far:\n"
                + run.describe_requests()
            )

    def stop(self, reason: StopReason) -> None:
        """Stop the client from another thread (the first reason wins)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        if self.client_thread is not None:
            _throw_into(self.client_thread)

    def stop_here(self, reason: StopReason) -> None:
        """Stop the client from its own thread (a busy wait, a wait for ever)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        raise ClientStopped(reason.text)

    # --- in the server's loop -------------------------------------------------------------

    def gate(self, seconds: float) -> bool:
        """Whether the client may wait ``seconds`` now (the clock's gate, in the loop)."""
        self.active_at = time.monotonic()
        observer = self.observer
        if observer is None:
            return True
        if self.stop_reason is not None:
            return False
        reason = observer.sleep(seconds)
        if reason:
            self.stop_reason = reason
            return False
        return True

    def on_answer(self, answer: Answer) -> None:
        """Record a request where the mock answered it, before a fault spoils the answer."""
        observer = self.observer
        if observer is None or answer.path.startswith("/_mock"):
            return
        self.active_at = time.monotonic()
        watch = self.watch
        if watch is not None:  # its arrival was noted by note_arrivals
            watch.response_sent()
        reason = observer.answered(answer)
        if reason:
            self.stop(reason)

    def note_arrivals(self, app: WsgiApp) -> WsgiApp:
        """Tell a command's :class:`RealTimeSleepWatch` of each request as it arrives, before
        the mock works on it: a slow answer (a document rendered) is not the client's wait."""

        def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            watch = self.watch
            if (
                watch is not None
                and self.observer is not None
                and not environ["PATH_INFO"].startswith("/_mock")
            ):
                watch.request_received()
            return app(environ, start_response)

        return serve
