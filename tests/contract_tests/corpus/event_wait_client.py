"""A stdlib-only poller object that sleeps with ``threading.Event().wait(5)``.

A common shape for a poller that another thread may cancel: ``self._cancelled.wait(5)``
sleeps 5 s, or returns early when ``cancel()`` sets the event. It uses ``urllib.request`` (no
third-party HTTP library) and a ``time.monotonic`` deadline of 10 minutes. A 5xx, a dropped
connection or a garbled body is retried after 5 s, a 429 after ``Retry-After`` if longer.

``wait_for_report_refetching_when_done`` has one bug: once it sees ``completed`` it GETs the
report once more "to get download URLs that are fresh for the full hour", a request after the
terminal status. Caught under ``stops_after_terminal_status``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

__all__ = ["ReportPoller", "wait_for_report", "wait_for_report_refetching_when_done"]


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


class PollingCancelled(Exception):
    """``cancel()`` was called while waiting."""


class _Transient(Exception):
    def __init__(self, pause: float) -> None:
        super().__init__(f"transient failure, next poll in {pause:g}s")
        self.pause = pause


class ReportPoller:
    """Polls reports of one API; ``cancel()`` from another thread stops a wait early."""

    def __init__(self, base_url: str, api_key: str, *, interval: float = 5, timeout: float = 600):
        self.base_url = base_url
        self.api_key = api_key
        self.interval = interval
        self.timeout = timeout
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def fetch(self, report_id: str) -> dict[str, Any] | None:
        """One GET: the report's data, None when unknown; ``_Transient`` when worth a retry."""
        request = urllib.request.Request(
            f"{self.base_url}/api/reports/{report_id}", headers={"X-API-Key": self.api_key}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 429:
                retry_after = error.headers.get("Retry-After", "")
                pause = float(retry_after) if retry_after.isdigit() else 0.0
                raise _Transient(max(pause, self.interval)) from error
            if error.code >= 500:
                raise _Transient(self.interval) from error
            raise
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            raise _Transient(self.interval) from error  # dropped, reset or cut off
        try:
            data: dict[str, Any] | None = json.loads(body)["data"]
        except (ValueError, KeyError, TypeError) as error:
            raise _Transient(self.interval) from error
        return data

    def wait(self, report_id: str, *, refetch_when_done: bool = False) -> dict[str, Any]:
        """The completed report's data; raises on failed, cancelled, not found or timeout."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                data = self.fetch(report_id)
            except _Transient as transient:
                pause = transient.pause
            else:
                if data is None:
                    raise ReportNotFound(f"report {report_id} not found")
                if data["status"] == "completed":
                    if refetch_when_done:  # BUG: one more GET after the terminal status
                        data = self.fetch(report_id) or data
                    return data
                if data["status"] in ("failed", "cancelled"):
                    message = (data.get("progress") or {}).get("message") or "no details"
                    raise ReportFailed(f"Report {data['status']}: {message}")
                pause = self.interval
            if self._cancelled.wait(pause):
                raise PollingCancelled(f"stopped waiting for report {report_id}")
        raise TimeoutError(f"report {report_id} unfinished after {self.timeout:g}s")


def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    return ReportPoller(base_url, api_key).wait(report_id)


def wait_for_report_refetching_when_done(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, plus one GET after completed (the planted bug)."""
    return ReportPoller(base_url, api_key).wait(report_id, refetch_when_done=True)
