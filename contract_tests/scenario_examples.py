"""Scenario files as explicit examples (``--examples-from DIR``, ``examples_from=``).

A lifecycle recorded once (``mockserver record``, or the mock's journal exported with
``GET /_mock/requests?format=scenario``) runs on every client checked, next to the kit's own
explicit examples, however small the ``--examples`` budget. The files are read and checked
by ``schemas.scenario_files``, the loader the mock uses too; a malformed one is a
:class:`~contract_tests.errors.UsageError` (exit status 2) naming the file, the JSON path and
what is wrong.

Everything a file records is played, as recorded: the kit loads the files into its mock
(``create_app({"SCENARIO_FILES": ...})``, the mock's own ``--scenario-file``) and creates each
example's report with ``X-Mock-Scenario: file:NAME``, so the mock serves the statuses,
progress objects and timings, the failure message as the service wrote it, unknown report
fields, and the completed output in its recorded shape: its fields in the recorded order, a
``report`` field the recording did not show left out, extra output fields with their
recorded values, the structured report verbatim, and a 404 (in the error envelope) for a
document whose download answered 404. The :class:`~contract_tests.model.Lifecycle` built here
describes that for the rules and for people.

- Pollers (:func:`scenario_lifecycles`) get every file.
- Workflows (:func:`scenario_workflow_plans`) get every completed file: the report they
  create replays it, so a recorded missing document is a 404 when they download it
  (``downloads_both_documents`` says what the kit then expects).
- Consumers (:func:`scenario_consumer_reports`) get each completed report's data, its output
  in the recorded shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contract_tests.documented import STEP_BIOMECHANICS
from contract_tests.errors import UsageError
from contract_tests.model import Analysis, Lifecycle, Observation
from contract_tests.workflow_model import WorkflowPlan
from schemas.scenario_files import ScenarioFileError, load_scenario_files

__all__ = [
    "ExamplesFrom",
    "scenario_consumer_reports",
    "scenario_file_paths",
    "scenario_lifecycles",
    "scenario_workflow_plans",
]

#: What ``examples_from`` takes: a file or directory, or several.
ExamplesFrom = str | Path | Sequence[str | Path] | None


def scenario_file_paths(examples_from: ExamplesFrom) -> list[str | Path]:
    """The files and directories ``examples_from`` names, for the mock to load."""
    if examples_from is None:
        return []
    if isinstance(examples_from, str | Path):
        return [examples_from]
    return list(examples_from)


def _documents(examples_from: ExamplesFrom) -> list[tuple[str, Mapping[str, Any]]]:
    """Each scenario once (a file's name and stem point to the same one), by name."""
    paths = scenario_file_paths(examples_from)
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


def _missing_documents(output: Mapping[str, Any]) -> frozenset[str]:
    documents = output.get("documents", {})
    return frozenset(name for name, state in documents.items() if state == "missing")


def _lifecycle(name: str, document: Mapping[str, Any]) -> Lifecycle:
    timeline = tuple(
        Observation(float(entry["after_seconds"]), entry["status"], entry.get("progress"))
        for entry in document["timeline"]
    )
    output = document["outcome"].get("output")
    recorded_report = output is not None and "report" in output
    return Lifecycle(
        path=f"scenario file: {name}",
        analysis=_analysis(document),
        timeline=timeline,
        report=output.get("report") if output is not None and recorded_report else None,
        derive_report=not recorded_report,
        extra_fields=dict(document.get("extra_fields", {})),
        scenario_file=name,
        output_fields=None if output is None else tuple(output["fields"]),
        missing_documents=frozenset() if output is None else _missing_documents(output),
    )


def scenario_lifecycles(examples_from: ExamplesFrom) -> list[Lifecycle]:
    """The lifecycle of every scenario in ``examples_from`` (files or directories)."""
    return [_lifecycle(name, document) for name, document in _documents(examples_from)]


def scenario_workflow_plans(examples_from: ExamplesFrom) -> list[WorkflowPlan]:
    """A workflow plan for every completed scenario in ``examples_from``: each report the
    workflow creates replays it (a failed or unfinished one is a poller's example only)."""
    plans = []
    for name, document in _documents(examples_from):
        output = document["outcome"].get("output")
        if document["outcome"]["status"] != "completed" or output is None:
            continue
        plans.append(
            WorkflowPlan(
                ("completed",),
                scenario_file=name,
                missing_documents=_missing_documents(output),
            )
        )
    return plans


def _recorded_output(name: str, output: Mapping[str, Any]) -> dict[str, Any]:
    """The completed output as recorded: its fields in order, ``report`` only if seen."""
    served: dict[str, Any] = {
        "pdf_url": f"http://127.0.0.1/storage/reports/rpt_{name}.pdf?expires=1&signature=00",
        "docx_url": f"http://127.0.0.1/storage/reports/rpt_{name}.docx?expires=1&signature=00",
        **({"report": output["report"]} if "report" in output else {}),
        **output.get("extra_fields", {}),
    }
    return {field: served[field] for field in output["fields"] if field in served}


def scenario_consumer_reports(examples_from: ExamplesFrom) -> list[dict[str, Any]]:
    """A completed report's data for each completed scenario that recorded its report or
    showed none: its output as recorded (a ``report`` the recording did not show is absent,
    extra output fields present, in the recorded order)."""
    reports = []
    for name, document in _documents(examples_from):
        output = document["outcome"].get("output")
        if output is None or ("report" in output["fields"] and "report" not in output):
            continue  # not completed, or its report was not recorded (the mock derives one)
        last = document["timeline"][-1]
        reports.append(
            {
                "id": f"rpt_{name}",
                "case_id": document.get("recorded", {}).get("case_id", "case_contract"),
                "type": document.get("request", {}).get("type", "technical_report"),
                "status": "completed",
                "progress": last.get("progress"),
                "output": _recorded_output(name, output),
                "created_at": "2026-01-15T10:30:00Z",
                "updated_at": "2026-01-15T10:34:00Z",
                **document.get("extra_fields", {}),
            }
        )
    return reports
