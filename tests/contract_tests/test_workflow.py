"""check_workflow: the reference workflow passes; each planted workflow is caught under its rule."""

from __future__ import annotations

from typing import Any

import pytest

from clients_under_test import planted_workflows
from clients_under_test.workflow import run_workflow
from contract_tests import WORKFLOW_RULES, UsageError, check_workflow
from contract_tests.reporting import render_result
from contract_tests.workflow_model import WorkflowPlan
from contract_tests.workflow_strategies import explicit_workflow_plans


def test_the_reference_workflow_holds_every_rule_and_covers_every_path() -> None:
    result = check_workflow(run_workflow, examples=2)
    assert result.passed, render_result(result)
    for plan in explicit_workflow_plans():
        assert result.coverage[f"path: {plan.path}"] >= 1
    assert result.coverage["download: held up in flight, URLs expire"] >= 1
    assert result.coverage["download: held up between documents, URLs expire"] >= 1
    assert result.coverage["ran: a download answered 403, URLs fetched again"] >= 1
    assert result.coverage["ran: 2 retries with a new report"] >= 1
    assert "Coverage (examples per plan path" in render_result(result)


def test_the_reference_workflow_survives_download_faults_under_strict() -> None:
    result = check_workflow(run_workflow, examples=0, strict=True)
    assert result.passed, render_result(result)
    assert "downloads_survive_transient_faults" in [r.name for r in result.rules]
    for fault in ("503", "500", "502", "drop", "truncate"):
        assert result.coverage[f"download fault: {fault}"] == 1


@pytest.mark.parametrize("name", sorted(planted_workflows.EXPECTED_RULE))
def test_each_planted_workflow_is_caught_under_its_rule(name: str) -> None:
    expected = planted_workflows.EXPECTED_RULE[name]
    result = check_workflow(getattr(planted_workflows, name), examples=0)
    assert expected in result.broken_rules, render_result(result)
    violation = next(v for v in result.violations if v.rule == expected)
    assert violation.requests_text and violation.lifecycle_text
    assert WORKFLOW_RULES[expected].source in render_result(result)


def test_a_workflow_that_gives_up_on_download_faults_is_caught_under_strict() -> None:
    workflow = planted_workflows.gives_up_on_a_403  # it raises on any answer but a whole 200
    result = check_workflow(
        workflow, examples=0, strict=True, rules=["downloads_survive_transient_faults"]
    )
    assert result.broken_rules == ["downloads_survive_transient_faults"], render_result(result)


def test_every_workflow_rule_is_named_and_cites_its_source() -> None:
    assert {
        "does_not_retry_image_quality_failure",
        "retries_timeout_with_new_report",
        "waits_before_retrying_internal_error",
        "no_retry_storm",
        "does_not_repoll_a_failed_report",
        "downloads_both_documents",
        "never_uses_expired_url",
        "refetches_urls_after_403",
        "downloads_survive_transient_faults",
    } <= set(WORKFLOW_RULES)
    for rule in WORKFLOW_RULES.values():
        assert rule.applies_to == "workflow" and rule.source and rule.title
    assert WORKFLOW_RULES["downloads_survive_transient_faults"].profile == "strict"


def _no_op(case_id: str, **_: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("workflow", "examples", "message"),
    [
        (_no_op, -1, "examples=-1"),
        (42, 0, "is not a function"),
        (WorkflowPlan, 0, "is not a function"),
    ],
)
def test_a_bad_workflow_or_budget_is_a_usage_error(
    workflow: Any, examples: int, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        check_workflow(workflow, examples=examples)


def test_a_workflow_that_does_nothing_is_caught() -> None:
    result = check_workflow(_no_op, examples=0)
    assert result.broken_rules == ["creates_a_report_for_the_case"], render_result(result)


def test_unknown_rules_are_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match="never_uses_expired_url"):
        check_workflow(run_workflow, examples=0, rules=["no_such_rule"])


def test_a_plan_must_end_after_its_retryable_failures() -> None:
    with pytest.raises(ValueError, match="only retryable failures"):
        WorkflowPlan(("image_quality", "completed"))
    with pytest.raises(ValueError, match="at least one outcome"):
        WorkflowPlan(())


def test_the_pytest_plugin_fails_a_workflow_naming_the_rule(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_workflow_plugin="""
        import pytest

        def does_nothing(case_id, *, base_url, api_key, output_dir):
            return None

        @pytest.mark.contract_examples(0)
        def test_does_nothing(contract_kit):
            contract_kit.check_workflow(does_nothing)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*BROKEN  creates_a_report_for_the_case*"])
