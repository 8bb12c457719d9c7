"""The --strict resilience profile: the hardened client passes, fault-intolerant ones are named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clients_under_test import planted_fault_clients, resilient_backoff
from contract_tests import check_client, render_result

from ..conftest import FULL_BUDGET

EXAMPLES = 20
#: ``REPORTS_MOCK_TEST_BUDGET=full``: the fault-intolerant clients also get generated lifecycles
#: (5 documented, 20 strict, with Hypothesis's shrinking). ``make test`` runs the kit's explicit
#: lifecycles alone: those hold every fault kind on a poll (``explicit_fault_lifecycles``), so
#: each planted intolerance is still met, and caught, there.
INTOLERANT_DOCUMENTED_EXAMPLES = 5 if FULL_BUDGET else 0
INTOLERANT_STRICT_EXAMPLES = EXAMPLES if FULL_BUDGET else 0


def test_the_resilient_reference_client_passes_strict() -> None:
    result = check_client(resilient_backoff.wait_for_report, examples=EXAMPLES, strict=True)
    assert result.passed, render_result(result)


@pytest.mark.parametrize(("name", "rule"), sorted(planted_fault_clients.EXPECTED_RULE.items()))
def test_each_fault_intolerant_client_passes_the_documented_profile_but_fails_strict(
    name: str, rule: str
) -> None:
    client = getattr(planted_fault_clients, name)
    documented = check_client(client, examples=INTOLERANT_DOCUMENTED_EXAMPLES)
    assert documented.passed, render_result(documented)
    strict = check_client(client, examples=INTOLERANT_STRICT_EXAMPLES, strict=True)
    assert rule in strict.broken_rules, render_result(strict)


def test_the_command_line_names_the_fault_with_strict() -> None:
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "contract_tests",
            "check",
            "--strict",
            "--examples",
            "5",
            "--client",
            "clients_under_test.planted_fault_clients:aborts_on_first_server_error",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 1
    assert "survives_transient_faults" in ran.stdout and "after the injected fault" in ran.stdout
