"""A polling client built on stacked ``backoff.on_exception`` decorators with ``max_tries``.

The fetch raises ``NotFinishedYet`` while the report runs (and after a 5xx, a dropped
connection or a garbled body) and ``RateLimited`` on a 429. The outer decorator retries
``NotFinishedYet`` with ``backoff.expo`` set to the guide's backoff (3 s x1.5, capped at 15 s)
for 60 tries, about 14 minutes; the inner one waits out a 429's ``Retry-After`` with
``backoff.runtime``. Both turn backoff's default jitter off: ``full_jitter`` would wait a
random time between 0 and the backoff.

``wait_for_report_with_default_jitter`` has one bug: it leaves the outer decorator's jitter at
its default, ``backoff.full_jitter``, so some polls come well under a second apart. Caught
under ``polls_at_a_steady_pace``.
"""

from __future__ import annotations

from typing import Any

import backoff
import requests

__all__ = ["wait_for_report", "wait_for_report_with_default_jitter"]

MAX_TRIES = 60  # 3 + 4.5 + 6.75 + 10.1 + 56 x 15 s: about 14 minutes


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


class NotFinishedYet(Exception):
    """Pending, processing, or a transient failure: poll again after the backoff."""


class RateLimited(Exception):
    """A 429; poll again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


def _fetch(session: requests.Session, url: str) -> dict[str, Any]:
    try:
        response = session.get(url, timeout=30)
    except requests.RequestException as error:
        raise NotFinishedYet(f"request failed: {error}") from error
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After", "")
        raise RateLimited(float(retry_after) if retry_after.isdigit() else 3.0)
    if response.status_code >= 500:
        raise NotFinishedYet(f"HTTP {response.status_code}")
    response.raise_for_status()
    try:
        data = response.json()["data"]
    except (ValueError, KeyError, TypeError) as error:
        raise NotFinishedYet(f"unreadable answer: {error}") from error
    if data is None:
        raise ReportNotFound(url.rsplit("/", 1)[-1])
    if data["status"] in ("failed", "cancelled"):
        message = (data.get("progress") or {}).get("message") or "no details"
        raise ReportFailed(f"Report {data['status']}: {message}")
    if data["status"] != "completed":
        raise NotFinishedYet(data["status"])
    return dict(data)


@backoff.on_exception(
    backoff.expo, NotFinishedYet, base=1.5, factor=3, max_value=15, max_tries=MAX_TRIES, jitter=None
)
@backoff.on_exception(
    backoff.runtime,
    RateLimited,
    value=lambda error: max(error.retry_after, 3.0),
    max_tries=MAX_TRIES,
    jitter=None,
)
def _fetch_completed(session: requests.Session, url: str) -> dict[str, Any]:
    return _fetch(session, url)


@backoff.on_exception(  # BUG: jitter left at its default, full_jitter: waits of 0 to 3 s
    backoff.expo, NotFinishedYet, base=1.5, factor=3, max_value=15, max_tries=MAX_TRIES
)
@backoff.on_exception(
    backoff.runtime,
    RateLimited,
    value=lambda error: max(error.retry_after, 3.0),
    max_tries=MAX_TRIES,
    jitter=None,
)
def _fetch_completed_with_default_jitter(session: requests.Session, url: str) -> dict[str, Any]:
    return _fetch(session, url)


def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 60 tries."""
    with requests.Session() as session:
        session.headers["X-API-Key"] = api_key
        try:
            return _fetch_completed(session, f"{base_url}/api/reports/{report_id}")
        except NotFinishedYet as error:  # backoff re-raises the last one after MAX_TRIES
            raise TimeoutError(f"report {report_id} unfinished after {MAX_TRIES} polls") from error


def wait_for_report_with_default_jitter(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, with backoff's default full jitter (the planted bug)."""
    with requests.Session() as session:
        session.headers["X-API-Key"] = api_key
        try:
            return _fetch_completed_with_default_jitter(
                session, f"{base_url}/api/reports/{report_id}"
            )
        except NotFinishedYet as error:
            raise TimeoutError(f"report {report_id} unfinished after {MAX_TRIES} polls") from error
