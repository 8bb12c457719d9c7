"""An ``async def`` polling client on ``httpx.AsyncClient``, bounded by ``asyncio.timeout``.

A coroutine function: the kit runs it on its own event loop. Polls every 5 s
(``await asyncio.sleep``) inside ``async with asyncio.timeout(600)``; a 5xx, a dropped
connection or a garbled body is retried after the same 5 s, a 429 after ``Retry-After`` if
that is longer.

``wait_for_report_retrying_at_once`` has one bug: after a server error, a dropped connection
or a garbled body it polls again straight away ("just retry"), without sleeping: two polls
within a second. Caught under ``polls_at_a_steady_pace`` (``--strict``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

__all__ = ["wait_for_report", "wait_for_report_retrying_at_once"]

POLL_INTERVAL_SECONDS = 5.0
TIMEOUT_SECONDS = 600.0


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


class _Transient(Exception):
    """Worth another poll; ``retry_after`` is set on a 429."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("transient failure")
        self.retry_after = retry_after

    @property
    def wait_seconds(self) -> float:
        return max(self.retry_after or 0.0, POLL_INTERVAL_SECONDS)


async def _fetch(client: httpx.AsyncClient, report_id: str) -> dict[str, Any] | None:
    """The report's data (None: not found); ``_Transient`` for anything worth a retry."""
    try:
        response = await client.get(f"/api/reports/{report_id}")
    except httpx.TransportError as error:
        raise _Transient() from error
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After", "")
        raise _Transient(float(retry_after) if retry_after.isdigit() else 0.0)
    if response.status_code >= 500:
        raise _Transient()
    response.raise_for_status()
    try:
        data: dict[str, Any] | None = response.json()["data"]
    except (ValueError, KeyError, TypeError) as error:
        raise _Transient() from error
    return data


async def _poll(report_id: str, base_url: str, api_key: str, retry_at_once: bool) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=base_url, headers={"X-API-Key": api_key}, timeout=30.0
    ) as client:
        while True:
            try:
                data = await _fetch(client, report_id)
            except _Transient as transient:
                if retry_at_once and transient.retry_after is None:
                    continue  # BUG: no pause before retrying a 5xx, a drop or a garbled body
                await asyncio.sleep(transient.wait_seconds)
                continue
            if data is None:
                raise ReportNotFound(f"report {report_id} not found")
            if data["status"] == "completed":
                return data
            if data["status"] in ("failed", "cancelled"):
                message = (data.get("progress") or {}).get("message") or "no details"
                raise ReportFailed(f"Report {data['status']}: {message}")
            await asyncio.sleep(POLL_INTERVAL_SECONDS)


async def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    async with asyncio.timeout(TIMEOUT_SECONDS):
        return await _poll(report_id, base_url, api_key, retry_at_once=False)


async def wait_for_report_retrying_at_once(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, but retries a failed poll at once (the planted bug)."""
    async with asyncio.timeout(TIMEOUT_SECONDS):
        return await _poll(report_id, base_url, api_key, retry_at_once=True)
