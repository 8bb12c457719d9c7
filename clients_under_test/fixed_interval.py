"""The polling guide's "Simple Polling: Fixed Interval" client, adapted to the kit's interface.

Faithful to the guide: polls every 5 s, gives up after 600 s, prints each status, raises on
failed or cancelled, and calls ``time.time`` and ``time.sleep`` directly. The only changes
are the keyword-only ``base_url`` and ``api_key`` that reach the guide's ``api`` helper. Like
the guide's code it reads ``data["status"]`` without checking for ``data: null``, so an
unknown id raises ``TypeError`` (it still raises, as the contract asks).
"""

from __future__ import annotations

import time
from typing import Any

from clients_under_test.api import api

__all__ = ["wait_for_report"]


def wait_for_report(
    report_id: str, *, base_url: str, api_key: str, timeout: float = 600, interval: float = 5
) -> dict[str, Any]:
    """Poll every ``interval`` seconds until completed; raise on failed, cancelled or timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        data: dict[str, Any] = api(
            "GET", f"/api/reports/{report_id}", base_url=base_url, api_key=api_key
        )["data"]
        status = data["status"]
        message = (data.get("progress") or {}).get("message", "")
        print(f" [{status}] {message}")

        if status == "completed":
            return data
        if status in ("failed", "cancelled"):
            raise Exception(f"Report {status}: {message}")

        time.sleep(interval)
    raise Exception("Timed out waiting for report")
