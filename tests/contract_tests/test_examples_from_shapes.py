"""Scenario files play everything they record: an output without ``report``, unknown output
fields (in the recorded order), and a document whose download answered 404.

Each planted client passes the kit's own examples and breaks only on what the file records;
on a kit that scripted its own output instead (no replay of the recorded shape, no 404),
every test here fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from recorded_lifecycle_clients import (
    rejects_unknown_output_fields,
    requires_output_report,
    saves_whatever_the_url_answers,
)

from clients_under_test.exponential_backoff import wait_for_report
from clients_under_test.workflow import run_workflow
from contract_tests import check_client, check_consumer, check_workflow
from contract_tests.checks import WORKFLOW_RULES
from contract_tests.harness import MockBackend
from contract_tests.scenario_examples import scenario_lifecycles, scenario_workflow_plans
from contract_tests.workflow_harness import WorkflowBackend

REFERENCE_SCRIPT = f"bash {Path(__file__).parents[2] / 'clients_under_test' / 'workflow.sh'}"

TIMELINE: list[dict[str, Any]] = [
    {"after_seconds": 0, "status": "pending", "progress": {"message": "Starting analysis..."}},
    {"after_seconds": 120, "status": "completed", "progress": None},
]
#: (a) and (b): the real API left ``report`` out and added two fields, between the URLs.
NO_REPORT_EXTRA_FIELDS: dict[str, Any] = {
    "scenario_format": 1,
    "name": "prod_output_shape",
    "timeline": TIMELINE,
    "outcome": {
        "status": "completed",
        "output": {
            "fields": ["pdf_url", "expires_in", "docx_url", "storage_region"],
            "extra_fields": {"expires_in": 3600, "storage_region": "eu-west-1"},
        },
    },
}
REPORT = {
    "schema_version": "1.0",
    "sections": [{"id": "sec_header", "type": "header", "title": "Header", "markdown": "**C**"}],
}
#: (c): the DOCX download answered 404.
MISSING_DOCX: dict[str, Any] = {
    "scenario_format": 1,
    "name": "prod_missing_docx",
    "timeline": TIMELINE,
    "outcome": {
        "status": "completed",
        "output": {
            "fields": ["pdf_url", "docx_url", "report"],
            "report": REPORT,
            "documents": {"pdf": "available", "docx": "missing"},
        },
    },
}


def _write(directory: Path, *documents: dict[str, Any]) -> Path:
    for document in documents:
        (directory / f"{document['name']}.json").write_text(json.dumps(document))
    return directory


def _local(url: str) -> str:
    """The path and query of a signed URL, for the app's test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_poll_answers_the_recorded_output_exactly(tmp_path: Path) -> None:
    path = _write(tmp_path, NO_REPORT_EXTRA_FIELDS)
    (lifecycle,) = scenario_lifecycles(path)
    backend = MockBackend(scenario_files=[path])
    try:
        run = backend.run_python(wait_for_report, lifecycle, "case_shape")
    finally:
        backend.close()
    assert run.did_return, run.describe_requests()
    output = run.returned["output"]
    assert list(output) == ["pdf_url", "expires_in", "docx_url", "storage_region"]
    assert output["expires_in"] == 3600 and output["storage_region"] == "eu-west-1"
    assert "fields as recorded" in lifecycle.describe()


@pytest.mark.parametrize(
    "planted", [requires_output_report, rejects_unknown_output_fields], ids=lambda f: f.__name__
)
def test_a_client_that_breaks_on_the_recorded_output_is_caught(
    tmp_path: Path, planted: Any
) -> None:
    path = _write(tmp_path, NO_REPORT_EXTRA_FIELDS)
    assert check_client(planted, examples=0).passed  # the kit's own examples miss it
    result = check_client(planted, examples=0, examples_from=path)
    assert result.broken_rules == ["returns_only_completed_reports"]
    (violation,) = result.violations
    assert "scenario file: prod_output_shape" in violation.lifecycle_text
    error = "KeyError" if planted is requires_output_report else "TypeError"
    assert error in violation.received


def test_the_reference_client_passes_every_recorded_shape(tmp_path: Path) -> None:
    path = _write(tmp_path, NO_REPORT_EXTRA_FIELDS, MISSING_DOCX)
    result = check_client(wait_for_report, examples=0, examples_from=path)
    assert result.passed, result.violations
    assert result.coverage["path: scenario file: prod_output_shape"] == 1
    assert result.coverage["path: scenario file: prod_missing_docx"] == 1
    assert result.coverage["report: absent"] == 1
    assert result.coverage["output: unknown extra fields"] == 1
    assert result.coverage["documents: a 404 as recorded"] == 1


def test_a_consumer_gets_the_output_as_recorded(tmp_path: Path) -> None:
    path = _write(tmp_path, NO_REPORT_EXTRA_FIELDS)

    def sections(data: Any) -> int:  # assumes output.report is always there (bug)
        return len((data["output"]["report"] or {}).get("sections", []))

    assert check_consumer(sections, examples=0).passed
    result = check_consumer(sections, examples=0, examples_from=path)
    assert result.broken_rules == ["consumer_accepts_every_valid_report"]


def test_a_document_recorded_missing_answers_404_in_the_envelope(tmp_path: Path) -> None:
    path = _write(tmp_path, MISSING_DOCX)
    (lifecycle,) = scenario_lifecycles(path)
    backend = MockBackend(scenario_files=[path])
    try:
        run = backend.run_python(wait_for_report, lifecycle, "case_docs")
        output = run.returned["output"]
        client = backend.app.test_client()
        pdf, docx = (client.get(_local(output[f"{d}_url"])) for d in ("pdf", "docx"))
    finally:
        backend.close()
    assert output["report"] == REPORT
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert docx.status_code == 404
    body = docx.get_json()
    assert body["success"] is False and "prod_missing_docx" in body["error"]
    assert "DOCX download answers 404, as recorded" in lifecycle.describe()


def test_the_reference_workflow_reports_the_missing_document(tmp_path: Path) -> None:
    path = _write(tmp_path, MISSING_DOCX)
    result = check_workflow(run_workflow, examples=0, examples_from=path)
    assert result.passed, result.violations
    assert result.coverage["path: scenario file: prod_missing_docx"] == 1
    assert result.coverage["download: a document answers 404, as recorded"] == 1


def test_a_workflow_that_saves_the_404_as_a_document_is_caught(tmp_path: Path) -> None:
    path = _write(tmp_path, MISSING_DOCX)
    assert check_workflow(
        saves_whatever_the_url_answers, examples=0, rules=["downloads_both_documents"]
    ).passed  # every document of the kit's own plans downloads
    result = check_workflow(
        saves_whatever_the_url_answers,
        examples=0,
        examples_from=path,
        rules=["downloads_both_documents"],
    )
    assert result.broken_rules == ["downloads_both_documents"]
    (violation,) = result.violations
    assert "answered 404 (as recorded)" in violation.received
    assert ".docx" in violation.received
    assert "scenario file: prod_missing_docx" in violation.lifecycle_text


def test_the_bash_workflow_exits_1_on_the_recorded_404_and_saves_only_the_pdf(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, NO_REPORT_EXTRA_FIELDS, MISSING_DOCX)
    plans = {plan.path: plan for plan in scenario_workflow_plans(path)}
    assert plans["scenario file: prod_output_shape"].missing_documents == frozenset()
    plan = plans["scenario file: prod_missing_docx"]
    backend = WorkflowBackend(scenario_files=[path])
    try:
        run = backend.run_workflow_command(REFERENCE_SCRIPT, plan, "case_wf_beta")
    finally:
        backend.close()
    assert not run.did_return and "could not download" in str(run.raised)
    assert [f.name.rsplit(".", 1)[1] for f in run.saved] == ["pdf"]
    assert [d.status for d in run.of_kind("download") if d.document == "docx"] == [404] * 5
    assert WORKFLOW_RULES["downloads_both_documents"].check(run) is None


def test_a_workflow_that_skips_the_404_and_finishes_is_caught(tmp_path: Path) -> None:
    def skips_missing(case_id: str, *, base_url: str, api_key: str, output_dir: str) -> int:
        """Saves what answered 200, says nothing of the rest (planted bug)."""
        saves_whatever_the_url_answers(
            case_id, base_url=base_url, api_key=api_key, output_dir=output_dir
        )
        for saved in Path(output_dir).iterdir():
            if saved.read_bytes().startswith(b"{"):
                saved.unlink()  # the 404's envelope: not a document, so not kept
        return 0

    path = _write(tmp_path, MISSING_DOCX)
    (plan,) = scenario_workflow_plans(path)
    backend = WorkflowBackend(scenario_files=[path])
    try:
        run = backend.run_workflow(skips_missing, plan, "case_wf_beta")
    finally:
        backend.close()
    finding = WORKFLOW_RULES["downloads_both_documents"].check(run)
    assert finding is not None, run.describe_requests()
    assert "as if its documents were saved" in finding.received
    assert "DOCX could not be downloaded" in finding.expected
