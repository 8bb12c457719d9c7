"""Workflows with one planted bug each, for proving that the kit's workflow rules catch it.

Each is a small variation of :func:`clients_under_test.workflow.run_workflow`, named after
its defect, with a one-line docstring saying what is wrong; the changed line is marked
``# planted:``. :data:`EXPECTED_RULE` names the workflow rule each one must be caught breaking.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from clients_under_test.workflow import (
    INTERNAL_ERROR_WAIT_SECONDS,
    MAX_ATTEMPTS,
    URL_MAX_AGE_SECONDS,
    ReportFailed,
    ReportsApi,
    WorkflowError,
    download_documents,
    wait_for_report,
    whole_document,
)

__all__ = [
    "EXPECTED_RULE",
    "downloads_with_stale_urls",
    "gives_up_on_a_403",
    "repolls_the_failed_report",
    "retries_image_quality_failure",
    "retries_internal_error_at_once",
]


def retries_image_quality_failure(
    case_id: str, *, base_url: str, api_key: str, output_dir: str
) -> list[Path]:
    """Retries every failure after a minute, an image-quality failure included."""
    api = ReportsApi(base_url, api_key)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report_id = api.create(case_id)
        try:
            report = wait_for_report(api, report_id)
        except ReportFailed:
            if attempt == MAX_ATTEMPTS:
                raise
            time.sleep(INTERNAL_ERROR_WAIT_SECONDS)  # planted: whatever the reason
            continue
        return download_documents(api, report, time.monotonic(), Path(output_dir))
    raise AssertionError("unreachable")


def retries_internal_error_at_once(
    case_id: str, *, base_url: str, api_key: str, output_dir: str
) -> list[Path]:
    """Retries an internal error straight away instead of waiting a minute."""
    api = ReportsApi(base_url, api_key)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report_id = api.create(case_id)
        try:
            report = wait_for_report(api, report_id)
        except ReportFailed as failure:
            if failure.retry == "never" or attempt == MAX_ATTEMPTS:
                raise
            continue  # planted: no wait after an internal error
        return download_documents(api, report, time.monotonic(), Path(output_dir))
    raise AssertionError("unreachable")


def repolls_the_failed_report(
    case_id: str, *, base_url: str, api_key: str, output_dir: str
) -> list[Path]:
    """After a retryable failure, polls the same report again as if it could recover."""
    api = ReportsApi(base_url, api_key)
    report_id = api.create(case_id)
    for _attempt in range(MAX_ATTEMPTS):
        try:
            report = wait_for_report(api, report_id)
        except ReportFailed as failure:
            if failure.retry == "never":
                raise
            time.sleep(INTERNAL_ERROR_WAIT_SECONDS)
            continue  # planted: the same report_id, not a new report
        return download_documents(api, report, time.monotonic(), Path(output_dir))
    raise WorkflowError(f"report {report_id} kept failing")


def _save_each(
    api: ReportsApi, report: dict[str, Any], output_dir: str, *, check_age: bool
) -> list[Path]:
    fetched_at = time.monotonic()
    saved = []
    for document in ("pdf", "docx"):
        if check_age and time.monotonic() - fetched_at > URL_MAX_AGE_SECONDS:
            report = wait_for_report(api, report["id"])
            fetched_at = time.monotonic()
        response = api.session.get(report["output"][f"{document}_url"], timeout=60)
        if response.status_code != 200 or not whole_document(document, response.content):
            raise WorkflowError(f"download of the {document} failed: HTTP {response.status_code}")
        target = Path(output_dir) / f"{report['id']}.{document}"
        target.write_bytes(response.content)
        saved.append(target)
    return saved


def _create_and_wait(api: ReportsApi, case_id: str) -> dict[str, Any]:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return wait_for_report(api, api.create(case_id))
        except ReportFailed as failure:
            if failure.retry == "never" or attempt == MAX_ATTEMPTS:
                raise
            if failure.retry == "after_a_minute":
                time.sleep(INTERNAL_ERROR_WAIT_SECONDS)
    raise AssertionError("unreachable")


def downloads_with_stale_urls(
    case_id: str, *, base_url: str, api_key: str, output_dir: str
) -> list[Path]:
    """Downloads with the URLs it polled, however long ago, and fails on the 403."""
    api = ReportsApi(base_url, api_key)
    report = _create_and_wait(api, case_id)
    return _save_each(api, report, output_dir, check_age=False)  # planted: no age check


def gives_up_on_a_403(case_id: str, *, base_url: str, api_key: str, output_dir: str) -> list[Path]:
    """Refreshes old URLs before use, but treats a 403 on a download as fatal."""
    api = ReportsApi(base_url, api_key)
    report = _create_and_wait(api, case_id)
    return _save_each(api, report, output_dir, check_age=True)  # planted: a 403 raises


EXPECTED_RULE: dict[str, str] = {
    "retries_image_quality_failure": "does_not_retry_image_quality_failure",
    "retries_internal_error_at_once": "waits_before_retrying_internal_error",
    "repolls_the_failed_report": "does_not_repoll_a_failed_report",
    "downloads_with_stale_urls": "never_uses_expired_url",
    "gives_up_on_a_403": "refetches_urls_after_403",
}
