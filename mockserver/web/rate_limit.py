"""The documented rate limit on ``/api``: ``X-RateLimit-*`` on every answer, 429 past it.

Installed only when ``RATE_LIMIT`` is on. It runs after the API key check (the limit is per
key, so a 401 is neither counted nor limited) and before the route; the counting itself is
:mod:`mockserver.rate_limit`'s, on the virtual clock.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g

from mockserver import messages
from mockserver.rate_limit import RateLimitDecision, RateLimiter
from mockserver.web import service
from mockserver.web.envelope import send_error
from mockserver.web.reports import reports

__all__ = ["RATE_LIMIT_EXTENSION_KEY", "install_rate_limit"]

RATE_LIMIT_EXTENSION_KEY = "reports_mock.rate_limit"


def install_rate_limit(app: Flask, limiter: RateLimiter) -> None:
    """Limit every ``/api`` request of ``app`` that carries a valid key.

    Call after the reports blueprint is registered, so the key check runs first.
    """
    app.extensions[RATE_LIMIT_EXTENSION_KEY] = limiter
    app.before_request_funcs.setdefault(reports.name, []).append(_count_request)
    app.after_request_funcs.setdefault(reports.name, []).append(_add_headers)


def _count_request() -> Response | None:
    owner: str | None = g.get("owner")
    if owner is None:
        return None
    limiter: RateLimiter = current_app.extensions[RATE_LIMIT_EXTENSION_KEY]
    decision = limiter.hit(owner, service().clock.now())
    g.rate_limit = decision
    if decision.allowed:
        return None
    message = messages.RATE_LIMIT_EXCEEDED.format(
        limit=decision.limit, seconds=decision.retry_after
    )
    return send_error(message, 429, decision.headers())


def _add_headers(response: Response) -> Response:
    decision: RateLimitDecision | None = g.get("rate_limit")
    if decision is not None:
        response.headers.update(decision.headers())
    return response
