"""Each workflow rule that no planted workflow is expected to break can still fail: small
workflows with one defect each, run on the one plan that shows it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from clients_under_test.workflow import ReportsApi, download_documents, wait_for_report
from contract_tests import WORKFLOW_RULES, RuleViolation
from contract_tests.workflow_harness import WorkflowBackend
from contract_tests.workflow_model import WorkflowPlan


@pytest.fixture(scope="module")
def backend() -> Iterator[WorkflowBackend]:
    served = WorkflowBackend()
    yield served
    served.close()


def broken(backend: WorkflowBackend, workflow: Callable[..., Any], plan: WorkflowPlan) -> list[str]:
    run = backend.run_workflow(workflow, plan, "case_wf_beta")
    names = []
    for rule in WORKFLOW_RULES.values():
        try:
            rule.enforce(run)
        except RuleViolation:
            names.append(rule.name)
    return names


def gives_up_after_a_timeout(case_id: str, *, base_url: str, api_key: str, output_dir: str) -> Any:
    api = ReportsApi(base_url, api_key)
    report = wait_for_report(api, api.create(case_id))  # a ReportFailed ends it, whatever why
    return download_documents(api, report, time.monotonic(), Path(output_dir))


def creates_two_reports_at_once(
    case_id: str, *, base_url: str, api_key: str, output_dir: str
) -> Any:
    api = ReportsApi(base_url, api_key)
    first, _spare = api.create(case_id), api.create(case_id)  # "one of them will work"
    report = wait_for_report(api, first)
    return download_documents(api, report, time.monotonic(), Path(output_dir))


def saves_the_json_instead(case_id: str, *, base_url: str, api_key: str, output_dir: str) -> Any:
    api = ReportsApi(base_url, api_key)
    report = wait_for_report(api, api.create(case_id))
    for document in ("pdf", "docx"):
        time.sleep(5)
        answer = requests.get(
            f"{base_url}/api/reports/{report['id']}", headers={"X-API-Key": api_key}, timeout=30
        )
        (Path(output_dir) / f"report.{document}").write_bytes(answer.content)


def polls_without_sleeping(case_id: str, *, base_url: str, api_key: str, output_dir: str) -> Any:
    api = ReportsApi(base_url, api_key)
    report_id = api.create(case_id)
    while (api.get(report_id) or {}).get("status") != "completed":
        pass


def returns_before_completion(case_id: str, *, base_url: str, api_key: str, output_dir: str) -> Any:
    return ReportsApi(base_url, api_key).create(case_id)


@pytest.mark.parametrize(
    ("workflow", "plan", "rule"),
    [
        (gives_up_after_a_timeout, WorkflowPlan(("timeout", "completed")), "retries_timeout_with_new_report"),
        (gives_up_after_a_timeout, WorkflowPlan(("internal_error", "completed")), "waits_before_retrying_internal_error"),
        (creates_two_reports_at_once, WorkflowPlan(("completed",)), "no_retry_storm"),
        (saves_the_json_instead, WorkflowPlan(("completed",)), "downloads_both_documents"),
        (returns_before_completion, WorkflowPlan(("completed",)), "downloads_both_documents"),
        (polls_without_sleeping, WorkflowPlan(("completed",)), "keeps_a_steady_pace"),
    ],
)  # fmt: skip
def test_each_rule_catches_its_defect(
    backend: WorkflowBackend, workflow: Callable[..., Any], plan: WorkflowPlan, rule: str
) -> None:
    assert rule in broken(backend, workflow, plan)


def test_a_biomechanics_failure_retried_is_caught(backend: WorkflowBackend) -> None:
    from clients_under_test.planted_workflows import retries_image_quality_failure

    found = broken(backend, retries_image_quality_failure, WorkflowPlan(("biomechanics",)))
    assert found == ["does_not_retry_biomechanics_failure"]


def test_the_reference_workflow_saves_exactly_what_was_served(backend: WorkflowBackend) -> None:
    from clients_under_test.workflow import run_workflow

    run = backend.run_workflow(run_workflow, WorkflowPlan(("completed",)), "case_wf_beta")
    report_id = run.report_ids[-1]
    saved = {f.digest for f in run.saved}
    assert saved == run.served_digests(report_id, "pdf") | run.served_digests(report_id, "docx")
    assert sorted(f.head[:4] for f in run.saved) == [b"%PDF", b"PK\x03\x04"]
