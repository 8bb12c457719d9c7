"""What one run of a workflow on one plan produced: its requests, the reports it created,
what it saved, and how it ended."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from contract_tests.runs import StopReason
from contract_tests.workflow_model import Outcome, WorkflowPlan

__all__ = ["SavedFile", "WorkflowRequest", "WorkflowRun", "saved_files"]

RequestKind = Literal["create", "poll", "download", "other"]


@dataclass(frozen=True)
class WorkflowRequest:
    """A request the workflow made, ``at`` seconds after it started (kit hold-ups included)."""

    at: float
    method: str
    path: str
    status: int
    kind: RequestKind
    report_id: str | None = None  # created (create), polled (poll) or downloaded (download)
    case_id: str | None = None  # create: the case of the report created
    served_status: str | None = None  # create/poll: data.status as served
    message: str | None = None  # poll: progress.message as served
    document: str | None = None  # download: "pdf" or "docx"
    digest: str | None = None  # download answered 200: sha256 of the served bytes
    url_expires: float | None = None  # download: the URL's expiry, seconds after the start
    expired_when_sent: bool = False  # download: the URL had expired when the request came
    held_up: bool = False  # download: the kit held this request up before it was answered
    fault: str | None = None  # the injected fault's label, e.g. "503" or "drop"

    @property
    def spoiled(self) -> bool:
        """Whether an injected fault kept the client from the answer."""
        return self.fault is not None and not self.fault.startswith("latency")

    def describe(self) -> str:
        """One line, e.g. ``+5.0s GET /api/reports/rpt_1 -> 200 (processing)``."""
        shown = self.served_status or ""
        if self.kind == "poll" and self.served_status == "failed":
            shown = f"failed: {self.message!r}"
        if self.kind == "download":
            shown = "URL expired" if self.expired_when_sent else "URL valid when sent"
            if self.held_up:
                shown += ", held up by the kit before the server read it"
        if self.fault:
            shown += f", injected fault {self.fault}"
        return f"  +{self.at:.1f}s {self.method} {self.path} -> {self.status}" + (
            f" ({shown})" if shown else ""
        )


@dataclass(frozen=True)
class SavedFile:
    """A file the workflow left in its output directory."""

    name: str
    digest: str
    head: bytes


def saved_files(directory: Path) -> list[SavedFile]:
    """Every file under ``directory``, with the sha256 and first bytes of its content."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        content = path.read_bytes()
        found.append(
            SavedFile(
                str(path.relative_to(directory)), hashlib.sha256(content).hexdigest(), content[:8]
            )
        )
    return found


@dataclass
class WorkflowRun:
    """What happened when the workflow was run on one plan."""

    plan: WorkflowPlan
    case_id: str
    requests: list[WorkflowRequest] = field(default_factory=list)
    report_ids: list[str] = field(default_factory=list)
    saved: list[SavedFile] = field(default_factory=list)
    #: When the kit held the client up around its first download, and for how long.
    held_up_at: float | None = None
    returned: Any = None
    did_return: bool = False
    raised: BaseException | None = None
    stopped: StopReason | None = None
    ended_at: float = 0.0
    last_event: str = "start"

    def outcome_of(self, report_id: str) -> Outcome | None:
        """How the kit's plan ends this report (None: not one the workflow created)."""
        if report_id not in self.report_ids:
            return None
        return self.plan.outcome_of(self.report_ids.index(report_id))

    def of_kind(self, kind: RequestKind) -> list[WorkflowRequest]:
        """The requests of one kind, in order."""
        return [r for r in self.requests if r.kind == kind]

    def first_failure_seen(self, report_id: str) -> WorkflowRequest | None:
        """The first poll that showed ``report_id`` failed, if any."""
        return next(
            (
                r
                for r in self.of_kind("poll")
                if r.report_id == report_id and r.served_status == "failed" and not r.spoiled
            ),
            None,
        )

    def completed_seen(self, report_id: str) -> bool:
        """Whether a poll showed ``report_id`` completed."""
        return any(
            r.report_id == report_id and r.served_status == "completed" and not r.spoiled
            for r in self.of_kind("poll")
        )

    def served_digests(self, report_id: str, document: str) -> set[str]:
        """The sha256 of every copy of a document the mock served in full for a report."""
        return {
            r.digest
            for r in self.of_kind("download")
            if r.report_id == report_id and r.document == document and r.digest and not r.fault
        }

    def outcome_text(self) -> str:
        """How the workflow ended, in words."""
        if self.did_return:
            return f"returned {type(self.returned).__name__}"
        if self.stopped:
            return f"was stopped by the kit: {self.stopped}"
        return f"raised {type(self.raised).__name__}: {str(self.raised)[:160]}"

    def describe_example(self) -> str:
        """The plan the workflow was run on."""
        return self.plan.describe()

    def describe_requests(self, limit: int = 40) -> str:
        """The requests as lines (long runs of polls folded), then how the workflow ended."""
        lines: list[str] = []
        shown: list[WorkflowRequest] = []
        folded = 0
        last_status: dict[str | None, str | None] = {}
        for request in self.requests:
            repeated = request.kind == "poll" and not request.fault
            repeated = repeated and last_status.get(request.report_id) == request.served_status
            if repeated:
                folded += 1  # a poll that saw what the previous one saw
                continue
            last_status[request.report_id] = request.served_status
            shown.append(request)
        if folded:
            lines.append(f"  ({folded} polls that repeat the status before them not shown)")
        if len(shown) > limit:
            lines.append(f"  ({len(shown) - limit} more requests after the first {limit})")
            shown = shown[:limit]
        lines += [request.describe() for request in shown]
        if self.held_up_at is not None:
            lines.append(
                f"  (the kit held the client up {self.plan.download_delay:g}s at +{self.held_up_at:.1f}s)"
            )
        if self.saved:
            lines.append(
                "  saved: " + ", ".join(f"{f.name} ({f.head[:4]!r}...)" for f in self.saved)
            )
        lines.append(f"  the workflow {self.outcome_text()} after {self.ended_at:.1f}s")
        return "\n".join(lines)
