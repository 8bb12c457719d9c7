"""Clients that pass the documented profile but not ``--strict``: one fault intolerance each.

Each is :mod:`clients_under_test.resilient_backoff` with one realistic shortcut, named after
the defect; the changed line is marked ``# planted:``. :data:`EXPECTED_RULE` names the rule
``check --strict`` must catch each one breaking.
"""

from __future__ import annotations

import time
from typing import Any

import requests

__all__ = [
    "EXPECTED_RULE",
    "aborts_on_first_server_error",
    "crashes_on_unreadable_body",
    "gives_up_on_dropped_connection",
    "ignores_retry_after",
]


def _get(report_id: str, base_url: str, api_key: str) -> requests.Response:
    return requests.get(
        f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=30
    )


def _verdict(data: Any) -> dict[str, Any] | None:
    if data is None:
        raise LookupError("not found")
    if data["status"] == "completed":
        return dict(data)
    if data["status"] in ("failed", "cancelled"):
        raise Exception(
            f"Report {data['status']}: {(data.get('progress') or {}).get('message', '')}"
        )
    return None


def aborts_on_first_server_error(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """Raises on the first 5xx or 429 instead of retrying."""
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            response = _get(report_id, base_url, api_key)
        except requests.RequestException:
            time.sleep(5)
            continue
        response.raise_for_status()  # planted: a transient 503 ends the wait
        try:
            found = _verdict(response.json()["data"])
        except (ValueError, KeyError):
            time.sleep(5)
            continue
        if found is not None:
            return found
        time.sleep(5)
    raise TimeoutError("gave up")


def gives_up_on_dropped_connection(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Lets a dropped connection escape as an error."""
    deadline = time.time() + 600
    while time.time() < deadline:
        response = _get(report_id, base_url, api_key)  # planted: ConnectionError is not caught
        if response.status_code >= 500 or response.status_code == 429:
            time.sleep(max(float(response.headers.get("Retry-After", "5")), 5))
            continue
        try:
            found = _verdict(response.json()["data"])
        except (ValueError, KeyError):
            time.sleep(5)
            continue
        if found is not None:
            return found
        time.sleep(5)
    raise TimeoutError("gave up")


def crashes_on_unreadable_body(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """Decodes every 200 as the JSON envelope, so a truncated or HTML body raises."""
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            response = _get(report_id, base_url, api_key)
        except requests.RequestException:
            time.sleep(5)
            continue
        if response.status_code >= 500 or response.status_code == 429:
            time.sleep(max(float(response.headers.get("Retry-After", "5")), 5))
            continue
        found = _verdict(response.json()["data"])  # planted: no guard on a garbled body
        if found is not None:
            return found
        time.sleep(5)
    raise TimeoutError("gave up")


def ignores_retry_after(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """Retries a 429 after its usual 3 s, whatever Retry-After says."""
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            response = _get(report_id, base_url, api_key)
        except requests.RequestException:
            time.sleep(3)
            continue
        if response.status_code >= 500 or response.status_code == 429:
            time.sleep(3)  # planted: Retry-After is not read
            continue
        try:
            found = _verdict(response.json()["data"])
        except (ValueError, KeyError):
            time.sleep(3)
            continue
        if found is not None:
            return found
        time.sleep(3)
    raise TimeoutError("gave up")


EXPECTED_RULE: dict[str, str] = {
    "aborts_on_first_server_error": "survives_transient_faults",
    "gives_up_on_dropped_connection": "survives_transient_faults",
    "crashes_on_unreadable_body": "survives_transient_faults",
    "ignores_retry_after": "honours_retry_after",
}
