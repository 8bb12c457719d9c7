"""The drift report of ``python -m contract_tests verify``: what a live deployment does that
the documented contract (docs/api-contract.md, ``schemas/``) and so the mock do not.

A :class:`Drift` names the check it broke, where (the request), what differs and the
response that shows it, already shortened and with the API key masked. A
:class:`DriftReport` gathers them with the checks that ran; it prints as text and writes as
JSON. Pure: no I/O beyond :meth:`DriftReport.write_json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = ["EVIDENCE_LIMIT", "Drift", "DriftReport", "mask_key", "shorten"]

#: Characters of a response kept as evidence; a whole completed report would drown the point.
EVIDENCE_LIMIT = 600


def mask_key(key: str) -> str:
    """How a key is shown anywhere: its ``sk-`` prefix at most, never a character more."""
    return "sk-***" if key.startswith("sk-") else "***"


def shorten(text: str, limit: int = EVIDENCE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... ({len(text) - limit} more characters)"


@dataclass(frozen=True)
class Drift:
    """One difference between the deployment and the contract.

    ``check`` is the name of the check (``status_order``, ``schema``, ...); ``where`` the
    request that showed it (``GET /api/reports/rpt_1 (poll 3)``); ``what`` the difference in
    words; ``evidence`` the response (status and body, shortened, key masked).
    """

    check: str
    where: str
    what: str
    evidence: str = ""
    occurrences: int = 1


@dataclass
class DriftReport:
    """Everything one verification found, and what it checked."""

    base_url: str
    api_key: str  # masked: a DriftReport never holds the key itself
    report_id: str | None = None
    final_status: str | None = None
    checks_run: list[str] = field(default_factory=list)
    drifts: list[Drift] = field(default_factory=list)
    observed_statuses: list[str] = field(default_factory=list)
    observed_messages: list[str] = field(default_factory=list)
    #: What happened that is not drift (a transient 503 on a poll, retried).
    notes: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        """Whether anything differs from the contract."""
        return bool(self.drifts)

    def ran(self, check: str) -> None:
        """Record that ``check`` ran (once, in the order first run)."""
        if check not in self.checks_run:
            self.checks_run.append(check)

    def add(self, check: str, where: str, what: str, evidence: str = "") -> None:
        """Record a drift found by ``check``; the same difference seen again (on a later poll)
        only counts an occurrence of the first, which keeps its evidence."""
        self.ran(check)
        for index, drift in enumerate(self.drifts):
            if (drift.check, drift.what) == (check, what):
                self.drifts[index] = replace(drift, occurrences=drift.occurrences + 1)
                return
        self.drifts.append(Drift(check, where, what, shorten(evidence)))

    def drifted_checks(self) -> list[str]:
        """The names of the checks that found a drift, each once, in order."""
        return list(dict.fromkeys(drift.check for drift in self.drifts))

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``--json`` writes)."""
        return {
            "base_url": self.base_url,
            "api_key": self.api_key,
            "drifted": self.drifted,
            "report_id": self.report_id,
            "final_status": self.final_status,
            "observed_statuses": list(self.observed_statuses),
            "observed_messages": list(self.observed_messages),
            "checks_run": list(self.checks_run),
            "drifted_checks": self.drifted_checks(),
            "drifts": [asdict(drift) for drift in self.drifts],
            "notes": list(self.notes),
        }

    def scrub(self, clean: Callable[[str], str]) -> None:
        """Pass every text a server sent (evidence, messages, notes) through ``clean``."""
        self.drifts = [
            replace(
                drift,
                what=clean(drift.what),
                where=clean(drift.where),
                evidence=clean(drift.evidence),
            )
            for drift in self.drifts
        ]
        self.observed_messages = [clean(message) for message in self.observed_messages]
        self.notes = [clean(note) for note in self.notes]

    def write_json(self, path: Path) -> None:
        """Write :meth:`as_dict` to ``path`` (UTF-8, indented)."""
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")

    def render(self) -> str:
        """The report as text for a terminal."""
        lines = [
            f"Provider verification of {self.base_url} (key {self.api_key})",
            f"report: {self.report_id or '(none created)'}"
            + (f", ended {self.final_status}" if self.final_status else ""),
            f"statuses seen: {' -> '.join(self.observed_statuses) or '(none)'}",
            f"checks run: {len(self.checks_run)} ({', '.join(self.checks_run)})",
            *(f"note: {note}" for note in self.notes),
        ]
        if not self.drifts:
            lines.append("NO DRIFT: every response matched the documented contract.")
            return "\n".join(lines)
        lines.append(
            f"DRIFT: {len(self.drifts)} difference{'s' if len(self.drifts) != 1 else ''}"
            f" from the documented contract, in {', '.join(self.drifted_checks())}"
        )
        for number, drift in enumerate(self.drifts, 1):
            seen = f" (seen {drift.occurrences} times)" if drift.occurrences > 1 else ""
            lines.append(f"{number}. [{drift.check}] {drift.where}{seen}")
            lines.append(f"   {drift.what}")
            if drift.evidence:
                lines.append(f"   response: {drift.evidence}")
        return "\n".join(lines)
