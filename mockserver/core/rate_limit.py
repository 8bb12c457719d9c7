"""The documented rate limit: so many requests per minute per API key, on the virtual clock.

Documented: 100 requests per minute per key; every response carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix time); past the limit, 429.
Inferred: the window (the reference does not say fixed or sliding, so both are offered), that
refused requests do not use up the budget, and ``Retry-After`` on the 429.

Two windows:

- ``fixed``: the minute is the virtual clock's minute; the count starts from 0 at each full
  minute, and ``X-RateLimit-Reset`` is the end of the minute.
- ``sliding``: the usual two-window estimate, ``previous * (share of the previous minute still
  inside the last 60 s) + current``, which smooths out the burst a fixed window allows at
  each minute boundary.

Counts live in shared numbers that lapse with their window
(:meth:`~mockserver.store.base.ReportStore.add_to_expiring_number`), so every worker that
shares a store enforces one limit. Times are virtual: advancing the clock a minute refills
the budget, and a frozen clock (time scale 0) never does by itself.

Pure: no Flask, no I/O; the counters and the time are passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

__all__ = [
    "DOCUMENTED_LIMIT",
    "WINDOWS",
    "WINDOW_SECONDS",
    "ExpiringCounters",
    "RateLimitDecision",
    "RateLimitPolicy",
    "RateLimitWindow",
    "RateLimiter",
]

#: Documented: "100 requests per minute" per API key.
DOCUMENTED_LIMIT = 100
WINDOW_SECONDS = 60

RateLimitWindow = Literal["fixed", "sliding"]
WINDOWS: tuple[RateLimitWindow, ...] = get_args(RateLimitWindow)


class ExpiringCounters(Protocol):
    """Where the counts live: every :class:`~mockserver.store.base.ReportStore` is one."""

    def add_to_expiring_number(
        self, key: str, amount: float, *, now: float, expires_at: float
    ) -> float:
        """Atomically add ``amount`` to a number that lapses at ``expires_at``; the total."""
        ...


@dataclass(frozen=True)
class RateLimitPolicy:
    """``limit`` requests per ``window_seconds`` per key, counted in a fixed or sliding window."""

    limit: int = DOCUMENTED_LIMIT
    window: RateLimitWindow = "fixed"
    window_seconds: int = WINDOW_SECONDS

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"limit={self.limit!r}: use a whole number of requests, 1 or more")
        if self.window not in WINDOWS:
            raise ValueError(f"window={self.window!r}: use {' or '.join(WINDOWS)}")
        if not isinstance(self.window_seconds, int) or self.window_seconds < 1:
            raise ValueError(f"window_seconds={self.window_seconds!r}: use 1 or more")


@dataclass(frozen=True)
class RateLimitDecision:
    """Whether one request may pass, and the headers that say where the key stands."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # Unix time (virtual) at which the full budget is back
    retry_after: int | None  # seconds until the next request may pass; only when refused

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*``, and ``Retry-After`` on a refusal."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter:
    """Counts each key's requests and says whether the next one may pass."""

    def __init__(
        self, policy: RateLimitPolicy, counters: ExpiringCounters, *, prefix: str = "ratelimit"
    ) -> None:
        self.policy = policy
        self._counters = counters
        self._prefix = prefix

    def _key(self, subject: str, window: int) -> str:
        return f"{self._prefix}.{subject}.{window}"

    def hit(self, subject: str, now: float) -> RateLimitDecision:
        """Count one request of ``subject`` (an API key's fingerprint) at virtual time ``now``.

        A refused request is taken back out of the count, so a client that keeps retrying
        too early does not push its own recovery further away.
        """
        if self.policy.window == "sliding":
            return self._hit_sliding(subject, now)
        return self._hit_fixed(subject, now)

    def _hit_fixed(self, subject: str, now: float) -> RateLimitDecision:
        limit, span = self.policy.limit, self.policy.window_seconds
        window = math.floor(now / span)
        end = (window + 1) * span
        key = self._key(subject, window)
        count = self._counters.add_to_expiring_number(key, 1, now=now, expires_at=end)
        if count <= limit:
            return RateLimitDecision(True, limit, int(limit - count), end, None)
        self._counters.add_to_expiring_number(key, -1, now=now, expires_at=end)
        return RateLimitDecision(False, limit, 0, end, max(1, math.ceil(end - now)))

    def _hit_sliding(self, subject: str, now: float) -> RateLimitDecision:
        limit, span = self.policy.limit, self.policy.window_seconds
        window = math.floor(now / span)
        end = (window + 1) * span
        previous = self._counters.add_to_expiring_number(
            self._key(subject, window - 1), 0, now=now, expires_at=end
        )
        key = self._key(subject, window)
        current = self._counters.add_to_expiring_number(key, 1, now=now, expires_at=end + span)
        weight = (end - now) / span  # share of the previous window still in the last minute
        estimate = previous * weight + current
        if estimate <= limit:
            remaining = math.floor(limit - estimate)
            return RateLimitDecision(True, limit, remaining, end + span, None)
        current = self._counters.add_to_expiring_number(key, -1, now=now, expires_at=end + span)
        reset_at = end + span if current > 0 else end
        if current + 1 <= limit:  # enough of the previous window must slide out
            opens_at = end - span * (limit - 1 - current) / previous
        else:  # this window alone is full: wait into the next one
            opens_at = end + span - span * (limit - 1) / current
        return RateLimitDecision(False, limit, 0, reset_at, max(1, math.ceil(opens_at - now)))
