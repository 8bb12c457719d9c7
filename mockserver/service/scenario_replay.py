"""Replaying scenario files: which recorded lifecycle a create asks for, and how a replayed
report's output and documents differ from an ordinary one's.

The files are loaded once, with the settings (``SCENARIO_FILES``, ``--scenario-file``); a
report replaying one is stored with its plan and the label ``file:NAME``, so every worker
that loaded the same files serves it alike.
"""

from __future__ import annotations

from typing import Any

from mockserver.core import messages
from mockserver.core.lifecycle import ReportRecord
from mockserver.core.recorded_scenario import (
    ReplayScenario,
    replay_name,
    shape_output,
)
from mockserver.service.state import NotFound, RequestRejected, ServiceState

__all__ = ["ScenarioReplay"]


class ScenarioReplay:
    """The scenario files a mock loaded, as the Reports API and the control API use them."""

    def __init__(self, state: ServiceState) -> None:
        self.library = state.settings.scenario_files

    def chosen(self, scenario_name: str | None) -> ReplayScenario | None:
        """The scenario file ``X-Mock-Scenario: file:NAME`` asks for; ``None`` for any other
        header; :class:`RequestRejected` listing the loaded ones for an unknown NAME."""
        name = replay_name(scenario_name)
        if name is None:
            return None
        found = self.library.find(name)
        if found is None:
            known = ", ".join(self.labels()) or messages.NO_SCENARIO_FILES
            raise RequestRejected(messages.UNKNOWN_SCENARIO_FILE.format(name=name, known=known))
        return found

    def labels(self) -> list[str]:
        """``file:NAME`` for every name a scenario file answers to."""
        return [f"file:{name}" for name in self.library.names()]

    def of(self, record: ReportRecord) -> ReplayScenario | None:
        """The scenario file a report replays, if it is loaded here."""
        name = replay_name(record.scenario)
        return None if name is None else self.library.find(name)

    def shaped(self, record: ReportRecord, output: dict[str, Any]) -> dict[str, Any]:
        """A completed report's output in the shape its recording showed."""
        scenario = self.of(record)
        if scenario is None or scenario.output is None:
            return output
        return shape_output(output, scenario.output)

    def check_document(self, record: ReportRecord, extension: str, filename: str) -> None:
        """:class:`NotFound` for a document whose download answered 404 in the recording."""
        scenario = self.of(record)
        output = None if scenario is None else scenario.output
        if scenario is not None and output is not None and extension in output.missing_documents:
            raise NotFound(
                messages.DOWNLOAD_MISSING_IN_RECORDING.format(filename=filename, name=scenario.name)
            )

    def listing(self) -> list[dict[str, Any]]:
        """The entries of ``GET /_mock/scenarios`` for the scenario files."""
        return [
            {
                "name": scenario.label,
                "description": f"{scenario.description} (from {scenario.source})",
                "outcome": scenario.listed_outcome,
            }
            for scenario in self.library.scenarios()
        ]
