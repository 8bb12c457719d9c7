"""Drive a whole workflow through generated plans with Hypothesis; collect broken rules.

A workflow ``fn(case_id, *, base_url, api_key, output_dir)`` (or a command, in any language)
creates a report, waits for it, retries as the polling guide prescribes and saves the PDF
and the DOCX. Each explicit plan runs first, then Hypothesis generates and shrinks more;
every rule of :data:`~contract_tests.checks.WORKFLOW_RULES` is checked on every run, as
:mod:`contract_tests.runner` does for pollers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from contract_tests import workflow_checks
from contract_tests.checks import Rule
from contract_tests.errors import UsageError
from contract_tests.runner import (
    CheckResult,
    enforce_all,
    search_examples,
    select_rules,
    shrink_the_rest,
    validate_budget,
)
from contract_tests.scenario_examples import (
    ExamplesFrom,
    scenario_file_paths,
    scenario_workflow_plans,
)
from contract_tests.workflow_harness import WorkflowBackend
from contract_tests.workflow_model import WorkflowPlan
from contract_tests.workflow_runs import WorkflowRun
from contract_tests.workflow_strategies import explicit_workflow_plans, workflow_plans

__all__ = [
    "DEFAULT_WORKFLOW_COMMAND_EXAMPLES",
    "DEFAULT_WORKFLOW_EXAMPLES",
    "check_workflow",
    "check_workflow_command",
]

DEFAULT_WORKFLOW_EXAMPLES = 30
DEFAULT_WORKFLOW_COMMAND_EXAMPLES = 5
#: The cases the workflows run on, in turn. Two accident-only cases (the mock's seed decides
#: biomechanics from the case id): each report's documents are rendered anew, and a report
#: with biomechanics charts costs the mock twice as long; the rules do not depend on content.
CASE_IDS = ("case_wf_beta", "case_wf_delta")


def _count(result: CheckResult, run: WorkflowRun) -> None:
    """The coverage table: the planned path, the download path, and what the workflow did."""
    plan = run.plan
    result.coverage[f"path: {plan.path}"] += 1
    download = plan.download_path()
    if download is not None:
        result.coverage[download] += 1
    if plan.download_fault and plan.final == "completed":
        result.coverage[f"download fault: {plan.download_fault}"] += 1
    retries = len(run.report_ids) - 1
    if retries > 0:
        result.coverage[
            f"ran: {retries} retr{'y' if retries == 1 else 'ies'} with a new report"
        ] += 1
    if any(r.status == 403 for r in run.of_kind("download")):
        result.coverage["ran: a download answered 403, URLs fetched again"] += 1
    if run.report_ids and run.completed_seen(run.report_ids[-1]):
        result.coverage["ran: a report completed and was downloaded"] += 1


def _run_plans(
    target: str,
    run_once: Callable[[WorkflowBackend, WorkflowPlan, str], WorkflowRun],
    examples: int,
    seed: int | None,
    rules: list[str] | None,
    strict: bool,
    examples_from: ExamplesFrom,
) -> CheckResult:
    """Run the workflow on the plans, on one :class:`WorkflowBackend` closed afterwards."""
    recorded = scenario_workflow_plans(examples_from)
    backend = WorkflowBackend(scenario_file_paths(examples_from))
    try:
        return _search_plans(
            target,
            lambda plan, case: run_once(backend, plan, case),
            examples,
            seed,
            rules,
            strict,
            recorded,
        )
    finally:
        backend.close()


def _search_plans(
    target: str,
    runner: Callable[[WorkflowPlan, str], WorkflowRun],
    examples: int,
    seed: int | None,
    rules: list[str] | None,
    strict: bool,
    recorded: list[WorkflowPlan],
) -> CheckResult:
    selected = select_rules(rules, workflow_checks.WORKFLOW_RULES, strict=strict)
    result = CheckResult(target=target, rules=selected, strict=strict, example_kind="plan")
    counter = iter(range(10**9))

    def run_with(rules_to_enforce: list[Rule]) -> Callable[[WorkflowPlan], None]:
        def run_one(plan: WorkflowPlan) -> None:
            run = runner(plan, CASE_IDS[next(counter) % len(CASE_IDS)])
            _count(result, run)
            result.virtual_seconds += max(run.ended_at, 0.0)
            enforce_all(rules_to_enforce, run, result.seen)

        return run_one

    strategy = workflow_plans(strict=strict)
    search_examples(
        strategy,
        [*explicit_workflow_plans(strict=strict), *recorded],
        examples,
        seed,
        run_with(result.rules),
        result,
    )
    shrink_the_rest(result, strategy, examples, seed, run_with)
    return result


def _validate_workflow(workflow: object) -> None:
    expected = (
        "pass a function fn(case_id, *, base_url, api_key, output_dir) that creates a report, "
        "waits for it, retries as documented and saves the PDF and the DOCX in output_dir"
    )
    if inspect.iscoroutinefunction(workflow) or inspect.isawaitable(workflow):
        raise UsageError(f"workflow={workflow!r} is asynchronous: {expected} (a plain function)")
    if isinstance(workflow, type) or not callable(workflow):
        raise UsageError(f"workflow={workflow!r} is not a function: {expected}")


def check_workflow(
    workflow: Callable[..., Any],
    *,
    examples: int = DEFAULT_WORKFLOW_EXAMPLES,
    seed: int | None = 0,
    rules: list[str] | None = None,
    strict: bool = False,
    examples_from: ExamplesFrom = None,
) -> CheckResult:
    """Check a Python workflow ``workflow(case_id, *, base_url, api_key, output_dir)``.

    ``strict`` adds transient faults on downloads and ``downloads_survive_transient_faults``.
    ``examples_from`` (scenario files, or directories of them) adds a plan for each completed
    recording: the workflow's report replays it, a document recorded missing answers 404.
    """
    validate_budget(examples, seed)
    _validate_workflow(workflow)
    name = f"{getattr(workflow, '__module__', '?')}:{getattr(workflow, '__qualname__', repr(workflow))}"
    return _run_plans(
        name,
        lambda backend, plan, case: backend.run_workflow(workflow, plan, case),
        examples,
        seed,
        rules,
        strict,
        examples_from,
    )


def check_workflow_command(
    command: str,
    *,
    examples: int = DEFAULT_WORKFLOW_COMMAND_EXAMPLES,
    seed: int | None = 0,
    rules: list[str] | None = None,
    strict: bool = False,
    examples_from: ExamplesFrom = None,
) -> CheckResult:
    """Check a workflow in any language: ``command`` gets ``SW_BASE_URL``, ``SW_API_KEY``,
    ``SW_CASE_ID`` and ``SW_OUTPUT_DIR`` (``{case_id}`` and ``{output_dir}`` in it are
    replaced too) and runs on the kit's discrete-event clock; exit 0 means it finished.
    ``examples_from`` as for :func:`check_workflow`."""
    validate_budget(examples, seed)
    if not isinstance(command, str) or not command.strip():
        raise UsageError(
            f"command={command!r}: pass a command line, e.g. 'bash workflow.sh' (it gets "
            "SW_BASE_URL, SW_API_KEY, SW_CASE_ID and SW_OUTPUT_DIR)"
        )
    return _run_plans(
        command,
        lambda backend, plan, case: backend.run_workflow_command(command, plan, case),
        examples,
        seed,
        rules,
        strict,
        examples_from,
    )
