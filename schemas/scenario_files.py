"""Scenario files: one report's observed lifecycle as JSON (``scenario-file.json``), read
from files and directories and checked once, for the mock (``--scenario-file``) and the
contract-testing kit (``--examples-from``) alike.

A file holds one scenario, or several as ``{"scenarios": [...]}`` (``scenario-file-list.json``,
what ``GET /_mock/requests?format=scenario`` exports). Each problem is named with the file, the
JSON path and what to do instead::

    scenario file recorded/rpt_1.json: $.timeline[2].after_seconds: 30 comes before the
    previous entry's 40: list the entries in time order

A single scenario answers to its ``name`` and to its file's stem; a list's scenarios to their
names only. Standard library and :mod:`schemas` only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemas

__all__ = [
    "DOCUMENTED_OUTPUT_FIELDS",
    "SCENARIO_FORMAT",
    "LoadedScenario",
    "ScenarioFileError",
    "load_scenario_files",
    "scenario_problems",
]

SCENARIO_FORMAT = 1
#: The fields of a completed report's output the API documents; the others are extra fields.
DOCUMENTED_OUTPUT_FIELDS = ("pdf_url", "docx_url", "report")
_TERMINAL = ("completed", "failed", "cancelled")
_ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2}
_ROOT = re.compile(r"\$(?=[.\[:])")  # the root of a JSON path in a message
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: More than this many problems in one file are summed up, not listed.
_SHOWN_PROBLEMS = 12


class ScenarioFileError(schemas.SchemaError):
    """A scenario file that cannot be read or breaks the format; ``str()`` names the file,
    each JSON path and what is wrong."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        super().__init__(source, list(problems))
        self.source = source
        self.problems = list(problems)

    def __str__(self) -> str:
        shown = self.problems[:_SHOWN_PROBLEMS]
        more = len(self.problems) - len(shown)
        tail = [f"... and {more} more"] if more > 0 else []
        if len(self.problems) == 1:
            return f"scenario file {self.source}: {self.problems[0]}"
        lines = "".join(f"\n  - {line}" for line in [*shown, *tail])
        return f"scenario file {self.source}: {len(self.problems)} problems:{lines}"


@dataclass(frozen=True)
class LoadedScenario:
    """One checked scenario document and the file it came from."""

    name: str
    document: Mapping[str, Any]
    source: str


def _progress_message(entry: Mapping[str, Any]) -> Any:
    progress = entry.get("progress")
    return progress.get("message") if isinstance(progress, dict) else None


def _timeline_problems(timeline: Sequence[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    for index in range(1, len(timeline)):
        before, entry = timeline[index - 1], timeline[index]
        where = f"$.timeline[{index}]"
        if entry["after_seconds"] < before["after_seconds"]:
            problems.append(
                f"{where}.after_seconds: {entry['after_seconds']:g} comes before the previous "
                f"entry's {before['after_seconds']:g}: list the entries in time order"
            )
        if before["status"] in _TERMINAL:
            problems.append(
                f"{where}: an entry after the terminal status {before['status']!r} of "
                f"$.timeline[{index - 1}]: a terminal status ends the timeline, remove what follows"
            )
        elif _ORDER[entry["status"]] < _ORDER[before["status"]]:
            problems.append(
                f"{where}.status: {entry['status']!r} after {before['status']!r}: a report's "
                "status only moves forward (pending, processing, then a terminal status)"
            )
    return problems


def _outcome_problems(document: Mapping[str, Any]) -> list[str]:
    timeline, outcome = document["timeline"], document["outcome"]
    last, last_at = timeline[-1], f"$.timeline[{len(timeline) - 1}]"
    status = outcome["status"]
    problems: list[str] = []
    if status == "unfinished" and last["status"] in _TERMINAL:
        problems.append(
            f"$.outcome.status: 'unfinished' but the timeline ends in {last['status']!r} at "
            f"{last_at}: write {last['status']!r}"
        )
    elif status != "unfinished" and last["status"] != status:
        ending = (
            "never reaches a terminal status"
            if last["status"] not in _TERMINAL
            else (f"ends in {last['status']!r} at {last_at}")
        )
        problems.append(
            f"$.outcome.status: {status!r} but the timeline {ending}: make them agree "
            "('unfinished' when no terminal status was seen)"
        )
    for field, owner in (
        ("output", "completed"),
        ("error", "failed"),
        ("cancelled_by", "cancelled"),
    ):
        if field in outcome and status != owner:
            problems.append(
                f"$.outcome.{field}: only a {owner} outcome has {field}; this one is {status!r}"
            )
    if status == "failed" and last["status"] == "failed":
        message = _progress_message(last)
        if outcome.get("error") != message:
            problems.append(
                f"$.outcome.error: {outcome.get('error')!r} differs from {last_at}.progress.message "
                f"{message!r}: a failure's error is its progress message"
            )
    if status == "completed" and "output" in outcome:
        problems += _output_problems(outcome["output"])
    return problems


def _output_problems(output: Mapping[str, Any]) -> list[str]:
    fields = list(output["fields"])
    problems = [
        f"$.outcome.output.fields: {field!r} is missing: the API documents it on every completed "
        "report"
        for field in ("pdf_url", "docx_url")
        if field not in fields
    ]
    if "report" in output and "report" not in fields:
        problems.append(
            "$.outcome.output.report: given, but 'report' is not in $.outcome.output.fields: "
            "list it there, or remove the report"
        )
    extras = output.get("extra_fields", {})
    for field in fields:
        if field not in DOCUMENTED_OUTPUT_FIELDS and field not in extras:
            problems.append(
                f"$.outcome.output.fields: {field!r} has no value in "
                "$.outcome.output.extra_fields: add one, or remove it from fields"
            )
    for field in extras:
        if field in DOCUMENTED_OUTPUT_FIELDS or field not in fields:
            problems.append(
                f"$.outcome.output.extra_fields.{field}: "
                + (
                    "a documented field is not an extra field: remove it"
                    if field in DOCUMENTED_OUTPUT_FIELDS
                    else "not in $.outcome.output.fields: list it there"
                )
            )
    return problems


def scenario_problems(document: object) -> list[str]:
    """Every way ``document`` breaks the scenario format, each ``"<json path>: <problem>"``;
    ``[]`` for a valid scenario. The schema first; the rules it cannot say only then."""
    found = schemas.errors(document, "scenario-file")
    if found:
        return found
    assert isinstance(document, dict)
    return _timeline_problems(document["timeline"]) + _outcome_problems(document)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioFileError(str(path), [f"not UTF-8 text ({error.reason})"]) from error
    except OSError as error:
        raise ScenarioFileError(str(path), [f"cannot be read: {error.strerror}"]) from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioFileError(
            str(path),
            [f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"],
        ) from error
    except RecursionError as error:
        raise ScenarioFileError(str(path), ["not JSON: nested too deeply"]) from error


def _scenarios_of(path: Path) -> tuple[list[LoadedScenario], bool]:
    """The scenarios of one file, and whether it is a list of them."""
    document = _read_json(path)
    source = str(path)
    if isinstance(document, dict) and "scenarios" in document:
        problems = schemas.errors(document, "scenario-file-list")
        if problems:
            raise ScenarioFileError(source, problems)
        loaded = []
        for index, item in enumerate(document["scenarios"]):
            inside = f"$.scenarios[{index}]"  # every path of the message, not only the first
            found = [_ROOT.sub(inside, problem) for problem in scenario_problems(item)]
            if found:
                raise ScenarioFileError(source, found)
            loaded.append(LoadedScenario(item["name"], item, source))
        return loaded, True
    problems = scenario_problems(document)
    if problems:
        raise ScenarioFileError(source, problems)
    assert isinstance(document, dict)
    return [LoadedScenario(document["name"], document, source)], False


def _files(paths: Iterable[str | Path]) -> list[Path]:
    """Each file to read, once."""
    files: dict[Path, Path] = {}  # by resolved path: a file named twice is read once
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file())
            if not inside:
                raise ScenarioFileError(str(path), ["a directory with no *.json scenario file"])
            files.update((p.resolve(), p) for p in inside)
        elif path.is_file():
            files.setdefault(path.resolve(), path)
        else:
            raise ScenarioFileError(
                str(path),
                ["no such file or directory: give a scenario file or a directory of them"],
            )
    return list(files.values())


def load_scenario_files(paths: Iterable[str | Path]) -> dict[str, LoadedScenario]:
    """Every scenario of ``paths`` (files, or directories of ``*.json`` files) by each name it
    answers to; :class:`ScenarioFileError` for the first file that is not a valid one, or for
    a name two different scenarios claim."""
    by_name: dict[str, LoadedScenario] = {}
    for path in _files(paths):
        found, is_list = _scenarios_of(path)
        names = [(s.name, s, "its name") for s in found]
        if not is_list and _NAME.match(path.stem) and path.stem != found[0].name:
            names.append((path.stem, found[0], "its file name"))
        for name, scenario, how in names:
            taken = by_name.get(name)
            if taken is not None and taken is not scenario:
                raise ScenarioFileError(
                    scenario.source,
                    [
                        f"the scenario name {name!r} ({how}) is taken by a scenario of "
                        f"{taken.source}: rename one of them"
                    ],
                )
            by_name[name] = scenario
    return by_name
