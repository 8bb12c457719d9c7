"""Tiny clients used by the kit's own tests."""

from __future__ import annotations

import json
import time
import urllib.request
from time import sleep
from typing import Any

import requests


def polite(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Backs off from 3 s to 15 s, gives up after 10 minutes (the guide's production poller)."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
        ).json()["data"]
        if data is None:
            raise LookupError(f"report {report_id} not found")
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise RuntimeError(
                f"Report {data['status']}: {(data.get('progress') or {}).get('message', '')}"
            )
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise TimeoutError("Timed out waiting for report")


def imported_sleep(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Like ``polite`` but with ``from time import sleep`` and urllib instead of requests."""
    started = time.monotonic()
    while time.monotonic() - started < 600:
        request = urllib.request.Request(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.loads(response.read())["data"]
        if data is None:
            raise LookupError("not found")
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise RuntimeError(
                f"Report {data['status']}: {(data.get('progress') or {}).get('message', '')}"
            )
        sleep(5)
    raise TimeoutError("gave up")


def swallows_everything(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Retries on any exception without sleeping: only a BaseException can stop it."""
    while True:
        try:
            data = requests.get(
                f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
            ).json()["data"]
            if data and data["status"] == "completed":
                return data
        except Exception:
            continue


def urllib_never_gives_up(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Polls through urllib every 30 s until completed, for ever."""
    while True:
        request = urllib.request.Request(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.loads(response.read())["data"]
        if data and data["status"] == "completed":
            return data
        sleep(30)


def crashes_on_null_progress(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Reads ``progress["message"]`` on every poll."""
    while True:
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
        ).json()["data"]
        if data is None:
            raise LookupError("not found")
        message = data["progress"]["message"]
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise RuntimeError(message)
        time.sleep(5)


def outline(data: Any) -> list[str]:
    """A consumer that tolerates every shape."""
    report = (data.get("output") or {}).get("report") or {}
    return [section.get("title", "") for section in report.get("sections", [])]


def fourth_section_title(data: Any) -> str:
    """A consumer that assumes a fixed index."""
    return str(data["output"]["report"]["sections"][3]["title"])


def resilient(report_id: str, *, base_url: str, api_key: str) -> Any:
    """``polite``, retrying transient errors and honouring Retry-After."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        try:
            response = requests.get(
                f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
            )
        except (
            requests.RequestException
        ):  # a dropped connection, cut before or after its status line
            time.sleep(interval)
            continue
        if response.status_code == 429 or response.status_code >= 500:
            time.sleep(max(float(response.headers.get("Retry-After", interval)), interval))
            continue
        try:
            data = response.json()["data"]
        except (ValueError, KeyError):
            time.sleep(interval)
            continue
        if data is None:
            raise LookupError(f"report {report_id} not found")
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise RuntimeError(
                f"Report {data['status']}: {(data.get('progress') or {}).get('message', '')}"
            )
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise TimeoutError("Timed out waiting for report")


def with_injected_clock(
    report_id: str,
    *,
    base_url: str,
    api_key: str,
    sleep: Any = time.sleep,
    clock: Any = time.time,
) -> Any:
    """Takes ``sleep`` and ``clock`` callables bound to the real ones as defaults (STYLE.md)."""
    deadline = clock() + 600
    while clock() < deadline:
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
        ).json()["data"]
        if data is None:
            raise LookupError("not found")
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise RuntimeError(
                f"Report {data['status']}: {(data.get('progress') or {}).get('message', '')}"
            )
        sleep(5)
    raise TimeoutError("gave up")


class Poller:
    """A class, not a client function: the kit refuses it."""

    def __init__(self, report_id: str, *, base_url: str, api_key: str) -> None:
        self.report_id = report_id


def poll_generator(report_id: str, *, base_url: str, api_key: str) -> Any:
    """A generator function, not a client function: the kit refuses it."""
    yield report_id
