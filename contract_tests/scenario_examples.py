"""Scenario files as explicit examples (``--examples-from DIR``, ``examples_from=``).

A lifecycle recorded once (``mockserver record``, or the mock's journal exported with
``GET /_mock/requests?format=scenario``) runs on every client checked, next to the kit's own
explicit examples, however small the ``--examples`` budget: statuses, progress objects and
timings exactly as recorded, the failure message as the service wrote it, the completed
report's structured report verbatim and unknown extra fields. The files are read and checked
by ``schemas.scenario_files``, the loader the mock uses too; a malformed one is a
:class:`~contract_tests.errors.UsageError` (exit status 2) naming the file, the JSON path and
what is wrong.

What the kit's scripted reports cannot show, and so is not replayed here (the mock's
``--scenario-file`` replays it): an output without its ``report`` field, extra output fields,
and documents that answered 404.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contract_tests.documented import STEP_BIOMECHANICS
from contract_tests.errors import UsageError
from contract_tests.model import Analysis, Lifecycle, Observation
from schemas.scenario_files import ScenarioFileError, load_scenario_files

__all__ = ["ExamplesFrom", "scenario_consumer_reports", "scenario_lifecycles"]

#: What ``examples_from`` takes: a file or directory, or several.
ExamplesFrom = str | Path | Sequence[str | Path] | None


def _paths(examples_from: ExamplesFrom) -> list[str | Path]:
    if examples_from is None:
        return []
    if isinstance(examples_from, str | Path):
        return [examples_from]
    return list(examples_from)


def _documents(examples_from: ExamplesFrom) -> list[tuple[str, Mapping[str, Any]]]:
    """Each scenario once (a file's name and stem point to the same one), by name."""
    paths = _paths(examples_from)
    if not paths:
        return []
    try:
        loaded = load_scenario_files(paths)
    except ScenarioFileError as error:
        raise UsageError(f"--examples-from: {error}") from error
    unique = {scenario.name: scenario.document for scenario in loaded.values()}
    return sorted(unique.items())


def _analysis(document: Mapping[str, Any]) -> Analysis:
    """Which documented timeout applies: demo data, biomechanics, or accident only."""
    options = document.get("request", {}).get("options", {})
    if options.get("use_demo_data"):
        return "demo"
    if options.get("include_biomechanics"):
        return "biomechanics"
    for entry in document["timeline"]:
        progress = entry.get("progress") or {}
        steps = [progress.get("current_step"), *progress.get("steps_completed", [])]
        if STEP_BIOMECHANICS in steps:
            return "biomechanics"
    return "accident_only"


def _lifecycle(name: str, document: Mapping[str, Any]) -> Lifecycle:
    timeline = tuple(
        Observation(float(entry["after_seconds"]), entry["status"], entry.get("progress"))
        for entry in document["timeline"]
    )
    output = document["outcome"].get("output", {})
    recorded_report = "report" in output
    return Lifecycle(
        path=f"scenario file: {name}",
        analysis=_analysis(document),
        timeline=timeline,
        report=output.get("report") if recorded_report else None,
        derive_report=not recorded_report,
        extra_fields=dict(document.get("extra_fields", {})),
    )


def scenario_lifecycles(examples_from: ExamplesFrom) -> list[Lifecycle]:
    """The lifecycle of every scenario in ``examples_from`` (files or directories)."""
    return [_lifecycle(name, document) for name, document in _documents(examples_from)]


def scenario_consumer_reports(examples_from: ExamplesFrom) -> list[dict[str, Any]]:
    """A completed report's data for each completed scenario that recorded its report."""
    reports = []
    for name, document in _documents(examples_from):
        output = document["outcome"].get("output")
        if output is None or "report" not in output:
            continue
        last = document["timeline"][-1]
        reports.append(
            {
                "id": f"rpt_{name}",
                "case_id": document.get("recorded", {}).get("case_id", "case_contract"),
                "type": document.get("request", {}).get("type", "technical_report"),
                "status": "completed",
                "progress": last.get("progress"),
                "output": {
                    "pdf_url": f"http://127.0.0.1/storage/reports/rpt_{name}.pdf?expires=1&signature=00",
                    "docx_url": f"http://127.0.0.1/storage/reports/rpt_{name}.docx?expires=1&signature=00",
                    "report": output["report"],
                    **output.get("extra_fields", {}),
                },
                "created_at": "2026-01-15T10:30:00Z",
                "updated_at": "2026-01-15T10:34:00Z",
                **document.get("extra_fields", {}),
            }
        )
    return reports
