"""Polling clients with one planted bug each, for proving that the contract kit catches it.

Each is a small variation of a reference client (:mod:`clients_under_test.fixed_interval` or
:mod:`clients_under_test.exponential_backoff`), named after its defect, with a one-line
docstring saying what is wrong; the changed line is marked ``# planted:``.
:data:`EXPECTED_RULE` names the contract rule each one must be caught breaking.
"""

from __future__ import annotations

import time
from typing import Any

from clients_under_test.api import api

__all__ = [
    "EXPECTED_RULE",
    "backs_off_without_a_cap",
    "crashes_on_missing_message",
    "crashes_on_null_progress",
    "failure_error_without_message",
    "gives_up_after_two_minutes",
    "ignores_failed_status",
    "loops_on_not_found",
    "never_gives_up",
    "polls_every_ninety_seconds",
    "polls_without_sleeping",
    "returns_on_processing",
    "returns_without_output",
    "swallows_everything_and_retries",
    "treats_cancelled_as_pending",
]


def _get(report_id: str, base_url: str, api_key: str) -> Any:
    return api("GET", f"/api/reports/{report_id}", base_url=base_url, api_key=api_key)["data"]


def _failure(data: dict[str, Any]) -> Exception:
    message = (data.get("progress") or {}).get("message", "")
    return Exception(f"Report {data['status']}: {message}")


# --- variations of the exponential-backoff client ---------------------------------------


def returns_on_processing(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Treats "processing" as done and returns the unfinished report."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] in ("processing", "completed"):  # planted: processing is not done
            return data
        if data["status"] in ("failed", "cancelled"):
            raise _failure(data)
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise Exception("Timed out waiting for report")


def ignores_failed_status(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Raises on cancelled only, so a failed report is polled again as if still running."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data
        if data["status"] == "cancelled":  # planted: "failed" forgotten
            raise _failure(data)
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise Exception("Timed out waiting for report")


def treats_cancelled_as_pending(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Raises on failed only, so a cancelled report is polled again as if still pending."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data
        if data["status"] == "failed":  # planted: "cancelled" forgotten
            raise _failure(data)
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise Exception("Timed out waiting for report")


def never_gives_up(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Has no deadline: polls a report that never finishes for ever."""
    interval = 3.0
    while True:  # planted: no deadline
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise _failure(data)
        time.sleep(interval)
        interval = min(interval * 1.5, 15)


def backs_off_without_a_cap(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Multiplies the interval by 1.5 without the 15 s cap, so waits grow past a minute."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise _failure(data)
        time.sleep(interval)
        interval *= 1.5  # planted: no max_interval
    raise Exception("Timed out waiting for report")


def loops_on_not_found(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Treats ``data: null`` as "not created yet" and keeps polling an unknown id."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data is not None:  # planted: null data means not found, not "not yet"
            if data["status"] == "completed":
                return data
            if data["status"] in ("failed", "cancelled"):
                raise _failure(data)
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise Exception("Timed out waiting for report")


def failure_error_without_message(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Raises a generic error on failed that leaves out progress.message."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise Exception(f"Report {data['status']}")  # planted: no progress.message
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise Exception("Timed out waiting for report")


def returns_without_output(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Returns the status string instead of the completed report's data object."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data["status"]  # planted: the caller needs data["output"]
        if data["status"] in ("failed", "cancelled"):
            raise _failure(data)
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise Exception("Timed out waiting for report")


def swallows_everything_and_retries(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Retries on any exception, its own failure error included, without sleeping."""
    deadline = time.time() + 600
    interval = 3.0
    while time.time() < deadline:
        try:
            data = _get(report_id, base_url, api_key)
            if data["status"] == "completed":
                return data
            if data["status"] in ("failed", "cancelled"):
                raise _failure(data)
        except Exception:  # planted: "retry on any hiccup" swallows the terminal error too
            continue
        time.sleep(interval)
        interval = min(interval * 1.5, 15)
    raise Exception("Timed out waiting for report")


# --- variations of the fixed-interval client --------------------------------------------


def crashes_on_null_progress(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Reads ``data["progress"]["message"]`` on every poll, though progress may be null."""
    deadline = time.time() + 600
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        status = data["status"]
        message = data["progress"]["message"]  # planted: progress may be null
        print(f" [{status}] {message}")
        if status == "completed":
            return data
        if status in ("failed", "cancelled"):
            raise Exception(f"Report {status}: {message}")
        time.sleep(5)
    raise Exception("Timed out waiting for report")


def crashes_on_missing_message(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Handles null progress but reads ``progress["message"]``, which a partial one lacks."""
    deadline = time.time() + 600
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        status = data["status"]
        progress = data.get("progress")
        message = "" if progress is None else progress["message"]  # planted: may be absent
        print(f" [{status}] {message}")
        if status == "completed":
            return data
        if status in ("failed", "cancelled"):
            raise Exception(f"Report {status}: {message}")
        time.sleep(5)
    raise Exception("Timed out waiting for report")


def polls_without_sleeping(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Lost its ``time.sleep``: polls again as soon as each answer arrives."""
    deadline = time.time() + 600
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise _failure(data)
        # planted: no time.sleep(interval)
    raise Exception("Timed out waiting for report")


def gives_up_after_two_minutes(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Gives up after 120 s, the demo-data timeout, on reports documented to take 5-10 minutes."""
    deadline = time.time() + 120  # planted: 120 s is for use_demo_data only
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise _failure(data)
        time.sleep(5)
    raise Exception("Timed out waiting for report")


def polls_every_ninety_seconds(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Polls every 90 s instead of every 5 s, so it sees terminal statuses late."""
    deadline = time.time() + 600
    while time.time() < deadline:
        data = _get(report_id, base_url, api_key)
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise _failure(data)
        time.sleep(90)  # planted: the guide says 5
    raise Exception("Timed out waiting for report")


#: Each planted client -> the contract rule (``contract_tests.RULES``) it must be caught breaking.
EXPECTED_RULE: dict[str, str] = {
    "returns_on_processing": "returns_only_completed_reports",
    "returns_without_output": "returns_only_completed_reports",
    "ignores_failed_status": "raises_on_failed_or_cancelled",
    "treats_cancelled_as_pending": "raises_on_failed_or_cancelled",
    "failure_error_without_message": "raises_on_failed_or_cancelled",
    "swallows_everything_and_retries": "raises_on_failed_or_cancelled",
    "loops_on_not_found": "raises_on_not_found",
    "gives_up_after_two_minutes": "waits_for_documented_timeout",
    "never_gives_up": "gives_up_within_an_hour",
    "polls_without_sleeping": "polls_at_a_steady_pace",
    "polls_every_ninety_seconds": "polls_at_a_steady_pace",
    "backs_off_without_a_cap": "polls_at_a_steady_pace",
    "crashes_on_null_progress": "tolerates_documented_shapes",
    "crashes_on_missing_message": "tolerates_documented_shapes",
}
