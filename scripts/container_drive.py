"""What ``make container-test`` asks the running image, from outside it, over the published port.

A client's whole workflow: create a report, poll it until it completes, download the PDF and the
DOCX through their signed URLs and read them back as documents (poppler's ``pdftotext``,
python-docx), then, after a restart on the same volume, find the same report and download it
again.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import requests
from container_commands import ContainerTestError

__all__ = [
    "DrivenReport",
    "check_report_survived",
    "drive_a_report",
    "seconds_to_first_healthz",
    "workers_answering",
]

KEY = {"X-API-Key": "sk-container-test"}
CASE_ID = "case_container_test"
COMPLETED_WITHIN_SECONDS = 60.0  # the happy scenario takes about 3 s of real time at 100x


@dataclass
class DrivenReport:
    """A report driven to completion, with what was seen on the way."""

    report_id: str
    created_at: str
    output: dict[str, Any] = field(default_factory=dict)
    statuses: list[str] = field(default_factory=list)
    polls: int = 0
    titles: list[str] = field(default_factory=list)
    pdf_bytes: int = 0
    docx_bytes: int = 0
    seconds_to_complete: float = 0.0

    def describe(self) -> str:
        return (
            f"report {self.report_id}: {' -> '.join(self.statuses)} in {self.polls} polls, "
            f"{self.seconds_to_complete:.1f} s; PDF {self.pdf_bytes} B and DOCX "
            f"{self.docx_bytes} B each read back with all {len(self.titles)} section titles"
        )


def answer(response: requests.Response, expected_status: int) -> Any:
    """The ``data`` of an enveloped answer (``None`` for an unknown report), or an error naming
    what came back instead."""
    if response.status_code != expected_status:
        raise ContainerTestError(
            f"{response.request.method} {response.url} answered {response.status_code}, "
            f"not {expected_status}: {response.text[:300]}"
        )
    return response.json()["data"]


def collapsed(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def body_titles(report: dict[str, Any]) -> list[str]:
    """The titles of the report's sections after the header (which is the title page)."""
    return [section["title"] for section in report["sections"] if section["type"] != "header"]


def pdf_text(pdf: bytes) -> str:
    if not pdf.startswith(b"%PDF-"):
        raise ContainerTestError(f"the PDF download is not a PDF: {pdf[:40]!r}")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        raise ContainerTestError("pdftotext is missing: `bash scripts/install-system-deps.sh`")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "report.pdf"
        path.write_bytes(pdf)
        read = subprocess.run(
            [pdftotext, str(path), "-"], capture_output=True, text=True, timeout=60, check=True
        )
    return collapsed(read.stdout)


def docx_text(document: bytes) -> str:
    paragraphs = docx.Document(io.BytesIO(document)).paragraphs
    return collapsed("\n".join(paragraph.text for paragraph in paragraphs))


def download_documents(output: dict[str, Any], titles: list[str]) -> tuple[int, int]:
    """Downloads both documents and checks each holds every section title; their sizes."""
    pdf = requests.get(output["pdf_url"], timeout=30)
    document = requests.get(output["docx_url"], timeout=30)
    for name, response in (("PDF", pdf), ("DOCX", document)):
        if response.status_code != 200:
            raise ContainerTestError(f"the {name} download answered {response.status_code}")
    for name, text in (("PDF", pdf_text(pdf.content)), ("DOCX", docx_text(document.content))):
        missing = [title for title in titles if collapsed(title) not in text]
        if missing:
            raise ContainerTestError(f"the {name} lacks the sections {missing}")
    return len(pdf.content), len(document.content)


def drive_a_report(url: str) -> DrivenReport:
    """create -> poll until completed -> download both documents."""
    body = {"case_id": CASE_ID, "type": "technical_report"}
    created = answer(requests.post(f"{url}/api/reports", json=body, headers=KEY, timeout=10), 200)
    driven = DrivenReport(report_id=created["id"], created_at=created["created_at"])
    started = time.monotonic()
    while True:
        polled = answer(requests.get(f"{url}/api/reports/{driven.report_id}", headers=KEY, timeout=10), 200)  # fmt: skip
        driven.polls += 1
        if polled is None:
            raise ContainerTestError(f"the mock does not know {driven.report_id} (data: null)")
        if not driven.statuses or driven.statuses[-1] != polled["status"]:
            driven.statuses.append(polled["status"])
        if polled["status"] == "completed":
            break
        if polled["status"] == "failed" or time.monotonic() - started > COMPLETED_WITHIN_SECONDS:
            raise ContainerTestError(f"the report did not complete: {polled}")
        time.sleep(0.25)
    driven.seconds_to_complete = time.monotonic() - started
    driven.output = polled["output"]
    driven.titles = body_titles(polled["output"]["report"])
    driven.pdf_bytes, driven.docx_bytes = download_documents(polled["output"], driven.titles)
    return driven


def check_report_survived(url: str, driven: DrivenReport) -> None:
    """After a restart: the same report, completed, and its documents download through the
    URLs signed now and through those signed before (the signing secret is in the store)."""
    polled = answer(requests.get(f"{url}/api/reports/{driven.report_id}", headers=KEY, timeout=10), 200)  # fmt: skip
    if polled is None:  # the API's answer for a report it does not know
        raise ContainerTestError(f"after the restart {driven.report_id} is gone (data: null)")
    if polled["status"] != "completed" or polled["created_at"] != driven.created_at:
        raise ContainerTestError(f"after the restart the report is {polled}")
    if body_titles(polled["output"]["report"]) != driven.titles:
        raise ContainerTestError("after the restart the report has other sections")
    download_documents(polled["output"], driven.titles)
    download_documents(driven.output, driven.titles)


def seconds_to_first_healthz(url: str, within: float) -> float:
    """Polls ``/healthz`` every 50 ms from outside; seconds until it first answered 200."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return time.monotonic() - started
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise ContainerTestError(f"/healthz did not answer from outside within {within:.0f} s")


def workers_answering(url: str, wanted: int, attempts: int = 300) -> set[str]:
    """The ``X-Mock-Worker`` pids seen over fresh connections, until ``wanted`` of them are
    (the kernel spreads new connections over the workers' SO_REUSEPORT sockets)."""
    pids: set[str] = set()
    for _ in range(attempts):
        response = requests.get(f"{url}/healthz", headers={"Connection": "close"}, timeout=10)
        pids.add(response.headers.get("X-Mock-Worker", "none"))
        if len(pids) >= wanted:
            break
    return pids
