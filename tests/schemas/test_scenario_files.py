"""Scenario files: the format's rules and the loader's errors (file, JSON path, what to do)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from schemas.scenario_files import ScenarioFileError, load_scenario_files, scenario_problems

FAILED: dict[str, Any] = {
    "scenario_format": 1,
    "name": "prod_template_error",
    "timeline": [
        {"after_seconds": 0, "status": "pending", "progress": {"message": "Starting analysis..."}},
        {"after_seconds": 8, "status": "processing", "progress": None},
        {
            "after_seconds": 95,
            "status": "failed",
            "progress": {"message": "Report generation failed: template error"},
        },
    ],
    "outcome": {"status": "failed", "error": "Report generation failed: template error"},
}
COMPLETED: dict[str, Any] = {
    "scenario_format": 1,
    "name": "completed_once",
    "timeline": [
        {"after_seconds": 0, "status": "pending"},
        {"after_seconds": 60, "status": "completed", "progress": None},
    ],
    "outcome": {
        "status": "completed",
        "output": {
            "fields": ["pdf_url", "docx_url", "expires_in"],
            "extra_fields": {"expires_in": 3600},
            "documents": {"pdf": "missing"},
        },
    },
}


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``base`` with the value at a dotted path (list indexes as numbers) set."""
    document = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return document


def write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_valid_scenarios_have_no_problem() -> None:
    assert scenario_problems(FAILED) == []
    assert scenario_problems(COMPLETED) == []


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            changed(FAILED, "timeline.1.after_seconds", 120),
            "$.timeline[2].after_seconds: 95 comes before the previous entry's 120: list the "
            "entries in time order",
        ),
        (
            changed(FAILED, "timeline.0.after_seconds", 3),
            "$.timeline[0].after_seconds: 0 was expected",
        ),
        (
            changed(FAILED, "timeline.1.status", "done"),
            "$.timeline[1].status: 'done' is not one of ['pending', 'processing', 'completed', "
            "'failed', 'cancelled']",
        ),
        (
            changed(FAILED, "timeline.1.status", "failed"),
            "$.timeline[2]: an entry after the terminal status 'failed' of $.timeline[1]: a "
            "terminal status ends the timeline, remove what follows",
        ),
        (
            changed(
                changed(FAILED, "timeline.0.status", "processing"), "timeline.1.status", "pending"
            ),
            "$.timeline[1].status: 'pending' after 'processing': a report's status only moves "
            "forward (pending, processing, then a terminal status)",
        ),
        (
            changed(FAILED, "outcome", {"status": "unfinished"}),
            "$.outcome.status: 'unfinished' but the timeline ends in 'failed' at $.timeline[2]: "
            "write 'failed'",
        ),
        (
            changed(FAILED, "outcome", {"status": "cancelled"}),
            "$.outcome.status: 'cancelled' but the timeline ends in 'failed' at $.timeline[2]: "
            "make them agree ('unfinished' when no terminal status was seen)",
        ),
        (
            changed(FAILED, "outcome.error", "Something else"),
            "$.outcome.error: 'Something else' differs from $.timeline[2].progress.message "
            "'Report generation failed: template error': a failure's error is its progress "
            "message",
        ),
        (
            changed(FAILED, "outcome.output", {"fields": ["pdf_url", "docx_url"]}),
            "$.outcome.output: only a completed outcome has output; this one is 'failed'",
        ),
        (
            changed(FAILED, "outcome", {"status": "failed"}),
            "$.outcome: 'error' is a required property",
        ),
        (
            changed(COMPLETED, "outcome.output.fields", ["docx_url", "expires_in"]),
            "$.outcome.output.fields: 'pdf_url' is missing: the API documents it on every "
            "completed report",
        ),
        (
            changed(COMPLETED, "outcome.output.report", None),
            "$.outcome.output.report: given, but 'report' is not in $.outcome.output.fields: "
            "list it there, or remove the report",
        ),
        (
            changed(COMPLETED, "outcome.output.extra_fields", {}),
            "$.outcome.output.fields: 'expires_in' has no value in "
            "$.outcome.output.extra_fields: add one, or remove it from fields",
        ),
        (
            changed(COMPLETED, "outcome.output.documents.pdf", "gone"),
            "$.outcome.output.documents.pdf: 'gone' is not one of ['available', 'missing', "
            "'unchecked']",
        ),
        (changed(COMPLETED, "name", "no spaces"), "$.name: 'no spaces' does not match"),
        (changed(COMPLETED, "colour", "red"), "$: Additional properties are not allowed"),
    ],
)
def test_each_broken_rule_is_named_with_its_path(document: dict[str, Any], problem: str) -> None:
    problems = scenario_problems(document)
    assert len(problems) == 1, problems
    assert problems[0].startswith(problem)


def test_a_file_answers_to_its_name_and_its_stem(tmp_path: Path) -> None:
    write(tmp_path, "incident-42.json", FAILED)
    loaded = load_scenario_files([tmp_path])
    assert set(loaded) == {"incident-42", "prod_template_error"}
    assert loaded["incident-42"] is loaded["prod_template_error"]
    assert loaded["incident-42"].source == str(tmp_path / "incident-42.json")


def test_a_list_file_answers_to_the_names_inside(tmp_path: Path) -> None:
    path = write(tmp_path, "export.json", {"scenarios": [FAILED, COMPLETED]})
    assert sorted(load_scenario_files([path])) == ["completed_once", "prod_template_error"]


def test_a_file_given_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path, "one.json", FAILED)
    assert sorted(load_scenario_files([tmp_path, path])) == ["one", "prod_template_error"]


def error_of(paths: list[Path]) -> str:
    with pytest.raises(ScenarioFileError) as raised:
        load_scenario_files(paths)
    return str(raised.value)


def test_not_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  oops\n}')
    assert error_of([path]) == (
        f"scenario file {path}: not JSON: Expecting property name enclosed in double quotes at "
        "line 3 column 3"
    )


def test_a_list_names_the_scenario_at_fault(tmp_path: Path) -> None:
    broken = changed(COMPLETED, "outcome.output.fields", ["pdf_url", "expires_in"])
    path = write(tmp_path, "export.json", {"scenarios": [FAILED, broken]})
    assert error_of([path]) == (
        f"scenario file {path}: $.scenarios[1].outcome.output.fields: 'docx_url' is missing: the "
        "API documents it on every completed report"
    )
    broken = changed(COMPLETED, "outcome.output.report", None)
    path = write(tmp_path, "export.json", {"scenarios": [broken]})
    assert error_of([path]) == (
        f"scenario file {path}: $.scenarios[0].outcome.output.report: given, but 'report' is not "
        "in $.scenarios[0].outcome.output.fields: list it there, or remove the report"
    )


def test_several_problems_are_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "x.json", {"scenario_format": 2, "name": "x", "timeline": []})
    assert error_of([path]) == (
        f"scenario file {path}: 3 problems:\n"
        "  - $: 'outcome' is a required property\n"
        "  - $.scenario_format: 1 was expected\n"
        "  - $.timeline: [] should be non-empty"
    )


def test_two_scenarios_claiming_one_name_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.json", FAILED)
    second = write(tmp_path, "b.json", FAILED)
    assert error_of([tmp_path]) == (
        f"scenario file {second}: the scenario name 'prod_template_error' (its name) is taken by "
        f"a scenario of {tmp_path / 'a.json'}: rename one of them"
    )


def test_a_stem_that_is_another_scenarios_name_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.json", FAILED)
    second = write(tmp_path, "prod_template_error.json", COMPLETED)
    assert "the scenario name 'prod_template_error' (its file name) is taken" in error_of(
        [tmp_path / "a.json", second]
    )


def test_missing_paths_and_empty_directories_say_what_to_give(tmp_path: Path) -> None:
    assert error_of([tmp_path / "nope.json"]) == (
        f"scenario file {tmp_path / 'nope.json'}: no such file or directory: give a scenario "
        "file or a directory of them"
    )
    assert error_of([tmp_path]) == (
        f"scenario file {tmp_path}: a directory with no *.json scenario file"
    )
