"""A polling client built on ``backoff.on_predicate`` with ``max_time``, as backoff's README shows.

``_poll`` makes one GET and returns what it saw: the report's data and how long to wait before
the next poll (5 s while it runs; after a 5xx, a 429, a dropped connection or a garbled body,
5 s or ``Retry-After`` if longer). ``backoff.runtime`` waits that long while the predicate
says the report is unfinished, for at most ``max_time`` = 10 minutes. backoff measures
``max_time`` with ``datetime.datetime.now()``; on giving up, ``on_predicate`` *returns the
last value* rather than raising, so the caller must check it.

``wait_for_report_returning_unfinished`` has one bug: it trusts that value and returns the
report's data when backoff gives up, so after 10 minutes it hands back a report that is still
processing. Caught under ``returns_only_completed_reports``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import backoff
import requests

__all__ = ["wait_for_report", "wait_for_report_returning_unfinished"]

POLL_INTERVAL_SECONDS = 5.0
GIVE_UP_AFTER_SECONDS = 600


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


@dataclass(frozen=True)
class Poll:
    """One poll: the data seen (None after a transient failure) and the wait before the next."""

    data: dict[str, Any] | None
    wait_seconds: float = POLL_INTERVAL_SECONDS

    @property
    def unfinished(self) -> bool:
        return self.data is None or self.data["status"] not in ("completed", "failed", "cancelled")


def _poll(session: requests.Session, url: str) -> Poll:
    try:
        response = session.get(url, timeout=30)
    except requests.RequestException:
        return Poll(None)
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = response.headers.get("Retry-After", "")
        wait = float(retry_after) if retry_after.isdigit() else 0.0
        return Poll(None, max(wait, POLL_INTERVAL_SECONDS))
    response.raise_for_status()
    try:
        body = response.json()
        data = body["data"]
    except (ValueError, KeyError, TypeError):
        return Poll(None)
    if data is None:
        raise ReportNotFound(url.rsplit("/", 1)[-1])
    return Poll(data)


@backoff.on_predicate(
    backoff.runtime,
    predicate=lambda poll: poll.unfinished,
    value=lambda poll: poll.wait_seconds,
    max_time=GIVE_UP_AFTER_SECONDS,
    jitter=None,
)
def _poll_until_finished(session: requests.Session, url: str) -> Poll:
    return _poll(session, url)


def _finished(report_id: str, data: dict[str, Any]) -> dict[str, Any]:
    if data["status"] in ("failed", "cancelled"):
        message = (data.get("progress") or {}).get("message") or "no details"
        raise ReportFailed(f"Report {data['status']}: {message}")
    return data


def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    with requests.Session() as session:
        session.headers["X-API-Key"] = api_key
        poll = _poll_until_finished(session, f"{base_url}/api/reports/{report_id}")
    if poll.unfinished or poll.data is None:  # backoff gave up: it returns the last value
        raise TimeoutError(f"report {report_id} still unfinished after 10 minutes")
    return _finished(report_id, poll.data)


def wait_for_report_returning_unfinished(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, but returns whatever backoff returned (the planted bug)."""
    with requests.Session() as session:
        session.headers["X-API-Key"] = api_key
        poll = _poll_until_finished(session, f"{base_url}/api/reports/{report_id}")
    if poll.data is None:
        raise TimeoutError(f"no answer for report {report_id}")
    # BUG: no check of poll.unfinished: after max_time this is a pending or processing report.
    return _finished(report_id, poll.data)
