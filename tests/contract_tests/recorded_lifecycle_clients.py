"""Clients for the scenario-file tests: one written against the documented failure messages
only, which a recorded lifecycle with a new message catches."""

from __future__ import annotations

import time
from typing import Any

import requests

#: The failure messages the documentation shows (the client's author copied them).
KNOWN_FAILURES = (
    "Delta-V calculation failed: insufficient image quality",
    "Biomechanics analysis failed",
    "Report generation timed out",
    "Internal error during report generation",
)


def trusts_known_failures_only(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Raises on the documented failure messages; any other failure "may be transient", so
    it keeps polling the failed report until its deadline (planted bug)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
        ).json()["data"]
        if data is None:
            raise LookupError(f"report {report_id} not found")
        message = (data.get("progress") or {}).get("message", "")
        if data["status"] == "completed":
            return data
        if data["status"] == "cancelled" or (
            data["status"] == "failed" and message in KNOWN_FAILURES
        ):
            raise RuntimeError(f"Report {data['status']}: {message}")
        time.sleep(5)
    raise TimeoutError("Timed out waiting for report")
