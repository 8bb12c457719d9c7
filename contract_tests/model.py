"""What the kit generates: a lifecycle the mock will serve, and what the contract expects.

Pure data, shared by the strategies, the harness and the checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DOCUMENTED_TIMEOUTS",
    "FAULT_KINDS",
    "GIVE_UP_LIMIT_SECONDS",
    "RATE_LIMIT_RETRY_AFTER_RANGE",
    "REPLAY_HEADER",
    "TIMEOUT_MARGIN_SECONDS",
    "Analysis",
    "InjectedFault",
    "Lifecycle",
    "Observation",
]

Analysis = Literal["accident_only", "biomechanics", "demo"]

#: Documented client timeouts (polling guide, "Timeout Guidelines").
DOCUMENTED_TIMEOUTS: dict[str, float] = {
    "accident_only": 300.0,
    "biomechanics": 600.0,
    "demo": 120.0,
}
#: The mock's header that makes a new report replay a loaded scenario file (``file:NAME``).
REPLAY_HEADER = "X-Mock-Scenario"
#: Slack the rules allow around the documented timeouts.
TIMEOUT_MARGIN_SECONDS = 30.0
#: A client that polls longer than this is "polling for ever".
GIVE_UP_LIMIT_SECONDS = 3600.0

#: Every ``Retry-After`` the documented rate limit (100 requests a minute, per key) can send:
#: whole seconds until the window reopens, at least 1 (mockserver/rate_limit.py).
RATE_LIMIT_RETRY_AFTER_RANGE = (1, 60)

TERMINAL = frozenset({"completed", "failed", "cancelled"})

#: Transient faults of the strict profile: server errors, rate limiting, a dropped connection,
#: a slow answer, and a truncated or non-JSON body.
FAULT_KINDS = ("503", "500", "502", "429", "drop", "latency", "truncate", "non_json")


@dataclass(frozen=True)
class InjectedFault:
    """The ``poll``-th GET of the report meets ``kind`` (the mock's fault injection)."""

    poll: int
    kind: str
    retry_after: int | None = None

    def rule(self) -> dict[str, Any]:
        """The mock's JSON fault rule (``PUT /_mock/faults``)."""
        rule: dict[str, Any] = {"fault": self.kind, "polls": [self.poll]}
        if self.kind == "429":
            rule["retry_after"] = self.retry_after or 5
        if self.kind == "latency":
            rule["ms"] = 150
        return rule

    def describe(self) -> str:
        """E.g. ``poll 3: 429 with Retry-After: 20``."""
        extra = f" with Retry-After: {self.retry_after or 5}" if self.kind == "429" else ""
        extra = " (a 150 ms answer)" if self.kind == "latency" else extra
        return f"poll {self.poll}: {self.kind}{extra}"


@dataclass(frozen=True)
class Observation:
    """From ``after_seconds`` after creation on, GET answers ``status`` with ``progress``."""

    after_seconds: float
    status: str
    progress: Mapping[str, Any] | None

    def describe(self) -> str:
        """One line, e.g. ``+10s processing delta_v_calculation "Starting analysis..."``."""
        if self.progress is None:
            shown = "progress=null"
        else:
            step = self.progress.get("current_step", "-")
            message = self.progress.get("message")
            extras = sorted(set(self.progress) - {"current_step", "steps_completed", "message"})
            shown = f"{step} " + (repr(message) if message is not None else "(no message)")
            if "steps_completed" not in self.progress:
                shown += " (no steps_completed)"
            if extras:
                shown += f" +extra {extras}"
        return f"+{self.after_seconds:g}s {self.status} {shown}"


@dataclass(frozen=True)
class Lifecycle:
    """One generated path. ``path`` names its family for the coverage table.

    ``scenario_file`` names a scenario file the mock loaded (``--examples-from``): the report
    is then created through ``POST /api/reports`` with ``X-Mock-Scenario: file:NAME`` and the
    mock replays the file as recorded, the completed output in its recorded shape included
    (``output_fields``, in order: ``report`` may be absent, extra fields present) and a 404
    for each of ``missing_documents``. ``timeline``, ``report`` and ``extra_fields`` then
    describe what it serves, for the rules and for people.
    """

    path: str
    analysis: Analysis
    timeline: tuple[Observation, ...]
    report: Mapping[str, Any] | None = None
    derive_report: bool = True
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    faults: tuple[InjectedFault, ...] = ()
    scenario_file: str | None = None
    output_fields: tuple[str, ...] | None = None
    missing_documents: frozenset[str] = frozenset()

    @property
    def not_found(self) -> bool:
        """The id the client gets does not exist (GET answers ``data: null``)."""
        return not self.timeline

    @property
    def terminal(self) -> Observation | None:
        """The terminal observation, or ``None`` for a report that never finishes."""
        return next((o for o in self.timeline if o.status in TERMINAL), None)

    @property
    def documented_timeout(self) -> float:
        """The polling guide's timeout for this kind of report."""
        return DOCUMENTED_TIMEOUTS[self.analysis]

    def observation_at(self, elapsed: float) -> Observation | None:
        """What GET answers ``elapsed`` seconds after creation (``None``: not found)."""
        current = None
        for observation in self.timeline:
            if observation.after_seconds > elapsed:
                break
            current = observation
            if observation.status in TERMINAL:
                break
        return current

    def script(self, *, api_key: str, case_id: str) -> dict[str, Any]:
        """The body of ``POST /_mock/reports`` that makes the mock serve this lifecycle."""
        body: dict[str, Any] = {
            "api_key": api_key,
            "case_id": case_id,
            "timeline": [
                {
                    "after_seconds": o.after_seconds,
                    "status": o.status,
                    "progress": None if o.progress is None else dict(o.progress),
                }
                for o in self.timeline
            ],
        }
        if not self.derive_report:
            body["report"] = None if self.report is None else dict(self.report)
        if self.extra_fields:
            body["extra_fields"] = dict(self.extra_fields)
        return body

    def replay_request(
        self, *, api_key: str, case_id: str
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """The headers and body of the ``POST /api/reports`` that makes the mock replay this
        lifecycle's scenario file (only for a ``scenario_file`` lifecycle)."""
        if self.scenario_file is None:
            raise ValueError(f"{self.path} replays no scenario file: script it instead")
        headers = {"X-API-Key": api_key, REPLAY_HEADER: f"file:{self.scenario_file}"}
        return headers, {"case_id": case_id, "type": "technical_report"}

    def _describe_output(self) -> list[str]:
        if self.derive_report:
            content = "output.report: the mock's own structured report"
        elif self.report is None:
            content = "output.report: null"
        else:
            types = [s.get("type") for s in self.report.get("sections", [])]
            content = f"output.report sections: {types}"
        if self.output_fields is None:
            return [content]
        lines = [f"output fields as recorded, in order: {list(self.output_fields)}"]
        if "report" in self.output_fields:
            lines.append(content)
        for document in sorted(self.missing_documents):
            lines.append(f"the {document.upper()} download answers 404, as recorded")
        return lines

    def describe(self) -> str:
        """A readable multi-line account, for failure reports."""
        if self.not_found:
            return '  unknown report id: GET answers {"success": true, "data": null}'
        lines = [
            f"  {self.path} ({self.analysis}; documented timeout {self.documented_timeout:g}s)"
        ]
        lines += [f"    {observation.describe()}" for observation in self.timeline]
        if self.terminal is None:
            lines.append("    (never reaches a terminal status)")
        if self.terminal is not None and self.terminal.status == "completed":
            lines += [f"    {line}" for line in self._describe_output()]
        if self.extra_fields:
            lines.append(f"    unknown extra fields on the report: {sorted(self.extra_fields)}")
        lines += [f"    injected fault on {fault.describe()}" for fault in self.faults]
        return "\n".join(lines)
