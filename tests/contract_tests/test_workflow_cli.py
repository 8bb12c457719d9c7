"""The workflow check on the command line (exit 0, 1, 2) and in its command form."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests import WORKFLOW_RULES, RuleViolation
from contract_tests.workflow_harness import WorkflowBackend
from contract_tests.workflow_model import WorkflowPlan
from contract_tests.workflow_runs import WorkflowRun

CLIENTS = Path(__file__).resolve().parents[2] / "clients_under_test"
REFERENCE_SCRIPT = f"bash {CLIENTS / 'workflow.sh'}"
PLANTED_SCRIPT = f"bash {CLIENTS / 'workflow_retries_image_quality.sh'}"


def kit(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contract_tests", "check", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )


def broken_rules(run: WorkflowRun) -> list[str]:
    broken = []
    for rule in WORKFLOW_RULES.values():
        try:
            rule.enforce(run)
        except RuleViolation:
            broken.append(rule.name)
    return broken


def test_a_passing_workflow_exits_0_with_the_coverage_table() -> None:
    result = kit("--workflow", "clients_under_test.workflow:run_workflow", "--examples", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "path: timeout -> internal error -> completed" in result.stdout
    assert "Result: every rule holds" in result.stdout


def test_a_broken_workflow_exits_1_naming_its_rule_and_plan() -> None:
    result = kit(
        "--workflow",
        "clients_under_test.planted_workflows:gives_up_on_a_403",
        "--examples",
        "0",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count("=== refetches_urls_after_403 ===") == 1
    assert "Minimal reproducing plan:" in result.stdout
    assert "while its first download is in flight" in result.stdout


def test_a_command_that_does_nothing_exits_1() -> None:
    result = kit("--workflow-cmd", "false", "--examples", "0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "=== creates_a_report_for_the_case ===" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--workflow", "clients_under_test.workflow"], "is not MODULE:FUNCTION"),
        (["--workflow", "clients_under_test.workflow:nope"], "Callables there: "),
        (["--workflow-cmd", "  "], "pass a command line"),
        (["--workflow-cmd", "false", "--examples", "-1"], "--examples -1"),
        (["--workflow", "a:b", "--client", "a:b"], "not allowed with argument"),
        (
            ["--workflow", "clients_under_test.workflow:run_workflow", "--examples-from", "nope"],
            "--examples-from: ",
        ),
    ],
)
def test_usage_errors_exit_2_saying_what_to_pass(arguments: list[str], message: str) -> None:
    result = kit(*arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_the_bash_workflow_retries_after_a_minute_and_refetches_expired_urls() -> None:
    backend = WorkflowBackend()
    try:
        plan = WorkflowPlan(("internal_error", "completed"), 3700.0, "in_flight")
        run = backend.run_workflow_command(REFERENCE_SCRIPT, plan, "case_wf_beta")
    finally:
        backend.close()
    assert run.did_return, run.describe_requests()
    assert broken_rules(run) == [], run.describe_requests()
    assert len(run.report_ids) == 2
    assert [d.status for d in run.of_kind("download")].count(403) == 1
    assert sorted(f.name.rsplit(".", 1)[1] for f in run.saved) == ["docx", "pdf"]


def test_the_planted_bash_workflow_is_caught_retrying_an_image_quality_failure() -> None:
    backend = WorkflowBackend()
    try:
        run = backend.run_workflow_command(
            PLANTED_SCRIPT, WorkflowPlan(("image_quality",)), "case_wf_beta"
        )
    finally:
        backend.close()
    assert "does_not_retry_image_quality_failure" in broken_rules(run), run.describe_requests()
    assert len(run.report_ids) == 3  # its three attempts
