"""The documented workflow: create a report, wait for it, retry as "Should You Retry?" says,
then save the PDF and the DOCX.

- A failure is classified by ``progress.message``: an image-quality failure ("Delta-V
  calculation failed...") and a biomechanics failure end the workflow with an error (new
  photos or occupant data first); a timeout is retried at once with a new report for the
  same case; anything else is an internal error, retried with a new report after a minute.
  At most :data:`MAX_ATTEMPTS` reports per call; a failed report is never polled again.
- Polling: every 5 s, up to 15 minutes per report (the guide's 10-15 minutes).
- Downloads: signed URLs expire an hour after the GET that minted them, so URLs older than
  :data:`URL_MAX_AGE_SECONDS` are fetched again before use; a 403 also means "GET again";
  a 5xx, a dropped connection or a truncated body (a PDF without ``%%EOF``, a DOCX that is
  not a readable zip) is retried after a short wait.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import requests

__all__ = [
    "INTERNAL_ERROR_WAIT_SECONDS",
    "MAX_ATTEMPTS",
    "POLL_INTERVAL_SECONDS",
    "URL_MAX_AGE_SECONDS",
    "ReportFailed",
    "ReportsApi",
    "WorkflowError",
    "classify_failure",
    "download_documents",
    "fresh_report",
    "run_workflow",
    "wait_for_report",
    "whole_document",
]

MAX_ATTEMPTS = 3
POLL_INTERVAL_SECONDS = 5
REPORT_DEADLINE_SECONDS = 15 * 60
INTERNAL_ERROR_WAIT_SECONDS = 60
#: Signed URLs live an hour; refresh them with five minutes to spare.
URL_MAX_AGE_SECONDS = 55 * 60
DOWNLOAD_ATTEMPTS = 5
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


def whole_document(document: str, content: bytes) -> bool:
    """Whether ``content`` is a whole PDF (``%PDF`` ... ``%%EOF``) or a readable DOCX zip."""
    if document == "pdf":
        return content.startswith(b"%PDF") and content.rstrip().endswith(b"%%EOF")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


class WorkflowError(RuntimeError):
    """The workflow could not produce the documents."""


class ReportFailed(WorkflowError):
    """A report failed; ``retry`` says what "Should You Retry?" advises for its reason."""

    def __init__(self, report_id: str, message: str, retry: str) -> None:
        super().__init__(f"report {report_id} failed: {message}")
        self.report_id = report_id
        self.message = message
        self.retry = retry


def classify_failure(message: str) -> str:
    """``"never"`` (image quality, biomechanics), ``"now"`` (timeout) or ``"after_a_minute"``."""
    if message.startswith("Delta-V calculation failed") or message.startswith(
        "Biomechanics analysis failed"
    ):
        return "never"
    if message == "Report generation timed out":
        return "now"
    return "after_a_minute"


class ReportsApi:
    """The two API calls a workflow makes, with the key sent on each."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = api_key

    def create(self, case_id: str) -> str:
        """Create a report for ``case_id``; its id."""
        response = self.session.post(
            f"{self.base_url}/api/reports",
            json={"case_id": case_id, "type": "technical_report"},
            timeout=30,
        )
        body = response.json()
        if not body.get("success"):
            raise WorkflowError(f"could not create a report: {body.get('error')}")
        return str(body["data"]["id"])

    def get(self, report_id: str) -> dict[str, Any] | None:
        """The report's data; None on a transient problem (the caller polls again)."""
        try:
            response = self.session.get(f"{self.base_url}/api/reports/{report_id}", timeout=30)
            if response.status_code in TRANSIENT_STATUSES:
                return None
            data = response.json()["data"]
        except (requests.RequestException, ValueError, KeyError, TypeError):
            return None
        if data is None:
            raise WorkflowError(f"report {report_id} not found")
        return dict(data)


def wait_for_report(api: ReportsApi, report_id: str) -> dict[str, Any]:
    """Poll every 5 s until completed (its data) or failed/cancelled (:class:`ReportFailed`)."""
    deadline = time.monotonic() + REPORT_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        data = api.get(report_id)
        if data is not None and data["status"] == "completed":
            return data
        if data is not None and data["status"] in ("failed", "cancelled"):
            message = (data.get("progress") or {}).get("message") or data["status"]
            retry = classify_failure(message) if data["status"] == "failed" else "never"
            raise ReportFailed(report_id, message, retry)
        time.sleep(POLL_INTERVAL_SECONDS)
    raise WorkflowError(f"report {report_id} did not finish in {REPORT_DEADLINE_SECONDS}s")


def fresh_report(api: ReportsApi, report_id: str) -> tuple[dict[str, Any], float]:
    """GET the completed report again: its data with fresh URLs, and when they were minted."""
    for _ in range(DOWNLOAD_ATTEMPTS):
        data = api.get(report_id)
        if data is not None and data["status"] == "completed":
            return data, time.monotonic()
        time.sleep(POLL_INTERVAL_SECONDS)
    raise WorkflowError(f"could not fetch fresh download URLs for {report_id}")


def download_documents(
    api: ReportsApi, report: dict[str, Any], fetched_at: float, output_dir: Path
) -> list[Path]:
    saved = []
    for document in ("pdf", "docx"):
        for _ in range(DOWNLOAD_ATTEMPTS):
            if time.monotonic() - fetched_at > URL_MAX_AGE_SECONDS:
                report, fetched_at = fresh_report(api, report["id"])
            url = report["output"][f"{document}_url"]
            try:
                response = api.session.get(url, timeout=60)
            except requests.RequestException:
                time.sleep(2)
                continue
            if response.status_code == 403:  # expired: new URLs from a new GET
                report, fetched_at = fresh_report(api, report["id"])
                continue
            content = response.content
            if response.status_code == 200 and whole_document(document, content):
                target = output_dir / f"{report['id']}.{document}"
                target.write_bytes(content)
                saved.append(target)
                break
            time.sleep(2)  # a 5xx or a body that is not the document: try again
        else:
            raise WorkflowError(f"could not download the {document} of {report['id']}")
    return saved


def run_workflow(case_id: str, *, base_url: str, api_key: str, output_dir: str) -> list[Path]:
    """Produce the case's report documents in ``output_dir``; the paths saved."""
    api = ReportsApi(base_url, api_key)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report_id = api.create(case_id)
        try:
            report = wait_for_report(api, report_id)
        except ReportFailed as failure:
            if failure.retry == "never" or attempt == MAX_ATTEMPTS:
                raise
            if failure.retry == "after_a_minute":
                time.sleep(INTERNAL_ERROR_WAIT_SECONDS)
            continue
        return download_documents(api, report, time.monotonic(), Path(output_dir))
    raise AssertionError("unreachable: the last attempt returns or raises")
