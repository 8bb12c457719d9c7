"""Scenario files as explicit examples: a lifecycle seen once is checked on every client.

``examples=0`` throughout: only explicit examples run, so what catches the planted client is
the recorded lifecycle, not a lucky generated one (the kit's own explicit examples pass it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from recorded_lifecycle_clients import trusts_known_failures_only
from sample_clients import polite

from contract_tests import UsageError, check_client, check_consumer
from contract_tests.cli import main
from contract_tests.pytest_plugin import ContractKit

NEW_FAILURE = "Report generation failed: template error"
RECORDED_FAILURE: dict[str, Any] = {
    "scenario_format": 1,
    "name": "prod_template_error",
    "description": "seen in production: a failure message the documentation does not show",
    "request": {"type": "technical_report", "options": {"include_biomechanics": False}},
    "timeline": [
        {"after_seconds": 0, "status": "pending", "progress": {"message": "Starting analysis..."}},
        {
            "after_seconds": 8,
            "status": "processing",
            "progress": {
                "current_step": "delta_v_calculation",
                "steps_completed": [],
                "message": "Starting analysis...",
            },
        },
        {
            "after_seconds": 95,
            "status": "failed",
            "progress": {
                "current_step": "report_generation",
                "steps_completed": ["delta_v_calculation"],
                "message": NEW_FAILURE,
            },
        },
    ],
    "outcome": {"status": "failed", "error": NEW_FAILURE},
}
NEW_SECTION_REPORT = {
    "schema_version": "1.0",
    "sections": [
        {"id": "sec_header", "type": "header", "title": "Header", "markdown": "**Case**"},
        {"id": "sec_references", "type": "references", "title": "References", "markdown": ""},
    ],
}
RECORDED_COMPLETION: dict[str, Any] = {
    "scenario_format": 1,
    "name": "prod_new_section",
    "timeline": [
        {"after_seconds": 0, "status": "pending", "progress": None},
        {"after_seconds": 140, "status": "completed", "progress": None},
    ],
    "extra_fields": {"region": "eu-west-1"},
    "outcome": {
        "status": "completed",
        "output": {"fields": ["pdf_url", "docx_url", "report"], "report": NEW_SECTION_REPORT},
    },
}


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    (tmp_path / "prod_template_error.json").write_text(json.dumps(RECORDED_FAILURE))
    (tmp_path / "prod_new_section.json").write_text(json.dumps(RECORDED_COMPLETION))
    return tmp_path


def test_a_recorded_lifecycle_catches_a_client_the_kits_own_examples_pass(recorded: Path) -> None:
    assert check_client(trusts_known_failures_only, examples=0).passed
    result = check_client(trusts_known_failures_only, examples=0, examples_from=recorded)
    assert result.broken_rules == ["raises_on_failed_or_cancelled", "stops_after_terminal_status"]
    for violation in result.violations:
        assert "scenario file: prod_template_error" in violation.lifecycle_text
        assert NEW_FAILURE in violation.lifecycle_text
    assert result.coverage["path: scenario file: prod_template_error"] >= 1
    assert result.coverage["path: scenario file: prod_new_section"] >= 1


def test_a_correct_client_passes_the_recorded_lifecycles(recorded: Path) -> None:
    result = check_client(polite, examples=0, examples_from=[recorded / "prod_new_section.json"])
    assert result.passed
    assert result.coverage["report: accident-only"] >= 1  # the recorded report, verbatim


def test_the_command_line_takes_examples_from(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "check",
            "--client",
            "recorded_lifecycle_clients:trusts_known_failures_only",
            "--examples",
            "0",
            "--examples-from",
            str(recorded),
        ]
    )
    printed = capsys.readouterr().out
    assert status == 1
    assert "BROKEN  raises_on_failed_or_cancelled" in printed
    assert "scenario file: prod_template_error" in printed


def test_a_malformed_file_is_a_usage_error_naming_file_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**RECORDED_FAILURE, "outcome": {"status": "completed"}}))
    status = main(["check", "--client", "sample_clients:polite", "--examples-from", str(bad)])
    printed = capsys.readouterr()
    assert status == 2
    assert printed.err.strip() == (
        f"contract_tests: --examples-from: scenario file {bad}: $.outcome: 'output' is a "
        "required property"
    )
    assert "Traceback" not in printed.err
    with pytest.raises(UsageError, match=r"no such file or directory"):
        check_client(polite, examples=0, examples_from=tmp_path / "missing")


def test_a_consumer_meets_the_recorded_report(recorded: Path) -> None:
    def headlines(data: Any) -> list[str]:  # assumes every section has a first line (bug)
        report = data["output"].get("report") or {}
        return [s["markdown"].splitlines()[0] for s in report.get("sections", [])]

    assert check_consumer(headlines, examples=0).passed
    result = check_consumer(headlines, examples=0, examples_from=recorded)
    assert result.broken_rules == ["consumer_accepts_every_valid_report"]


def test_the_pytest_fixture_takes_examples_from_too(recorded: Path) -> None:
    kit = ContractKit(examples=0, seed=0)
    assert kit.check_client(polite, examples_from=recorded).passed
