"""The guide's exponential-backoff client, hardened to pass the kit's ``--strict`` profile.

On top of :mod:`clients_under_test.exponential_backoff` it treats a 5xx, a 429, a dropped
connection, a timeout and a body that is not the JSON envelope as transient: it waits (at
least ``Retry-After`` seconds after a 429) and polls again, until a terminal status or its
own 10-minute deadline. It raises at once on ``data: null``.
"""

from __future__ import annotations

import time
from typing import Any

import requests

__all__ = ["TRANSIENT_STATUSES", "ReportNotFound", "wait_for_report"]

#: Statuses worth another try: rate limited, and the server errors of a busy service.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class ReportNotFound(LookupError):
    """The API answered ``data: null`` for the id."""


def _retry_after(response: requests.Response, fallback: float) -> float:
    value = response.headers.get("Retry-After", "")
    return max(float(value), fallback) if value.isdigit() else fallback


def wait_for_report(
    report_id: str, *, base_url: str, api_key: str, timeout: float = 600
) -> dict[str, Any]:
    """Poll with backoff until completed, riding out transient faults."""
    deadline = time.time() + timeout
    interval: float = 3
    max_interval = 15
    last_problem = "no answer yet"

    while time.time() < deadline:
        try:
            response = requests.get(
                f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=30
            )
        except requests.RequestException as error:  # dropped connection, timeout
            last_problem = f"{type(error).__name__}: {error}"
            time.sleep(interval)
            continue
        if response.status_code in TRANSIENT_STATUSES:
            last_problem = f"HTTP {response.status_code}"
            time.sleep(_retry_after(response, interval))
            continue
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):  # truncated or not the envelope
            last_problem = "an unreadable answer"
            time.sleep(interval)
            continue
        if data is None:
            raise ReportNotFound(f"Report {report_id} not found")
        status = data["status"]
        if status == "completed":
            return dict(data)
        if status in ("failed", "cancelled"):
            message = (data.get("progress") or {}).get("message", "")
            raise Exception(f"Report {status}: {message}")
        time.sleep(interval)
        interval = min(interval * 1.5, max_interval)

    raise TimeoutError(f"Timed out waiting for report {report_id} (last problem: {last_problem})")
