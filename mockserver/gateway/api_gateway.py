"""The gateway in front of the API: injected faults and the documented rate limit.

Faults and the rate limit are properties of the network in front of the Reports API, not of
the API, so they live here, over the service and its store, and never in the service. The
web adapter asks the gateway about each ``/api`` and ``/storage`` request and translates the
answer to HTTP; the gateway knows routes only by their :data:`~mockserver.core.fault_rules.Route`
names, never by endpoint strings.

Where a fault strikes in the request path:

- ``latency``: a real (wall-clock) sleep before the API runs, at most 10 s per request;
- ``500``/``502``/``503``/``429``: a :class:`Refusal` answered before the API runs, so the
  request has no effect (as at a gateway); 429 and optionally 503 carry ``Retry-After``;
- ``truncate``/``non_json``/``drop``: applied by the adapter to the API's answer, so the
  request *did* take effect (a create made its report) but the client cannot read the answer.

Every decision reuses the request's :class:`~mockserver.service.RequestScope`: the report a
request concerns is looked up once (the route and the journal then find it there) and the
clock is read once (the rate limit counts at that reading).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mockserver.core import messages
from mockserver.core.fault_choice import Fault
from mockserver.core.fault_rules import Route
from mockserver.core.rate_limit import RateLimitDecision, RateLimiter
from mockserver.gateway.fault_plan import FaultPlan
from mockserver.service import RequestScope, ServiceState

__all__ = ["FAULT_HEADER", "REPORT_FAULTS_HEADER", "ApiGateway", "Refusal"]

#: Mock-only, on ``POST /api/reports``: the faults of the report it creates (echoed back).
REPORT_FAULTS_HEADER = "X-Mock-Faults"
#: Mock-only, on every faulted response that reaches the client: what was injected.
FAULT_HEADER = "X-Mock-Fault"

_STATUS_MESSAGES = {
    500: messages.FAULT_INTERNAL_ERROR,
    502: messages.FAULT_BAD_GATEWAY,
    503: messages.FAULT_SERVICE_UNAVAILABLE,
}


@dataclass(frozen=True)
class Refusal:
    """An answer the gateway gives instead of the API: an error envelope and its headers."""

    status: int
    message: str
    headers: Mapping[str, str]


class ApiGateway:
    """Chooses each request's fault and applies the rate limit, over the service's state."""

    def __init__(
        self,
        state: ServiceState,
        faults: FaultPlan,
        rate_limiter: RateLimiter | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._state = state
        self.faults = faults
        self.rate_limiter = rate_limiter
        #: How latency waits; tests replace it to record the delay instead.
        self.sleep = sleep

    # --- faults ---------------------------------------------------------------------------

    def fault_for(
        self,
        scope: RequestScope,
        route: Route,
        target: str | None,
        *,
        wait: Callable[[float], None] | None = None,
    ) -> Fault | None:
        """The fault of one ``/api`` or ``/storage`` request, counting the request first.

        ``target`` is what the path names: a report or case id (poll, cancel) or a document's
        file name (download). Latency is waited here, before the API runs, with ``wait`` when
        given (the served front waits on its event loop instead of holding a thread).
        """
        report_id = self._report_concerned(scope, route, target)
        fault = self.faults.choose(route, scope, report_id)
        if fault is not None and fault.latency_ms:
            (wait or self.sleep)(fault.latency_ms / 1000)
        return fault

    def unfaulted(self, scope: RequestScope, route: Route, target: str | None) -> bool:
        """Whether no fault rule can strike this request (then :meth:`fault_for` would count
        nothing and answer ``None``, and a poll's count waits for its journal entry)."""
        report_id = self._report_concerned(scope, route, target)
        return self.faults.no_rule_applies(route, scope, report_id)

    @staticmethod
    def report_id_named(route: Route, target: str | None) -> str | None:
        """The report id (or case id, for a poll) the path of a request names, if any."""
        if not target or route not in ("poll", "cancel", "download"):
            return None
        return target.rpartition(".")[0] if route == "download" else target

    def _report_concerned(
        self, scope: RequestScope, route: Route, target: str | None
    ) -> str | None:
        """The report a request concerns, by the same lookup its route makes."""
        if not target:
            return None
        if route == "poll":
            record = self._state.find(scope, target, by_case=True)
        elif route == "cancel":
            record = self._state.find(scope, target)
        elif route == "download":  # the URL's signature, not the key, authorises a download
            record = self._state.find(scope, target.rpartition(".")[0], any_owner=True)
        else:
            return None
        return record.id if record is not None else None

    @staticmethod
    def refusal_of_fault(fault: Fault) -> Refusal | None:
        """The answer a 500/502/503/429 fault gives instead of the API; ``None`` for others."""
        status = fault.status
        if status is None:
            return None
        headers = {FAULT_HEADER: fault.label}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if status == 429:
            message = messages.FAULT_TOO_MANY_REQUESTS.format(seconds=fault.retry_after)
        else:
            message = _STATUS_MESSAGES[status]
        return Refusal(status, message, headers)

    # --- the rate limit -------------------------------------------------------------------

    def admit(self, scope: RequestScope) -> RateLimitDecision | None:
        """Count one request of the (checked) key at the request's clock reading.

        ``None`` when the limit is off or the request has no key; otherwise the decision,
        whose headers go on the answer (``X-RateLimit-*``, and ``Retry-After`` on a refusal).
        """
        if self.rate_limiter is None or scope.owner is None:
            return None
        return self.rate_limiter.hit(scope.owner, scope.now)

    @staticmethod
    def refusal_of_limit(decision: RateLimitDecision) -> Refusal | None:
        """The 429 of a refused request; ``None`` when it may pass."""
        if decision.allowed:
            return None
        message = messages.RATE_LIMIT_EXCEEDED.format(
            limit=decision.limit, seconds=decision.retry_after
        )
        return Refusal(429, message, decision.headers())
