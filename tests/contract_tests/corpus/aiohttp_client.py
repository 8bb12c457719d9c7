"""An ``async def`` polling client on ``aiohttp.ClientSession`` with a ``loop.time()`` deadline.

A coroutine function: the kit runs it on its own event loop. Polls every 5 s for up to
10 minutes, measured on the event loop's clock. The session checks statuses itself: a 5xx is
retried after 5 s, a 429 after ``Retry-After`` if that is longer; any ``aiohttp.ClientError``
(a dropped connection, a cut-off body) or a body that is not the JSON envelope is retried too.

``wait_for_report_raising_for_status`` has one bug: its session is created with
``raise_for_status=True`` and the loop retries only ``aiohttp.ClientConnectionError``, so the
first 500, 502, 503 or 429 raises ``ClientResponseError`` out of the client. Caught under
``survives_transient_faults`` (``--strict``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

__all__ = ["wait_for_report", "wait_for_report_raising_for_status"]

POLL_INTERVAL_SECONDS = 5.0
TIMEOUT_SECONDS = 600.0


#: Dropped or cut off (a connection error, a short payload), too slow, or not the JSON
#: envelope (an HTML error page, a truncated body): poll again after the pause.
_WORTH_ANOTHER_POLL = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    TimeoutError,
    ValueError,
    KeyError,
    TypeError,
)


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


def _finished(report_id: str, data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The data when completed; raises when failed, cancelled or unknown; None while running."""
    if data is None:
        raise ReportNotFound(f"report {report_id} not found")
    if data["status"] in ("failed", "cancelled"):
        message = (data.get("progress") or {}).get("message") or "no details"
        raise ReportFailed(f"Report {data['status']}: {message}")
    return data if data["status"] == "completed" else None


async def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT_SECONDS
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(headers={"X-API-Key": api_key}, timeout=timeout) as session:
        while loop.time() < deadline:
            pause = POLL_INTERVAL_SECONDS
            try:
                async with session.get(f"{base_url}/api/reports/{report_id}") as response:
                    if response.status == 429:
                        retry_after = response.headers.get("Retry-After", "")
                        if retry_after.isdigit():
                            pause = max(float(retry_after), POLL_INTERVAL_SECONDS)
                    elif response.status < 500:
                        response.raise_for_status()
                        body = json.loads(await response.text())
                        done = _finished(report_id, body["data"])
                        if done is not None:
                            return done
            except _WORTH_ANOTHER_POLL:
                pass  # poll again after the pause
            await asyncio.sleep(pause)
    raise TimeoutError(f"report {report_id} unfinished after 10 minutes")


async def wait_for_report_raising_for_status(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, but lets aiohttp raise on any 4xx/5xx (the planted bug)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT_SECONDS
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        headers={"X-API-Key": api_key},
        timeout=timeout,
        raise_for_status=True,  # BUG: a 5xx or a 429 raises ClientResponseError, never retried
    ) as session:
        while loop.time() < deadline:
            try:
                async with session.get(f"{base_url}/api/reports/{report_id}") as response:
                    body = json.loads(await response.text())
                    done = _finished(report_id, body["data"])
                    if done is not None:
                        return done
            except (aiohttp.ClientConnectionError, TimeoutError, ValueError, KeyError, TypeError):
                pass
            await asyncio.sleep(POLL_INTERVAL_SECONDS)
    raise TimeoutError(f"report {report_id} unfinished after 10 minutes")
