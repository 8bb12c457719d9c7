"""The polling guide's "Production Polling: Exponential Backoff" client, adapted to the kit.

Faithful to the guide: starts at 3 s, multiplies the interval by 1.5 up to 15 s, gives up
after 600 s, raises on failed or cancelled with ``progress.message``. The only changes are
the keyword-only ``base_url`` and ``api_key`` that reach the guide's ``api`` helper. Like the
guide's code it reads ``data["status"]`` without checking for ``data: null``, so an unknown id
raises ``TypeError``.
"""

from __future__ import annotations

import time
from typing import Any

from clients_under_test.api import api

__all__ = ["wait_for_report"]


def wait_for_report(
    report_id: str, *, base_url: str, api_key: str, timeout: float = 600
) -> dict[str, Any]:
    """Poll with exponential backoff until completed; raise on failed, cancelled or timeout."""
    deadline = time.time() + timeout
    interval: float = 3  # start at 3 seconds
    max_interval = 15  # cap at 15 seconds

    while time.time() < deadline:
        data: dict[str, Any] = api(
            "GET", f"/api/reports/{report_id}", base_url=base_url, api_key=api_key
        )["data"]
        status = data["status"]

        if status == "completed":
            return data
        if status in ("failed", "cancelled"):
            msg = (data.get("progress") or {}).get("message", "")
            raise Exception(f"Report {status}: {msg}")

        time.sleep(interval)
        interval = min(interval * 1.5, max_interval)

    raise Exception("Timed out waiting for report")
