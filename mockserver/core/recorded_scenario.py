"""Recorded scenarios: a report's observed lifecycle, replayed on the virtual clock.

A scenario file (``schemas/scenario-file.json``, checked by ``schemas.scenario_files``) becomes
a :class:`ReplayScenario`: the plan of phases the mock serves from the file's timeline, and the
shape of the completed output (its fields in order, the structured report verbatim, extra
fields, documents that answered 404). A report created with ``X-Mock-Scenario: file:NAME`` is
stored with that plan and the scenario label ``file:NAME``; everything else about it is an
ordinary report.

Pure: no Flask, no I/O; the documents come in already read and checked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.core.lifecycle import Phase

__all__ = [
    "REPLAY_PREFIX",
    "ReplayLibrary",
    "ReplayScenario",
    "ReplayedOutput",
    "replay_name",
    "replay_scenario",
    "shape_output",
]

#: ``X-Mock-Scenario: file:NAME`` replays the scenario file NAME.
REPLAY_PREFIX = "file:"


def replay_name(scenario: str | None) -> str | None:
    """NAME of a ``file:NAME`` scenario label, else ``None``."""
    if scenario is None or not scenario.startswith(REPLAY_PREFIX):
        return None
    return scenario[len(REPLAY_PREFIX) :]


@dataclass(frozen=True)
class ReplayedOutput:
    """The completed output as it was observed."""

    fields: tuple[str, ...]  # in the order seen; "report" may be absent
    report_json: str | None  # the structured report's JSON text; None: the mock derives one
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    missing_documents: frozenset[str] = frozenset()  # "pdf", "docx": their download is a 404


@dataclass(frozen=True)
class ReplayScenario:
    """One scenario file, ready to plan reports with."""

    name: str
    description: str
    outcome: str  # completed, failed, cancelled or unfinished
    plan: tuple[Phase, ...]
    extra_fields: Mapping[str, Any] | None
    output: ReplayedOutput | None
    source: str

    @property
    def label(self) -> str:
        """The scenario of its reports, as the journal and ``X-Mock-Scenario`` write it."""
        return REPLAY_PREFIX + self.name

    @property
    def scripted_report(self) -> str | None:
        """The JSON text of the completed report's ``output.report``; ``None``: derived."""
        return None if self.output is None else self.output.report_json

    @property
    def listed_outcome(self) -> str:
        """Its outcome in ``GET /_mock/scenarios`` terms (``never`` for unfinished)."""
        return "never" if self.outcome == "unfinished" else self.outcome


@dataclass(frozen=True)
class ReplayLibrary:
    """Every loaded scenario file by each name it answers to (its name, its file's stem)."""

    by_name: Mapping[str, ReplayScenario] = field(default_factory=dict)

    def find(self, name: str) -> ReplayScenario | None:
        """The scenario called ``name``, or ``None``."""
        return self.by_name.get(name)

    def scenarios(self) -> list[ReplayScenario]:
        """Each scenario once, by name."""
        unique = {scenario.name: scenario for scenario in self.by_name.values()}
        return [unique[name] for name in sorted(unique)]

    def names(self) -> list[str]:
        """Every name a ``file:`` header may use, sorted."""
        return sorted(self.by_name)


def _output(document: Mapping[str, Any]) -> ReplayedOutput:
    documents = document.get("documents", {})
    return ReplayedOutput(
        fields=tuple(document["fields"]),
        report_json=json.dumps(document["report"]) if "report" in document else None,
        extra_fields=dict(document.get("extra_fields", {})),
        missing_documents=frozenset(k for k, state in documents.items() if state == "missing"),
    )


def _description(document: Mapping[str, Any]) -> str:
    if document.get("description"):
        return str(document["description"])
    outcome = document["outcome"]["status"]
    steps = len(document["timeline"])
    return f"recorded lifecycle: {steps} state{'s' if steps != 1 else ''}, {outcome}"


def replay_scenario(name: str, document: Mapping[str, Any], source: str) -> ReplayScenario:
    """The scenario of a checked scenario document (``schemas.scenario_files``)."""
    plan = tuple(
        Phase(float(entry["after_seconds"]), entry["status"], entry.get("progress"))
        for entry in document["timeline"]
    )
    outcome = document["outcome"]
    return ReplayScenario(
        name=name,
        description=_description(document),
        outcome=outcome["status"],
        plan=plan,
        extra_fields=dict(document["extra_fields"]) if document.get("extra_fields") else None,
        output=_output(outcome["output"]) if "output" in outcome else None,
        source=source,
    )


def shape_output(output: Mapping[str, Any], shape: ReplayedOutput) -> dict[str, Any]:
    """The mock's completed ``output`` in the recorded shape: the recorded fields in their
    order (a ``report`` not seen is left out), extra fields with their recorded values."""
    shaped: dict[str, Any] = {}
    for name in shape.fields:
        if name in shape.extra_fields:
            shaped[name] = shape.extra_fields[name]
        elif name in output:
            shaped[name] = output[name]
    return shaped
