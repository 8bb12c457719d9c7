"""What one run of a client on one lifecycle produced: its requests, its outcome, why it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from contract_tests.model import TERMINAL, Lifecycle, Observation

__all__ = ["ClientRun", "Request", "RunRecord", "StopReason"]


@dataclass(frozen=True)
class StopReason:
    """Why the kit stopped a client: ``kind`` for the checks, ``text`` for people."""

    kind: Literal[
        "after_terminal",
        "tight_loop",
        "busy_wait",
        "too_many_requests",
        "past_an_hour",
        "waits_forever",
        "too_long_in_real_time",
        "repolled_a_failed_report",
        "too_many_reports",
    ]
    text: str

    def __str__(self) -> str:
        return self.text


class RunRecord(Protocol):
    """What the harness fills in about any run: a poller's or a workflow's."""

    returned: Any
    did_return: bool
    raised: BaseException | None
    stopped: StopReason | None
    ended_at: float
    last_event: str

    def describe_example(self) -> str:
        """What the kit played (a poller's lifecycle, a workflow's plan), for people."""
        ...

    def describe_requests(self, limit: int = 40) -> str:
        """The requests as lines, for people."""
        ...


@dataclass(frozen=True)
class Request:
    """A request the client made, ``at`` seconds after the report was created."""

    at: float
    method: str
    path: str
    status: int
    served: Observation | None  # what the lifecycle showed then (None: not found)
    concerns_report: bool
    fault: str | None = None  # the injected fault's label, e.g. "503" or "drop"
    retry_after: float | None = None

    @property
    def spoiled(self) -> bool:
        """Whether a fault kept the client from seeing the report (anything but latency)."""
        return self.fault is not None and not self.fault.startswith("latency")


@dataclass
class ClientRun:
    """What happened when the client was run on one lifecycle."""

    lifecycle: Lifecycle
    report_id: str
    requests: list[Request] = field(default_factory=list)
    returned: Any = None
    did_return: bool = False
    raised: BaseException | None = None
    stopped: StopReason | None = None
    ended_at: float = 0.0
    last_event: str = "start"  # "poll", "sleep" or "start": what the client did last

    @property
    def polls(self) -> list[Request]:
        """The client's GETs of its report."""
        return [r for r in self.requests if r.concerns_report and r.method == "GET"]

    def first_terminal_poll(self) -> Request | None:
        """The first poll that was answered with a terminal status, if any."""
        return next(
            (p for p in self.polls if p.served and not p.spoiled and p.served.status in TERMINAL),
            None,
        )

    def describe_example(self) -> str:
        """The lifecycle the client was run on."""
        return self.lifecycle.describe()

    def describe_requests(self, limit: int = 40) -> str:
        """The requests as lines, e.g. ``+5.0s GET /api/reports/rpt_1 -> 200 (processing)``."""
        lines = []
        for request in self.requests[:limit]:
            served = request.served.status if request.served else "data: null"
            lines.append(
                f"  +{request.at:.1f}s {request.method} {request.path} -> {request.status} ({served})"
            )
        if len(self.requests) > limit:
            lines.append(f"  ... and {len(self.requests) - limit} more")
        if self.did_return:
            lines.append(f"  client returned after {self.ended_at:.1f}s")
        elif self.stopped:
            lines.append(f"  client stopped by the kit after {self.ended_at:.1f}s: {self.stopped}")
        elif self.raised is not None:
            lines.append(
                f"  client raised after {self.ended_at:.1f}s: {type(self.raised).__name__}: {self.raised}"
            )
        return "\n".join(lines) or "  (no requests)"
