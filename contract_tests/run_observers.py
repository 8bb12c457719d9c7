"""What sees one run from the server's loop and judges its pace: every answer, wait and clock read.

:class:`PaceObserver` is what a poller's observer (:class:`PollingObserver`) and a workflow's
(``workflow_harness``) share: a sleep resets the count of clock reads and is judged by the
run's limits; too many reads without a sleep is a busy wait. :class:`PollingObserver` records
each answered request of a polling client with its virtual time and says when to stop it (a
poll after a terminal status, a tight loop, too many requests, an hour of polling).
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from contract_tests.loopback import Answer
from contract_tests.model import GIVE_UP_LIMIT_SECONDS
from contract_tests.runs import ClientRun, Request, RunRecord, StopReason

__all__ = [
    "FAULT_HEADER",
    "MAX_CLOCK_READS",
    "MAX_REQUESTS",
    "MIN_POLL_GAP_SECONDS",
    "PaceObserver",
    "PollingObserver",
    "RunObserver",
    "served_status_of",
]

#: More requests than an hour of polling every 5 s, with room: beyond it the client is spinning.
MAX_REQUESTS = 1500
#: Documented pace: polls of one report closer than this are a tight loop.
MIN_POLL_GAP_SECONDS = 1.0
#: The response header in which the mock names an injected fault.
FAULT_HEADER = "X-Mock-Fault"
#: Reads of the clock without a sleep or a request in between: a busy wait.
MAX_CLOCK_READS = 100_000
_TIME_AFTER_LIMIT = GIVE_UP_LIMIT_SECONDS + 60

RunT = TypeVar("RunT", bound=RunRecord)


class RunObserver(Protocol):
    """What sees one run from the server's loop: every answer, every wait, every clock read;
    each returns the reason to stop the client, if any."""

    def answered(self, answer: Answer) -> StopReason | None: ...

    def sleep(self, seconds: float) -> StopReason | None: ...

    def clock_read(self) -> StopReason | None: ...


class PaceObserver(abc.ABC, Generic[RunT]):
    """The waits and clock reads of one run, for a poller's observer and a workflow's: a
    sleep resets the count of clock reads and is judged by the run's limits; too many reads
    without a sleep is a busy wait."""

    run: RunT
    clock_reads: int

    @abc.abstractmethod
    def elapsed(self) -> float:
        """Virtual seconds since the run started."""

    @abc.abstractmethod
    def _limits(self, elapsed: float) -> StopReason | None:
        """Why the client must stop ``elapsed`` seconds in, if it must."""

    def sleep(self, seconds: float) -> StopReason | None:
        self.run.last_event = "sleep"
        self.clock_reads = 0
        return self._limits(self.elapsed() + seconds)

    def clock_read(self) -> StopReason | None:
        self.clock_reads += 1
        if self.clock_reads > MAX_CLOCK_READS:
            return StopReason(
                "busy_wait",
                f"it read the clock {MAX_CLOCK_READS} times without sleeping (a busy wait)",
            )
        return None


class PollingObserver(PaceObserver[ClientRun]):
    """Sees every request and sleep of one polling client's run; decides when to stop it."""

    def __init__(self, run: ClientRun, created_epoch: float, now: Callable[[], float]) -> None:
        self.run = run
        self.created_epoch = created_epoch
        self.now = now
        self.clock_reads = 0

    def elapsed(self) -> float:
        return self.now() - self.created_epoch

    def answered(self, answer: Answer) -> StopReason | None:
        """Record an answered request (see :meth:`request`)."""
        fault = "drop" if answer.dropped else answer.headers.get(FAULT_HEADER.lower())
        retry_after = answer.headers.get("retry-after")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return self.request(
            answer.method, answer.path, answer.status, fault, seconds, served_status_of(answer.body)
        )

    def request(
        self,
        method: str,
        path: str,
        status: int,
        fault: str | None = None,
        retry_after: float | None = None,
        served_status: str | None = None,
    ) -> StopReason | None:
        """Record a request; the reason to stop the client, if any.

        ``served_status`` is the status the response carried: on a running clock the kit's
        own reading of the time lags the moment the mock answered, so what was served wins.
        """
        elapsed = self.elapsed()
        concerns = self.run.report_id in path
        served = self.run.lifecycle.observation_at(elapsed) if concerns else None
        if served is not None and served_status is not None and served.status != served_status:
            candidates = [o for o in self.run.lifecycle.timeline if o.status == served_status]
            served = min(candidates, key=lambda o: abs(o.after_seconds - elapsed), default=served)
        already_terminal = self.run.first_terminal_poll() is not None
        previous = self.run.polls[-1] if self.run.polls else None
        self.run.requests.append(
            Request(elapsed, method, path, status, served, concerns, fault, retry_after)
        )
        self.run.last_event = "poll"
        self.clock_reads = 0
        if concerns and already_terminal:
            return StopReason(
                "after_terminal", "it polled again after the report reached a terminal status"
            )
        if (
            concerns
            and method == "GET"
            and previous
            and elapsed - previous.at < MIN_POLL_GAP_SECONDS
        ):
            return StopReason(
                "tight_loop", f"it polled twice within {MIN_POLL_GAP_SECONDS:g}s (a tight loop)"
            )
        return self._limits(elapsed)

    def _limits(self, elapsed: float) -> StopReason | None:
        if len(self.run.requests) > MAX_REQUESTS:
            return StopReason("too_many_requests", f"it made more than {MAX_REQUESTS} requests")
        if elapsed > _TIME_AFTER_LIMIT:
            return StopReason(
                "past_an_hour",
                f"it was still polling after {GIVE_UP_LIMIT_SECONDS:g}s (an hour) of virtual time",
            )
        return None


def served_status_of(body: bytes) -> str | None:
    """The ``data.status`` of a JSON envelope, if the body is one."""
    try:
        data = json.loads(body).get("data") if body else None
    except (ValueError, AttributeError):
        return None
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None
