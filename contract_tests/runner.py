"""Drive a client through generated lifecycles with Hypothesis; collect broken rules.

Every rule is checked on every run. Each broken rule raises its own :class:`RuleViolation`
subclass, so Hypothesis shrinks each one separately to a minimal lifecycle; a rule that was
only ever broken alongside another gets a focused search of its own, so every broken rule is
reported with its own minimal lifecycle.
"""

from __future__ import annotations

import contextlib
import inspect
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from contract_tests.checks import CONSUMER_RULES, RULES, Rule
from contract_tests.errors import RuleViolation, UsageError, VirtualTimeEscaped
from contract_tests.examples import (
    explicit_consumer_reports,
    explicit_fault_lifecycles,
    explicit_lifecycles,
    report_shape_family,
)
from contract_tests.harness import MockBackend
from contract_tests.model import Lifecycle
from contract_tests.runs import ClientRun, RunRecord
from contract_tests.scenario_examples import (
    ExamplesFrom,
    scenario_consumer_reports,
    scenario_file_paths,
    scenario_lifecycles,
)
from contract_tests.strategies import completed_report_data, lifecycles, strict_lifecycles

__all__ = ["DEFAULT_EXAMPLES", "CheckResult", "check_client", "check_command", "check_consumer"]

DEFAULT_EXAMPLES = 100
DEFAULT_COMMAND_EXAMPLES = 15


@dataclass
class CheckResult:
    """The outcome of one check run."""

    target: str
    rules: list[Rule]
    violations: list[RuleViolation] = field(default_factory=list)
    coverage: Counter[str] = field(default_factory=Counter)
    examples_run: int = 0
    strict: bool = False
    wall_seconds: float = 0.0
    virtual_seconds: float = 0.0
    #: The first violation of each rule seen in any run, shrunk or not.
    seen: dict[str, RuleViolation] = field(default_factory=dict)
    #: Set when a client escaped virtual time; the check stops and raises it.
    escaped: VirtualTimeEscaped | None = None
    #: What each example is, in the printed verdict: a "lifecycle", or a workflow's "plan".
    example_kind: str = "lifecycle"

    @property
    def passed(self) -> bool:
        """Whether every rule held."""
        return not self.violations

    @property
    def broken_rules(self) -> list[str]:
        """Names of the broken rules, in registry order."""
        broken = {violation.rule for violation in self.violations}
        return [r.name for r in self.rules if r.name in broken]


def validate_budget(examples: int, seed: int | None) -> None:
    if not isinstance(examples, int) or isinstance(examples, bool) or examples < 0:
        raise UsageError(f"examples={examples!r}: pass a whole number of examples, 0 or more")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise UsageError(f"seed={seed!r}: pass a whole number or None")


def _collect(error: BaseException, into: list[RuleViolation]) -> None:
    if isinstance(error, RuleViolation):
        if all(v.rule != error.rule for v in into):
            into.append(error)
    elif isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            _collect(inner, into)
    else:
        raise error


def search_examples(
    strategy: st.SearchStrategy[Any],
    explicit: list[Any],
    examples: int,
    seed: int | None,
    run_one: Callable[[Any], None],
    result: CheckResult,
) -> None:
    """Run every explicit example, then let Hypothesis generate and shrink ``examples`` more.

    The explicit ones run outside Hypothesis so that a failure among them does not stop the
    search for other broken rules.
    """
    started = time.perf_counter()

    def property_under_test(value: Any) -> None:
        if result.escaped is not None:
            return  # the check is over: no more runs, nothing for Hypothesis to shrink
        result.examples_run += 1
        try:
            with _seeded_global_random():
                run_one(value)
        except VirtualTimeEscaped as escaped:
            result.escaped = escaped

    try:
        for value in explicit:
            try:
                property_under_test(value)
            except RuleViolation as violation:
                _collect(violation, result.violations)
        # An explicit lifecycle is minimal by construction: every rule it broke is reported
        # with it, not only the first one raised.
        for seen in result.seen.values():
            _collect(seen, result.violations)
        if examples and result.escaped is None:
            _generate(strategy, examples, seed, property_under_test, result)
    finally:
        result.wall_seconds += time.perf_counter() - started
    if result.escaped is not None:
        raise result.escaped


@contextlib.contextmanager
def _seeded_global_random() -> Iterator[None]:
    """The global ``random`` seeded alike for every run, then given back as it was.

    Clients draw jitter from it (backoff's and tenacity's defaults). Hypothesis seeds it for
    the runs it generates, but the explicit examples run outside Hypothesis, where its state
    would depend on whatever ran before in the process, and so would the verdict.
    """
    state = random.getstate()
    random.seed(0)
    try:
        yield
    finally:
        random.setstate(state)


def _generate(
    strategy: st.SearchStrategy[Any],
    examples: int,
    seed: int | None,
    property_under_test: Callable[[Any], None],
    result: CheckResult,
) -> None:
    """Let Hypothesis generate ``examples`` values of ``strategy`` and shrink what fails."""
    test = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=True,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )(given(strategy)(property_under_test))
    if seed is not None:
        test = hypothesis_seed(seed)(test)
    try:
        test()
    except Flaky as error:
        _collect_flaky(error, result)
    except BaseException as error:  # a RuleViolation, or a group of them
        _collect(error, result.violations)


def _collect_flaky(error: Flaky, result: CheckResult) -> None:
    found: list[RuleViolation] = []
    for inner in getattr(error, "exceptions", ()):
        if isinstance(inner, RuleViolation):
            found.append(inner)
    if not found:
        raise error
    for violation in found:
        _collect(violation, result.violations)


def enforce_all(rules: list[Rule], run: RunRecord, seen: dict[str, RuleViolation]) -> None:
    """Check every rule on ``run``; remember each broken one; raise the first.

    Hypothesis shrinks the raised one; a rule broken only alongside an earlier one gets a
    focused search of its own afterwards (:func:`shrink_the_rest`). Each violation carries
    the run's lifecycle (a client's) or plan (a workflow's) and its requests.
    """
    broken: list[RuleViolation] = []
    for rule in rules:
        try:
            rule.enforce(run)
        except RuleViolation as violation:
            violation.lifecycle_text = run.describe_example()
            violation.requests_text = run.describe_requests()
            broken.append(violation)
            seen.setdefault(violation.rule, violation)
    if broken:
        raise broken[0]


def _count(result: CheckResult, lifecycle: Lifecycle) -> None:
    result.coverage[f"path: {lifecycle.path}"] += 1
    for fault in lifecycle.faults:
        result.coverage[f"fault: {fault.kind}"] += 1
    terminal = lifecycle.terminal
    if terminal is not None and terminal.status == "completed":
        fields = lifecycle.output_fields
        if fields is not None and "report" not in fields:
            result.coverage["report: absent"] += 1  # as a scenario file recorded it
        else:
            result.coverage[report_shape_family(lifecycle.report, lifecycle.derive_report)] += 1
        if fields is not None and set(fields) - {"pdf_url", "docx_url", "report"}:
            result.coverage["output: unknown extra fields"] += 1
        if lifecycle.missing_documents:
            result.coverage["documents: a 404 as recorded"] += 1


def select_rules(
    names: list[str] | None, registry: dict[str, Rule], *, strict: bool = False
) -> list[Rule]:
    if names is None:
        return [r for r in registry.values() if strict or r.profile == "documented"]
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise UsageError(f"rules={unknown!r} are unknown. Known rules: {', '.join(registry)}")
    return [registry[name] for name in names]


def _run_lifecycles(
    target: str,
    runner: Callable[[Lifecycle, str], ClientRun],
    examples: int,
    seed: int | None,
    rules: list[str] | None,
    strict: bool,
    recorded: list[Lifecycle] | None = None,
) -> CheckResult:
    result = CheckResult(
        target=target, rules=select_rules(rules, RULES, strict=strict), strict=strict
    )
    counter = iter(range(10**9))

    def run_with(rules_to_enforce: list[Rule]) -> Callable[[Lifecycle], None]:
        def run_one(lifecycle: Lifecycle) -> None:
            _count(result, lifecycle)
            run = runner(lifecycle, f"case_kit_{next(counter)}")
            result.virtual_seconds += max(run.ended_at, 0.0)
            enforce_all(rules_to_enforce, run, result.seen)

        return run_one

    strategy = strict_lifecycles() if strict else lifecycles()
    explicit = explicit_lifecycles() + (explicit_fault_lifecycles() if strict else [])
    explicit += recorded or []  # scenario files (--examples-from): run like the kit's own
    search_examples(strategy, explicit, examples, seed, run_with(result.rules), result)
    shrink_the_rest(result, strategy, examples, seed, run_with)
    return result


def shrink_the_rest(
    result: CheckResult,
    strategy: st.SearchStrategy[Any],
    examples: int,
    seed: int | None,
    run_with: Callable[[list[Rule]], Callable[[Any], None]],
) -> None:
    """Every rule broken in some run but not yet reported gets a search for it alone, so it
    is reported with its own minimal lifecycle (or, if that search misses it, the run where
    it was seen)."""
    for rule in result.rules:
        if rule.name not in result.seen or rule.name in {v.rule for v in result.violations}:
            continue
        found: list[RuleViolation] = []
        focused = CheckResult(target=result.target, rules=[rule])
        search_examples(strategy, [], max(examples, 1), seed, run_with([rule]), focused)
        result.examples_run += focused.examples_run
        result.wall_seconds += focused.wall_seconds
        found = [v for v in focused.violations if v.rule == rule.name]
        result.violations.append(found[0] if found else result.seen[rule.name])


def check_client(
    client: Callable[..., Any],
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = 0,
    rules: list[str] | None = None,
    strict: bool = False,
    examples_from: ExamplesFrom = None,
) -> CheckResult:
    """Check a Python polling client ``client(report_id, *, base_url, api_key)``: a function,
    or an ``async def`` coroutine function (run on the kit's virtual-time event loop).

    ``strict`` adds the resilience profile: transient faults on some polls, and the rules
    ``survives_transient_faults`` and ``honours_retry_after``. ``examples_from`` (scenario
    files, or directories of them) adds each recorded lifecycle as an explicit example.
    """
    validate_budget(examples, seed)
    _validate_client(client)
    recorded = scenario_lifecycles(examples_from)
    backend = MockBackend(scenario_files=scenario_file_paths(examples_from))
    try:
        name = (
            f"{getattr(client, '__module__', '?')}:{getattr(client, '__qualname__', repr(client))}"
        )
        return _run_lifecycles(
            name,
            lambda lifecycle, case: backend.run_python(client, lifecycle, case),
            examples,
            seed,
            rules,
            strict,
            recorded,
        )
    finally:
        backend.close()


def _validate_client(client: object) -> None:
    """A function or a coroutine function; anything else is a :class:`UsageError`."""
    expected = (
        "pass a function fn(report_id, *, base_url, api_key) that returns the completed "
        "report's data, or an async def coroutine function with the same signature"
    )
    if inspect.iscoroutine(client):
        client.close()
        raise UsageError(f"client={client!r} is a coroutine object, already called: {expected}")
    if inspect.isawaitable(client):
        raise UsageError(f"client={client!r} is an awaitable, not a function: {expected}")
    if inspect.isasyncgenfunction(client) or inspect.isgeneratorfunction(client):
        raise UsageError(f"client={client!r} is a generator function: {expected}")
    if isinstance(client, type):
        raise UsageError(f"client={client!r} is a class: {expected}")
    if not callable(client):
        raise UsageError(f"client={client!r} is not callable: {expected}")


def check_command(
    command: str,
    *,
    examples: int = DEFAULT_COMMAND_EXAMPLES,
    seed: int | None = 0,
    rules: list[str] | None = None,
    strict: bool = False,
    examples_from: ExamplesFrom = None,
) -> CheckResult:
    """Check a client in any language: ``command`` with ``{report_id}``, on the kit's
    discrete-event clock (the preload library, or the syscall tracer for Go and static builds);
    ``examples_from`` as for :func:`check_client`."""
    validate_budget(examples, seed)
    if "{report_id}" not in command:
        raise UsageError(
            f"command={command!r} has no {{report_id}}: write e.g. 'node client.js {{report_id}}'"
        )
    recorded = scenario_lifecycles(examples_from)
    backend = MockBackend(scenario_files=scenario_file_paths(examples_from))
    try:
        return _run_lifecycles(
            command,
            lambda lifecycle, case: backend.run_command(command, lifecycle, case),
            examples,
            seed,
            rules,
            strict,
            recorded,
        )
    finally:
        backend.close()


def check_consumer(
    consumer: Callable[[Any], Any],
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = 0,
    examples_from: ExamplesFrom = None,
) -> CheckResult:
    """Check a report consumer ``consumer(data)`` on every valid completed report;
    ``examples_from`` adds each completed scenario file's recorded report."""
    validate_budget(examples, seed)
    recorded = scenario_consumer_reports(examples_from)
    if not callable(consumer):
        raise UsageError(
            f"consumer={consumer!r} is not callable: pass a function taking the data object"
        )
    result = CheckResult(
        target=f"{getattr(consumer, '__module__', '?')}:{getattr(consumer, '__qualname__', repr(consumer))}",
        rules=list(CONSUMER_RULES.values()),
    )

    def run_one(data: dict[str, Any]) -> None:
        recorded_without = "report" not in data["output"]  # a scenario file showed none
        shape = "report: absent" if recorded_without else None
        result.coverage[shape or report_shape_family(data["output"]["report"])] += 1
        raised: BaseException | None = None
        try:
            consumer(data)
        except Exception as error:
            raised = error
        for rule in result.rules:
            try:
                rule.enforce(data, raised)
            except RuleViolation as violation:
                report = data["output"].get("report")
                violation.lifecycle_text = "  output.report: " + (
                    "absent (as recorded)"
                    if recorded_without
                    else "null"
                    if report is None
                    else str([s["type"] for s in report["sections"]])
                )
                raise

    explicit = explicit_consumer_reports() + recorded
    search_examples(completed_report_data(), explicit, examples, seed, run_one, result)
    return result
