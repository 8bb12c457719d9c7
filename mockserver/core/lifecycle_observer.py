"""What was seen of one report, written as a scenario file (``schemas/scenario-file.json``).

The recording proxy (``mockserver record``) and the journal's export (``GET
/_mock/requests?format=scenario``) both feed an :class:`ObservedLifecycle` the states they saw
(seconds after creation, status, progress), the completed output, the downloads and a client's
cancel, and both write its :meth:`~ObservedLifecycle.document`: one format, one writer.

Pure: no Flask, no I/O; times and documents come in from the caller.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["DOCUMENTED_OUTPUT_FIELDS", "SCENARIO_FORMAT", "ObservedLifecycle", "Timing"]

SCENARIO_FORMAT = 1
DOCUMENTED_OUTPUT_FIELDS = ("pdf_url", "docx_url", "report")
_TERMINAL = frozenset({"completed", "failed", "cancelled"})
#: Fields of the report object the API documents; any other is an extra field.
_DOCUMENTED_REPORT_FIELDS = frozenset(
    {"id", "case_id", "type", "status", "progress", "output", "created_at", "updated_at"}
)

Timing = Literal["server", "proxy"]


@dataclass
class ObservedLifecycle:
    """One report as it was observed, from its creation on."""

    name: str
    report_id: str
    case_id: str | None
    source: str  # the upstream URL, or "journal"
    timing: Timing = "server"
    request: dict[str, Any] | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    extra_fields: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] | None = None
    documents: dict[str, str] = field(default_factory=dict)
    cancel_requested: bool = False
    requests: int = 0
    first_seen_after: float | None = None  # set when the creation itself was not seen

    @property
    def terminal(self) -> str | None:
        """The terminal status seen, or ``None``."""
        last = self.timeline[-1]["status"] if self.timeline else None
        return last if last in _TERMINAL else None

    def saw_request(self, report_type: str | None, options: Mapping[str, Any] | None) -> None:
        """The create request's type and documented options."""
        request: dict[str, Any] = {}
        if isinstance(report_type, str) and report_type:
            request["type"] = report_type
        kept = {
            key: value
            for key, value in (options or {}).items()
            if key in ("use_demo_data", "include_biomechanics") and isinstance(value, bool)
        }
        if kept:
            request["options"] = kept
        self.request = request

    def saw_report(
        self, report: Mapping[str, Any], after_seconds: float, *, counted: bool = True
    ) -> bool:
        """A report object (wire JSON) seen ``after_seconds`` after creation; whether the
        scenario changed. States after a terminal one are ignored (the API never shows any).
        ``counted``: one of ``recorded.requests`` (not for a state known without a request)."""
        self.requests += counted
        if self.terminal is not None:
            return False
        extras = {k: v for k, v in report.items() if k not in _DOCUMENTED_REPORT_FIELDS}
        changed = extras != {k: self.extra_fields.get(k) for k in extras}
        self.extra_fields.update(copy.deepcopy(extras))
        status, progress = report.get("status"), report.get("progress")
        if not isinstance(status, str):
            return changed
        if self.timeline and [status, progress] == [
            self.timeline[-1]["status"],
            self.timeline[-1].get("progress"),
        ]:
            return changed
        if not self.timeline:
            if after_seconds > 0:
                self.first_seen_after = after_seconds
            after_seconds = 0.0  # the first state seen stands for the creation
        else:
            after_seconds = max(after_seconds, self.timeline[-1]["after_seconds"])
        self.timeline.append(
            {
                "after_seconds": _seconds(after_seconds),
                "status": status,
                "progress": copy.deepcopy(progress),
            }
        )
        output = report.get("output")
        if status == "completed" and isinstance(output, Mapping):
            self.output = copy.deepcopy(dict(output))
        return True

    def saw_document(self, kind: str, available: bool) -> bool:
        """A download of the ``pdf`` or ``docx`` that answered (``available``) or 404; whether
        the scenario changed. Once a document downloaded it stays available."""
        state = "available" if available else "missing"
        if self.documents.get(kind) in (state, "available"):
            return False
        self.documents[kind] = state
        return True

    def saw_cancel(self) -> None:
        """The client asked to cancel it (``DELETE`` answered 200)."""
        self.cancel_requested = True

    def _outcome(self) -> dict[str, Any]:
        last = self.timeline[-1]
        status = self.terminal
        if status is None:
            return {"status": "unfinished"}
        if status == "failed":
            progress = last.get("progress")
            message = progress.get("message") if isinstance(progress, dict) else None
            return {"status": "failed", "error": message if isinstance(message, str) else None}
        if status == "cancelled":
            return {
                "status": "cancelled",
                "cancelled_by": "client" if self.cancel_requested else "service",
            }
        output = self.output or {}
        shape: dict[str, Any] = {"fields": list(output)}
        if "report" in output:
            shape["report"] = output["report"]
        extras = {k: v for k, v in output.items() if k not in DOCUMENTED_OUTPUT_FIELDS}
        if extras:
            shape["extra_fields"] = extras
        shape["documents"] = {
            kind: self.documents.get(kind, "unchecked") for kind in ("pdf", "docx")
        }
        return {"status": "completed", "output": shape}

    def summary(self) -> str:
        """One line: each state and when it began."""
        parts = []
        for entry in self.timeline:
            progress = entry.get("progress")
            step = progress.get("current_step") if isinstance(progress, dict) else None
            shown = f"{entry['status']}" + (f" ({step})" if step else "")
            parts.append(f"{shown} at {entry['after_seconds']:g}s")
        outcome = self._outcome()
        if outcome["status"] == "failed" and outcome["error"]:
            parts[-1] += f": {outcome['error']}"
        return ", ".join(parts) + ("" if self.terminal else ", then nothing more")

    def document(self, recorded_at: str) -> dict[str, Any]:
        """The scenario file (at least one state must have been seen)."""
        if not self.timeline:
            raise ValueError(f"no state of {self.report_id} was seen: nothing to write")
        seen_from = "the journal of the mock" if self.source == "journal" else self.source
        description = f"{self.report_id} as seen through {seen_from}: {self.summary()}"
        if self.first_seen_after is not None:
            description += (
                f" (first seen {self.first_seen_after:g}s after its creation; that state is "
                "replayed from the creation on)"
            )
        recorded: dict[str, Any] = {
            "from": self.source,
            "at": recorded_at,
            "report_id": self.report_id,
            "timing": self.timing,
            "requests": self.requests,
        }
        if self.case_id:
            recorded["case_id"] = self.case_id
        document: dict[str, Any] = {
            "scenario_format": SCENARIO_FORMAT,
            "name": self.name,
            "description": description,
            "recorded": recorded,
        }
        if self.request:
            document["request"] = self.request
        document["timeline"] = self.timeline
        if self.extra_fields:
            document["extra_fields"] = self.extra_fields
        document["outcome"] = self._outcome()
        return document


def _seconds(value: float) -> float | int:
    rounded = round(value, 3)
    return int(rounded) if float(rounded).is_integer() else rounded
