"""The kit's verdict on a corpus of polling clients written as people write them (issue 10).

Every correct client of ``corpus/`` must pass, under the documented profile and ``--strict``;
every buggy one must be caught under the rule its bug breaks, and under no unrelated rule
(``CorpusClient.also`` names the rules the same bug breaks as a consequence). Python clients
go through ``check_client``, the bash, Node and Go clients through ``check_command`` and the
command line. Budgets are bounded: the kit's explicit lifecycles always run (they hold an
example of every bug of the corpus), plus a few generated ones for correct Python clients;
buggy clients and commands get none, which also spares the kit's shrinking.

A command client forks a process or three per poll, and one without a deadline polls for a
whole virtual hour, so ``make test`` checks each command client under one profile only: a
correct one under ``--strict`` (which runs every documented lifecycle too), a buggy one under
the profile that catches it. A correct Python client is checked under ``--strict`` alone
too, a buggy one under both. ``REPORTS_MOCK_TEST_BUDGET=full`` checks every client under both profiles
and runs the determinism check 20 times instead of 5.

A buggy command client that differs from its style's correct one only where a lifecycle outlasts
the correct one's deadline (:data:`TELLING_LIFECYCLE`) runs, in ``make test``, on that one
explicit lifecycle: on every other it runs the very lines the correct client's ``--strict`` check
covers, and each of its polls forks processes (the full budget runs it on every lifecycle).
"""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import pytest
from corpus import CLIENTS, PASSES, CorpusClient, build_go_clients, httpx_sync_client

from contract_tests import (
    RULES,
    CheckResult,
    RuleViolation,
    check_client,
    check_command,
    render_result,
)
from contract_tests.examples import explicit_lifecycles
from contract_tests.harness import MockBackend

from ..conftest import FULL_BUDGET
from .conftest import run_kit

#: Generated examples on top of the kit's explicit lifecycles.
CORRECT_PYTHON_EXAMPLES = 2
BUGGY_PYTHON_EXAMPLES = 0
COMMAND_EXAMPLES = 0
SEED = 0
#: The determinism check: one correct client's --strict check, run this many times.
DETERMINISM_RUNS = 20 if FULL_BUDGET else 5
DETERMINISM_EXAMPLES = 1
DETERMINISM_SEED = 20261201
#: Buggy command clients whose bug only one explicit lifecycle can show, with its path. The
#: bash client without a deadline is ``wait_for_report.sh`` with ``while true`` for its
#: ten-minute loop: it behaves differently only on a report that never ends, where it polls for
#: the kit's whole hour (some 720 polls, each a curl and a jq).
TELLING_LIFECYCLE = {"bash-curl-jq/no-deadline": "never terminal"}
#: The buggy command client whose verdict the command-line test reads from ``check
#: --client-cmd``'s output; by default that is its only check (the same examples and seed).
CHECKED_THROUGH_THE_COMMAND_LINE = "node-fetch/reads-progress.message-of-null-progress"


@pytest.fixture(scope="session")
def go_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus's Go clients, compiled once per session (offline, stdlib only)."""
    return build_go_clients(tmp_path_factory.mktemp("go-clients"))


def _check(client: CorpusClient, strict: bool, request: pytest.FixtureRequest) -> CheckResult:
    if client.kind == "python":
        examples = CORRECT_PYTHON_EXAMPLES if client.correct else BUGGY_PYTHON_EXAMPLES
        return check_client(client.function(), examples=examples, seed=SEED, strict=strict)
    go = request.getfixturevalue("go_bin") if "{go_bin}" in client.target else None
    if client.id in TELLING_LIFECYCLE and not FULL_BUDGET:
        return _check_on_one_lifecycle(client.command(go), TELLING_LIFECYCLE[client.id], strict)
    return check_command(client.command(go), examples=COMMAND_EXAMPLES, seed=SEED, strict=strict)


def _check_on_one_lifecycle(command: str, path: str, strict: bool) -> CheckResult:
    """``check_command``'s verdict on ``command`` from the kit's explicit lifecycle of ``path``
    alone: one run, every rule of the profile checked on it (nothing to shrink)."""
    (lifecycle,) = [each for each in explicit_lifecycles() if each.path == path]
    rules = [rule for rule in RULES.values() if strict or rule.profile == "documented"]
    result = CheckResult(target=command, rules=rules, strict=strict)
    backend = MockBackend()
    try:
        run = backend.run_command(command, lifecycle, "case_kit_0")
    finally:
        backend.close()
    result.examples_run = 1
    result.coverage[f"path: {lifecycle.path}"] += 1
    for rule in result.rules:
        try:
            rule.enforce(run)
        except RuleViolation as violation:
            violation.lifecycle_text = run.describe_example()
            violation.requests_text = run.describe_requests()
            result.violations.append(violation)
    return result


def _profiles(client: CorpusClient) -> tuple[bool, ...]:
    """The profiles (``strict`` or not) ``client`` is checked under in this budget.

    ``--strict`` runs every explicit lifecycle of the documented profile under every documented
    rule, so a correct client that passes it passes those of the documented profile: its
    documented check (two generated lifecycles more) runs in the full budget only.
    """
    if FULL_BUDGET:
        return (False, True)
    if client.id == CHECKED_THROUGH_THE_COMMAND_LINE:
        return ()
    if client.kind == "python":
        return (True,) if client.correct else (False, True)
    if client.correct or client.documented == PASSES:
        return (True,)
    return (False,)


@pytest.mark.parametrize(
    ("client", "strict"),
    [
        pytest.param(
            client,
            strict,
            id=f"{client.id}-{'strict' if strict else 'documented'}",
            marks=[pytest.mark.long_running] if client.kind == "command" else [],
        )
        for client in CLIENTS
        for strict in _profiles(client)
    ],
)
@pytest.mark.timeout(300)  # a command with no deadline polls for a whole virtual hour
def test_the_kit_gives_each_client_of_the_corpus_its_verdict(
    client: CorpusClient, strict: bool, request: pytest.FixtureRequest
) -> None:
    result = _check(client, strict, request)
    _assert_verdict(client, strict, result.broken_rules, render_result(result))


def _assert_verdict(client: CorpusClient, strict: bool, broken: list[str], shown: str) -> None:
    expected = client.expected(strict)
    if expected == PASSES:
        assert not broken, shown
    else:
        assert expected in broken, shown
        unrelated = set(broken) - {expected, *client.also}
        assert not unrelated, f"blamed on unrelated rules {unrelated}\n" + shown


def test_the_corpus_has_a_correct_and_a_buggy_client_of_every_style() -> None:
    styles = {client.style for client in CLIENTS}
    for style in styles:
        variants = [c for c in CLIENTS if c.style == style]
        assert [c.correct for c in variants] == [True, False], style
        buggy = variants[1]
        assert buggy.documented != PASSES or buggy.strict != PASSES, f"{style}: caught nowhere"
        named = {buggy.documented, buggy.strict, *buggy.also} - {PASSES}
        assert named <= set(RULES), f"{style}: unknown rules {named - set(RULES)}"
    assert len(styles) == 13


@pytest.mark.long_running
@pytest.mark.timeout(300)
def test_a_correct_clients_strict_check_gives_one_verdict_every_time() -> None:
    """httpx over a real socket: on main a drop could be recorded after the next sleep."""
    verdicts = set()
    for _ in range(DETERMINISM_RUNS):
        result = check_client(
            httpx_sync_client.wait_for_report,
            examples=DETERMINISM_EXAMPLES,
            seed=DETERMINISM_SEED,
            strict=True,
        )
        verdicts.add((result.passed, tuple(result.broken_rules), result.examples_run))
    assert len(verdicts) == 1, verdicts
    ((passed, broken, _),) = verdicts
    assert passed, broken


def _kit(*arguments: str) -> subprocess.CompletedProcess[str]:
    return run_kit("check", *arguments)


def test_the_command_line_passes_a_coroutine_function_client() -> None:
    ran = _kit("--client", "corpus.aiohttp_client:wait_for_report", "--strict", "--examples", "2")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Result: every rule holds" in ran.stdout


@pytest.mark.long_running
def test_the_command_line_names_the_rule_a_buggy_command_client_breaks() -> None:
    """And gives the corpus's verdict on it, every broken rule read from the printed table."""
    client = next(c for c in CLIENTS if c.id == CHECKED_THROUGH_THE_COMMAND_LINE)
    ran = _kit("--client-cmd", client.command(), "--examples", str(COMMAND_EXAMPLES))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert f"=== {client.documented} ===" in ran.stdout
    broken = re.findall(r"^  BROKEN  (\w+): ", ran.stdout, re.MULTILINE)
    _assert_verdict(client, False, broken, ran.stdout)


def test_a_jittering_clients_verdict_does_not_depend_on_what_ran_before() -> None:
    """backoff's default jitter draws from the global random, which the kit seeds per run."""
    client = next(c for c in CLIENTS if c.id == "backoff-max_tries/default-full-jitter")
    renderings = set()
    for earlier_state in (1, 2, 3):
        random.seed(earlier_state)  # as if other tests had drawn from it
        result = check_client(client.function(), examples=0, seed=SEED, strict=True)
        renderings.add(render_result(result).split("\n", 2)[2])  # without the wall time
    assert len(renderings) == 1, "\n\n".join(renderings)
