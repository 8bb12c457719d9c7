"""``python -m contract_tests check``: exit 0 when rules hold, 1 when broken, 2 for usage errors."""

from __future__ import annotations

import pytest

from .conftest import run_kit


def test_a_passing_client_exits_0_with_the_coverage_table() -> None:
    result = run_kit("check", "--client", "sample_clients:polite", "--examples", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Coverage" in result.stdout and "path: not found" in result.stdout
    assert "Result: every rule holds" in result.stdout


def test_a_broken_client_exits_1_naming_each_rule_once() -> None:
    result = run_kit("check", "--client", "sample_clients:swallows_everything", "--examples", "5")
    assert result.returncode == 1
    assert result.stdout.count("=== polls_at_a_steady_pace ===") == 1
    assert "Minimal reproducing lifecycle:" in result.stdout
    assert "Requests the client made:" in result.stdout


def test_a_broken_consumer_exits_1() -> None:
    result = run_kit(
        "check", "--consumer", "sample_clients:fourth_section_title", "--examples", "20"
    )
    assert result.returncode == 1
    assert "consumer_accepts_every_valid_report" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["check", "--client", "sample_clients"], "is not MODULE:FUNCTION"),
        (["check", "--client", "no_such_module:f"], "cannot import module 'no_such_module'"),
        (["check", "--client", "sample_clients:nope"], "Callables there: "),
        (["check", "--client-cmd", "node client.js"], "has no {report_id}"),
        (["check", "--client", "sample_clients:polite", "--examples", "-3"], "--examples -3"),
        (["check"], "one of the arguments"),
        (["check", "--client", "sample_clients:Poller", "--examples", "0"], "is a class"),
        (
            ["check", "--client", "sample_clients:poll_generator", "--examples", "0"],
            "is a generator function",
        ),
    ],
)
def test_usage_errors_exit_2_with_what_to_do(arguments: list[str], message: str) -> None:
    result = run_kit(*arguments)
    assert result.returncode == 2
    assert message in result.stderr
