"""Clients for the scenario-file tests, each with a bug only a recorded lifecycle shows: one
written against the documented failure messages only (a new message catches it), two that
break on a recorded output shape (no ``report``, an unknown output field), and a workflow that
saves whatever a download answered (a document recorded as a 404 catches it)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
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


def _poll_until_done(report_id: str, base_url: str, api_key: str) -> dict[str, Any]:
    """Poll every 5 s for up to 10 minutes: the completed data, or an error."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
        ).json()["data"]
        if data is None:
            raise LookupError(f"report {report_id} not found")
        if data["status"] == "completed":
            return dict(data)
        if data["status"] in ("failed", "cancelled"):
            message = (data.get("progress") or {}).get("message", "")
            raise RuntimeError(f"Report {data['status']}: {message}")
        time.sleep(5)
    raise TimeoutError("Timed out waiting for report")


def requires_output_report(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Reads ``output.report`` as if every completed output had it (planted bug: the
    reference says it may be null, and a real run may leave it out)."""
    data = _poll_until_done(report_id, base_url, api_key)
    sections = data["output"]["report"] or {"sections": []}
    data["section_count"] = len(sections["sections"])
    return data


@dataclass(frozen=True)
class ReportOutput:
    """The output as its author read the documentation: exactly three fields."""

    pdf_url: str
    docx_url: str
    report: Any = None


def rejects_unknown_output_fields(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Parses the output into a closed dataclass: an unknown output field is a TypeError
    (planted bug: clients must tolerate extra fields)."""
    data = _poll_until_done(report_id, base_url, api_key)
    ReportOutput(**data["output"])
    return data


def saves_whatever_the_url_answers(
    case_id: str, *, base_url: str, api_key: str, output_dir: str
) -> list[Path]:
    """Creates a report, waits, and writes each download's body to ``output_dir`` whatever
    its status but 403 (fresh URLs, then again): planted bug, a 404 becomes a "document" and
    the workflow reports success."""
    headers = {"X-API-Key": api_key}
    created = requests.post(
        f"{base_url}/api/reports",
        json={"case_id": case_id, "type": "technical_report"},
        headers=headers,
        timeout=10,
    ).json()["data"]
    data = _poll_until_done(created["id"], base_url, api_key)
    saved = []
    for document in ("pdf", "docx"):
        response = requests.get(data["output"][f"{document}_url"], timeout=30)
        if response.status_code == 403:  # the URL expired: GET the report for fresh ones
            data = _poll_until_done(data["id"], base_url, api_key)
            response = requests.get(data["output"][f"{document}_url"], timeout=30)
        target = Path(output_dir) / f"{data['id']}.{document}"
        target.write_bytes(response.content)
        saved.append(target)
    return saved
