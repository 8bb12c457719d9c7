"""A polling client on ``httpx.Client``: a loop with a ``time.monotonic`` deadline.

Polls every 5 s for up to 10 minutes through one pooled ``httpx.Client``. A 5xx, a dropped
connection (``httpx.TransportError``) or a garbled body is retried after the same 5 s; a 429
after ``Retry-After`` if that is longer.

``wait_for_report_ignoring_cancelled`` has one bug: it raises on ``failed`` but never checks
``cancelled``, so a cancelled report is polled again as if it were still running. Caught
under ``raises_on_failed_or_cancelled`` (the poll after the terminal status also breaks
``stops_after_terminal_status``).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx

__all__ = ["wait_for_report", "wait_for_report_ignoring_cancelled"]

POLL_INTERVAL_SECONDS = 5.0
TIMEOUT_SECONDS = 600.0


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


def _pause_after(response: httpx.Response | None) -> float:
    """How long to wait before the next poll: ``Retry-After`` on a 429, else the interval."""
    if response is not None and response.status_code == 429:
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            return max(float(retry_after), POLL_INTERVAL_SECONDS)
    return POLL_INTERVAL_SECONDS


def _read(response: httpx.Response) -> tuple[bool, Any]:
    """(True, data) when the answer is the JSON envelope, (False, None) when it is garbled."""
    try:
        return True, response.json()["data"]
    except (ValueError, KeyError, TypeError):
        return False, None


def _wait(report_id: str, base_url: str, api_key: str, terminal: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    with httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}, timeout=30.0) as client:
        while time.monotonic() < deadline:
            response: httpx.Response | None = None
            with contextlib.suppress(httpx.TransportError):  # dropped, timed out: retry
                response = client.get(f"/api/reports/{report_id}")
            if response is not None and response.status_code != 429 and response.status_code < 500:
                response.raise_for_status()
                readable, data = _read(response)
                if readable and data is None:
                    raise ReportNotFound(f"report {report_id} not found")
                if readable and data["status"] == "completed":
                    return dict(data)
                if readable and data["status"] in terminal:
                    message = (data.get("progress") or {}).get("message") or "no details"
                    raise ReportFailed(f"Report {data['status']}: {message}")
            time.sleep(_pause_after(response))
    raise TimeoutError(f"report {report_id} unfinished after 10 minutes")


def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    return _wait(report_id, base_url, api_key, ("failed", "cancelled"))


def wait_for_report_ignoring_cancelled(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, but only ``failed`` stops it (the planted bug)."""
    return _wait(report_id, base_url, api_key, ("failed",))  # BUG: "cancelled" is missing
