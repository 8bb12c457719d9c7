"""The kit end to end on small inline clients: passes good ones, names the rule bad ones break."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sample_clients

from contract_tests import UsageError, check_client, check_command, check_consumer, render_result


def test_a_polite_client_passes_every_rule() -> None:
    result = check_client(sample_clients.polite, examples=25)
    assert result.passed, render_result(result)


def test_a_client_with_imported_sleep_and_urllib_runs_on_virtual_time() -> None:
    result = check_client(sample_clients.imported_sleep, examples=10)
    assert result.passed, render_result(result)
    assert result.virtual_seconds > 100 * result.wall_seconds


def test_a_client_that_swallows_every_exception_is_still_stopped() -> None:
    result = check_client(sample_clients.swallows_everything, examples=5)
    assert "polls_at_a_steady_pace" in result.broken_rules


def test_a_urllib_client_that_never_gives_up_is_stopped_after_an_hour() -> None:
    result = check_client(sample_clients.urllib_never_gives_up, examples=5)
    assert "gives_up_within_an_hour" in result.broken_rules


def test_a_client_that_chokes_on_null_progress_breaks_the_shape_rule() -> None:
    result = check_client(sample_clients.crashes_on_null_progress, examples=25)
    assert "tolerates_documented_shapes" in result.broken_rules


def test_each_broken_rule_is_reported_once_with_its_lifecycle_and_requests() -> None:
    result = check_client(sample_clients.swallows_everything, examples=5)
    assert len(result.violations) == len({v.rule for v in result.violations})
    violation = result.violations[0]
    assert violation.lifecycle_text and "GET /api/reports/" in violation.requests_text


def test_coverage_counts_every_lifecycle_path_even_with_no_generated_examples() -> None:
    result = check_client(sample_clients.polite, examples=0)
    paths = {name for name in result.coverage if name.startswith("path: ")}
    assert paths == {
        "path: completed",
        "path: failed: delta-V",
        "path: failed: biomechanics",
        "path: failed: timeout",
        "path: failed: internal error",
        "path: cancelled while pending",
        "path: cancelled while processing",
        "path: never terminal",
        "path: not found",
    }


def test_a_tolerant_consumer_passes() -> None:
    assert check_consumer(sample_clients.outline, examples=50).passed


def test_a_consumer_indexing_sections_by_position_is_caught() -> None:
    result = check_consumer(sample_clients.fourth_section_title, examples=50)
    assert result.broken_rules == ["consumer_accepts_every_valid_report"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_client(sample_clients.polite, examples=-1), "examples=-1"),
        (lambda: check_client("not callable", examples=1), "is not callable"),  # type: ignore[arg-type]
        (lambda: check_client(sample_clients.polite, seed="x"), "seed='x'"),  # type: ignore[arg-type]
        (lambda: check_client(sample_clients.polite, rules=["nope"]), "Known rules"),
    ],
)
def test_bad_arguments_are_rejected_up_front_naming_the_argument(
    call: object, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        call()  # type: ignore[operator]


def test_a_resilient_client_passes_the_strict_profile() -> None:
    result = check_client(sample_clients.resilient, examples=25, strict=True)
    assert result.passed, render_result(result)
    assert {"fault: 503", "fault: 429", "fault: drop", "fault: truncate", "fault: non_json"} <= set(
        result.coverage
    )


def test_a_client_that_passes_the_documented_profile_fails_strict_naming_the_fault() -> None:
    assert check_client(sample_clients.polite, examples=10).passed
    strict = check_client(sample_clients.polite, examples=10, strict=True)
    assert "survives_transient_faults" in strict.broken_rules
    violation = next(v for v in strict.violations if v.rule == "survives_transient_faults")
    assert "injected fault" in violation.received


def test_a_client_taking_clock_and_sleep_defaults_runs_on_virtual_time() -> None:
    result = check_client(sample_clients.with_injected_clock, examples=10)
    assert result.passed, render_result(result)
    assert result.wall_seconds < 60


def test_a_runaway_command_is_stopped_and_named_without_crashing_the_kit() -> None:
    script = Path(__file__).parent / "commands" / "tight_loop.py"
    result = check_command(
        f"{sys.executable} {script} {{report_id}}", examples=0, rules=["polls_at_a_steady_pace"]
    )
    assert result.broken_rules == ["polls_at_a_steady_pace"]
