"""Every planted-bug client and consumer is caught, by the contract rule it breaks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from clients_under_test import planted_clients, planted_consumers
from contract_tests import CONSUMER_RULES, RULES, check_client, check_consumer, render_result

from ..conftest import FULL_BUDGET

#: Generated lifecycles per planted bug (and their shrinking) in the full budget. ``make test``
#: runs the kit's explicit lifecycles alone: each planted bug is caught on one of them.
EXAMPLES = 30 if FULL_BUDGET else 0
ROOT = Path(__file__).resolve().parents[2]

PLANTED = [
    pytest.param(module, name, rule, id=name)
    for module in (planted_clients, planted_consumers)
    for name, rule in module.EXPECTED_RULE.items()
]


@pytest.mark.parametrize(("module", "name", "rule"), PLANTED)
def test_each_planted_bug_is_caught_by_the_rule_it_breaks(
    module: ModuleType, name: str, rule: str
) -> None:
    planted = getattr(module, name)
    check = check_consumer if module is planted_consumers else check_client
    result = check(planted, examples=EXAMPLES)
    assert rule in result.broken_rules, render_result(result)


@pytest.mark.parametrize(
    ("module", "rules"),
    [(planted_clients, RULES), (planted_consumers, CONSUMER_RULES)],
    ids=["clients", "consumers"],
)
def test_the_registry_names_a_known_rule_for_every_planted_function(
    module: ModuleType, rules: dict[str, object]
) -> None:
    exported = set(module.__all__) - {"EXPECTED_RULE"}
    assert set(module.EXPECTED_RULE) == exported
    assert set(module.EXPECTED_RULE.values()) <= set(rules)


@pytest.mark.parametrize(
    "name", ["ignores_failed_status", "polls_without_sleeping"], ids=lambda name: str(name)
)
def test_the_command_line_exits_1_naming_the_broken_rule(name: str) -> None:
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "contract_tests",
            "check",
            "--examples",
            str(EXAMPLES),
            "--client",
            f"clients_under_test.planted_clients:{name}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        timeout=110,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert f"=== {planted_clients.EXPECTED_RULE[name]} ===" in ran.stdout
