"""A sync function that runs an ``async`` poller with ``asyncio.run``, using ``requests`` inside.

Seen where a codebase went async for its sleeps but kept ``requests``: the caller sees a plain
function; inside, ``asyncio.run(asyncio.wait_for(_poll(...), timeout=600))`` bounds the whole
wait to 10 minutes, each poll is a (blocking) ``requests`` call and the pause between polls is
``await asyncio.sleep(5)``. A 5xx, a dropped connection or a garbled body is retried after 5 s,
a 429 after ``Retry-After`` if longer.

``wait_for_report_without_failure_message`` has one bug: on ``failed`` it raises
``ReportFailed(f"report {id} failed")`` and drops ``progress.message``, the one thing the guide
says to read on a failure. Caught under ``raises_on_failed_or_cancelled``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import requests

__all__ = ["wait_for_report", "wait_for_report_without_failure_message"]

POLL_INTERVAL_SECONDS = 5.0
TIMEOUT_SECONDS = 600.0


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


def _pause(response: requests.Response) -> float:
    retry_after = response.headers.get("Retry-After", "")
    if response.status_code == 429 and retry_after.isdigit():
        return max(float(retry_after), POLL_INTERVAL_SECONDS)
    return POLL_INTERVAL_SECONDS


async def _poll(report_id: str, base_url: str, api_key: str, with_message: bool) -> dict[str, Any]:
    url = f"{base_url}/api/reports/{report_id}"
    while True:
        try:
            response = requests.get(url, headers={"X-API-Key": api_key}, timeout=30)
        except requests.RequestException:
            await asyncio.sleep(POLL_INTERVAL_SECONDS)
            continue
        if response.status_code == 429 or response.status_code >= 500:
            await asyncio.sleep(_pause(response))
            continue
        response.raise_for_status()
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            await asyncio.sleep(POLL_INTERVAL_SECONDS)
            continue
        if data is None:
            raise ReportNotFound(f"report {report_id} not found")
        status = data["status"]
        if status == "completed":
            return dict(data)
        if status in ("failed", "cancelled"):
            if not with_message:
                raise ReportFailed(f"report {report_id} {status}")  # BUG: no progress.message
            message = (data.get("progress") or {}).get("message") or "no details"
            raise ReportFailed(f"Report {status}: {message}")
        await asyncio.sleep(POLL_INTERVAL_SECONDS)


def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    return asyncio.run(
        asyncio.wait_for(_poll(report_id, base_url, api_key, True), timeout=TIMEOUT_SECONDS)
    )


def wait_for_report_without_failure_message(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, but its failure error lacks the reason (the planted bug)."""
    return asyncio.run(
        asyncio.wait_for(_poll(report_id, base_url, api_key, False), timeout=TIMEOUT_SECONDS)
    )
