"""A ``requests`` polling client whose deadline is ``datetime.now() + timedelta(...)``.

The way many scripts write a deadline (and what ``backoff``'s ``max_time`` does inside):
``deadline = datetime.now() + timedelta(minutes=10)``, then ``while datetime.now() < deadline``.
Polls every 5 s with ``time.sleep``; a 5xx, a dropped connection or a garbled body is retried
after the same 5 s, a 429 after ``Retry-After`` if that is longer.

``wait_for_report_with_one_minute_deadline`` has one bug: its deadline is
``timedelta(seconds=60)`` ("a minute is plenty"), so it gives up on reports that the guide
says may take 5 or 10 minutes. Caught under ``waits_for_documented_timeout``.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import requests

__all__ = ["wait_for_report", "wait_for_report_with_one_minute_deadline"]

POLL_INTERVAL_SECONDS = 5.0


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


def _wait(report_id: str, base_url: str, api_key: str, timeout: timedelta) -> dict[str, Any]:
    deadline = datetime.now() + timeout
    session = requests.Session()
    session.headers["X-API-Key"] = api_key
    url = f"{base_url}/api/reports/{report_id}"
    while datetime.now() < deadline:
        pause = POLL_INTERVAL_SECONDS
        try:
            response = session.get(url, timeout=30)
        except requests.RequestException:
            time.sleep(pause)  # dropped connection or timeout
            continue
        if response.status_code == 429:
            retry_after = response.headers.get("Retry-After", "")
            pause = max(float(retry_after), pause) if retry_after.isdigit() else pause
        elif response.status_code < 500:
            response.raise_for_status()
            try:
                data = response.json()["data"]
            except (ValueError, KeyError, TypeError):
                time.sleep(pause)  # a garbled answer: poll again
                continue
            if data is None:
                raise ReportNotFound(f"report {report_id} not found")
            if data["status"] == "completed":
                return dict(data)
            if data["status"] in ("failed", "cancelled"):
                message = (data.get("progress") or {}).get("message") or "no details"
                raise ReportFailed(f"Report {data['status']}: {message}")
        time.sleep(pause)
    raise TimeoutError(f"report {report_id} unfinished at {deadline:%H:%M:%S}")


def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    return _wait(report_id, base_url, api_key, timedelta(minutes=10))


def wait_for_report_with_one_minute_deadline(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, but gives up after one minute (the planted bug)."""
    return _wait(report_id, base_url, api_key, timedelta(seconds=60))  # BUG: 60 s
