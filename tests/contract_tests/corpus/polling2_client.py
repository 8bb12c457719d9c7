"""A polling client built on ``polling2.poll``, the way its README polls an API.

``polling2.poll`` calls ``_fetch`` every 5 s for up to 10 minutes until ``check_success`` holds,
ignoring ``TransientFailure`` (a 5xx, a 429, a dropped connection, a garbled body). polling2
has no per-answer wait, so after a 429 ``_fetch`` itself sleeps whatever ``Retry-After`` asks
beyond polling2's own 5 s step. ``data: null`` counts as finished, so the caller raises at once.

``wait_for_report_treating_null_as_pending`` has one bug: its success check only looks at the
status, so ``data: null`` (an unknown id) keeps polling for the whole 10 minutes instead of
raising at once. Caught under ``raises_on_not_found``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import polling2
import requests

__all__ = ["wait_for_report", "wait_for_report_treating_null_as_pending"]

STEP_SECONDS = 5
TIMEOUT_SECONDS = 600
_FINISHED = ("completed", "failed", "cancelled")


class ReportFailed(Exception):
    """The report ended failed or cancelled."""


class ReportNotFound(LookupError):
    """The API answered ``data: null``."""


class TransientFailure(Exception):
    """A failure worth another poll."""


def _fetch(session: requests.Session, url: str) -> dict[str, Any] | None:
    """The report's data (None when the API says it does not exist)."""
    try:
        response = session.get(url, timeout=30)
    except requests.RequestException as error:
        raise TransientFailure(str(error)) from error
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit() and int(retry_after) > STEP_SECONDS:
            time.sleep(int(retry_after) - STEP_SECONDS)  # polling2 sleeps the other 5 s
        raise TransientFailure("HTTP 429")
    if response.status_code >= 500:
        raise TransientFailure(f"HTTP {response.status_code}")
    response.raise_for_status()
    try:
        body = response.json()
        data: dict[str, Any] | None = body["data"]
    except (ValueError, KeyError, TypeError) as error:
        raise TransientFailure(f"unreadable answer: {error}") from error
    return data


def _finished_or_unknown(data: dict[str, Any] | None) -> bool:
    return data is None or data["status"] in _FINISHED


def _finished(data: dict[str, Any] | None) -> bool:
    return data is not None and data["status"] in _FINISHED  # BUG: data None polls on


def _wait(
    report_id: str,
    base_url: str,
    api_key: str,
    check_success: Callable[[dict[str, Any] | None], bool],
) -> dict[str, Any]:
    with requests.Session() as session:
        session.headers["X-API-Key"] = api_key
        try:
            data: dict[str, Any] | None = polling2.poll(
                _fetch,
                args=(session, f"{base_url}/api/reports/{report_id}"),
                step=STEP_SECONDS,
                timeout=TIMEOUT_SECONDS,
                check_success=check_success,
                ignore_exceptions=(TransientFailure,),
            )
        except polling2.TimeoutException as error:
            raise TimeoutError(f"report {report_id} unfinished after 10 minutes") from error
    if data is None:
        raise ReportNotFound(f"report {report_id} not found")
    if data["status"] != "completed":
        message = (data.get("progress") or {}).get("message") or "no details"
        raise ReportFailed(f"Report {data['status']}: {message}")
    return data


def wait_for_report(report_id: str, *, base_url: str, api_key: str) -> dict[str, Any]:
    """The completed report's data; raises on failed, cancelled, not found or after 10 min."""
    return _wait(report_id, base_url, api_key, _finished_or_unknown)


def wait_for_report_treating_null_as_pending(
    report_id: str, *, base_url: str, api_key: str
) -> dict[str, Any]:
    """Like :func:`wait_for_report`, but polls on through ``data: null`` (the planted bug)."""
    return _wait(report_id, base_url, api_key, _finished)
