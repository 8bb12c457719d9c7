"""A polling client built on tenacity's ``@retry``, as the library's own examples teach.

One decorated function fetches the report and raises ``StillRunning`` while it is pending or
processing, ``TransientFailure`` on a 5xx, a 429, a dropped connection or a garbled body;
tenacity retries both with the documented backoff (3 s x1.5, capped at 15 s), waits at least
``Retry-After`` after a 429 and stops after 10 minutes. Failed, cancelled and not-found
raise exceptions that tenacity does not retry.

``wait_for_report_ignoring_retry_after`` has one bug: its ``wait=`` is the plain exponential
backoff, so after a 429 it comes back sooner than ``Retry-After`` asks. Caught under
``honours_retry_after`` (``--strict``).
"""

from __future__ import annotations

from typing import Any

import requests
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

__all__ = ["wait_for_report", "wait_for_report_ignoring_retry_after"]

GIVE_UP_AFTER_SECONDS = 600
#: 3 s, 4.5 s, 6.75 s, ... capped at 15 s: the guide's production backoff.
BACKOFF = wait_exponential(multiplier=3, exp_base=1.5, max=15)


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


class StillRunning(Exception):
    """The report is pending or processing."""


class TransientFailure(Exception):
    """A failure worth another try; ``retry_after`` is the server's ``Retry-After``, if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _fetch(session: requests.Session, url: str) -> dict[str, Any]:
    """One GET: the completed report, or an exception saying what to do next."""
    try:
        response = session.get(url, timeout=30)
    except requests.RequestException as error:
        raise TransientFailure(f"request failed: {error}") from error
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientFailure(f"HTTP {response.status_code}", _retry_after(response))
    response.raise_for_status()
    try:
        data = response.json()["data"]
    except (ValueError, KeyError, TypeError) as error:
        raise TransientFailure(f"unreadable answer: {error}") from error
    if data is None:
        raise ReportNotFound(url.rsplit("/", 1)[-1])
    status = data["status"]
    if status == "completed":
        return dict(data)
    if status in ("failed", "cancelled"):
        message = (data.get("progress") or {}).get("message") or "no details"
        raise ReportFailed(f"Report {status}: {message}")
    raise StillRunning(status)


def _backoff_or_retry_after(retry_state: RetryCallState) -> float:
    """The backoff, or longer when the last answer was a 429 with ``Retry-After``."""
    wait = BACKOFF(retry_state)
    error = retry_state.outcome.exception() if retry_state.outcome else None
    if isinstance(error, TransientFailure) and error.retry_after is not None:
        return max(wait, error.retry_after)
    return wait


_RETRIED = retry_if_exception_type((StillRunning, TransientFailure))


@retry(
    retry=_RETRIED,
    wait=_backoff_or_retry_after,
    stop=stop_after_delay(GIVE_UP_AFTER_SECONDS),
    reraise=True,
)
def _fetch_until_finished(session: requests.Session, url: str) -> dict[str, Any]:
    return _fetch(session, url)


@retry(  # BUG: the plain backoff; a 429's Retry-After is read but never waited for.
    retry=_RETRIED,
    wait=BACKOFF,
    stop=stop_after_delay(GIVE_UP_AFTER_SECONDS),
    reraise=True,
)
def _fetch_until_finished_ignoring_retry_after(
    session: requests.Session, url: str
) -> dict[str, Any]:
    return _fetch(session, url)


def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    with requests.Session() as session:
        session.headers["X-API-Key"] = api_key
        try:
            return _fetch_until_finished(session, f"{base_url}/api/reports/{report_id}")
        except (StillRunning, TransientFailure) as error:
            raise TimeoutError(f"gave up on {report_id} after 10 minutes: {error}") from error


def wait_for_report_ignoring_retry_after(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, but ignores ``Retry-After`` (the planted bug)."""
    with requests.Session() as session:
        session.headers["X-API-Key"] = api_key
        try:
            return _fetch_until_finished_ignoring_retry_after(
                session, f"{base_url}/api/reports/{report_id}"
            )
        except (StillRunning, TransientFailure) as error:
            raise TimeoutError(f"gave up on {report_id} after 10 minutes: {error}") from error
