"""What a workflow check generates: a plan for the reports a workflow creates, and its downloads.

A workflow (``fn(case_id, *, base_url, api_key, output_dir)``) creates a report, waits for it,
retries as the polling guide's "Should You Retry?" prescribes, and saves the PDF and the DOCX.
A :class:`WorkflowPlan` says how each successive report of the case ends (the mock's named
scenario for it), how long the client is held up around its first download (so that signed
URLs expire, past an hour included), and, under ``--strict``, which transient fault the first
download meets.

Pure data, shared by the strategies, the workflow harness and the workflow rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DELAY_PLACEMENTS",
    "DOWNLOAD_FAULTS",
    "INTERNAL_ERROR_WAIT_SECONDS",
    "MAX_RETRYABLE_FAILURES",
    "NOT_RETRIED",
    "OUTCOMES",
    "RETRYABLE",
    "SCENARIO_OF",
    "URL_LIFETIME_SECONDS",
    "DelayPlacement",
    "Outcome",
    "WorkflowPlan",
]

Outcome = Literal["completed", "image_quality", "biomechanics", "timeout", "internal_error"]
OUTCOMES: tuple[Outcome, ...] = (
    "completed",
    "image_quality",
    "biomechanics",
    "timeout",
    "internal_error",
)
#: The mock's named scenario (``X-Mock-Scenario``) that ends a report with each outcome.
SCENARIO_OF: Mapping[Outcome, str] = {
    "completed": "happy",
    "image_quality": "fail_delta_v",
    "biomechanics": "fail_biomechanics",
    "timeout": "fail_timeout",
    "internal_error": "fail_internal",
}
#: "Should You Retry?": a timeout and an internal error are retried with a new report.
RETRYABLE: frozenset[Outcome] = frozenset({"timeout", "internal_error"})
#: ... image quality and biomechanics failures are not (new photos, occupant data first).
NOT_RETRIED: frozenset[Outcome] = frozenset({"image_quality", "biomechanics"})
#: A plan has at most this many retryable failures before its last report: a workflow is
#: expected to retry at least this often (the guide gives no number; two is the kit's floor).
MAX_RETRYABLE_FAILURES = 2
#: "Wait a minute, then retry": what the kit accepts as about a minute.
INTERNAL_ERROR_WAIT_SECONDS = 55.0
#: Signed download URLs expire one hour after the GET that minted them.
URL_LIFETIME_SECONDS = 3600.0

DelayPlacement = Literal["between_documents", "in_flight"]
#: ``between_documents``: the client is held up after its first document arrived, so the
#: other URL of that GET may have expired before it is used. ``in_flight``: the first
#: download is held up before the server reads its URL, so a URL that was fresh when sent
#: has expired when checked (a 403 the client must answer with a new GET).
DELAY_PLACEMENTS: tuple[DelayPlacement, ...] = ("between_documents", "in_flight")
#: Transient faults a download may meet under ``--strict`` (the mock's fault injection).
DOWNLOAD_FAULTS = ("503", "500", "502", "drop", "truncate")

_LABELS: Mapping[Outcome, str] = {
    "completed": "completed",
    "image_quality": "image-quality failure",
    "biomechanics": "biomechanics failure",
    "timeout": "timeout",
    "internal_error": "internal error",
}


@dataclass(frozen=True)
class WorkflowPlan:
    """How each successive report of the case ends; what happens around the first download.

    ``outcomes[i]`` is the end of the (i+1)-th report the workflow creates; any report past
    the last one ends like the last one (photos that failed stay failed).
    """

    outcomes: tuple[Outcome, ...]
    download_delay: float = 0.0
    delay_placement: DelayPlacement = "between_documents"
    download_fault: str | None = None
    #: A completed scenario file (``--examples-from``) every report replays instead of a
    #: named scenario, and the documents whose download it recorded as a 404.
    scenario_file: str | None = None
    missing_documents: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.outcomes:
            raise ValueError("a workflow plan needs at least one outcome")
        if self.scenario_file is not None and self.outcomes != ("completed",):
            raise ValueError("a plan replaying a scenario file has the one outcome completed")
        if any(o not in RETRYABLE for o in self.outcomes[:-1]):
            raise ValueError("only retryable failures may come before a plan's last outcome")

    def outcome_of(self, index: int) -> Outcome:
        """The outcome of the report created ``index``-th (0: the first)."""
        return self.outcomes[min(index, len(self.outcomes) - 1)]

    @property
    def final(self) -> Outcome:
        """How the last planned report ends."""
        return self.outcomes[-1]

    def scenario_of(self, index: int) -> str:
        """The mock's ``X-Mock-Scenario`` for the report created ``index``-th."""
        if self.scenario_file is not None:
            return f"file:{self.scenario_file}"
        return SCENARIO_OF[self.outcome_of(index)]

    @property
    def path(self) -> str:
        """The plan's family for the coverage table, e.g. ``timeout -> internal error -> completed``."""
        if self.scenario_file is not None:
            return f"scenario file: {self.scenario_file}"
        return " -> ".join(_LABELS[o] for o in self.outcomes)

    @property
    def urls_expire(self) -> bool:
        """Whether the hold-up outlasts a signed URL."""
        return self.final == "completed" and self.download_delay >= URL_LIFETIME_SECONDS

    def download_path(self) -> str | None:
        """The download family for the coverage table (None: nothing is downloaded)."""
        if self.final != "completed":
            return None
        if self.missing_documents:
            return "download: a document answers 404, as recorded"
        if not self.download_delay:
            return "download: on time"
        hold = "URLs expire" if self.urls_expire else "URLs still valid"
        where = "between documents" if self.delay_placement == "between_documents" else "in flight"
        return f"download: held up {where}, {hold}"

    def describe(self) -> str:
        """A readable multi-line account, for failure reports."""
        lines = [f"  {self.path}"]
        for number, outcome in enumerate(self.outcomes, start=1):
            more = " (and every later report)" if number == len(self.outcomes) else ""
            lines.append(
                f"    report {number}{more}: {_LABELS[outcome]} (scenario {self.scenario_of(number - 1)})"
            )
        for document in sorted(self.missing_documents):
            lines.append(f"    its {document.upper()} download answers 404, as recorded")
        if self.final == "completed" and self.download_delay:
            where = (
                "after its first document arrived"
                if self.delay_placement == "between_documents"
                else "while its first download is in flight"
            )
            lines.append(f"    the client is held up {self.download_delay:g}s {where}")
        if self.final == "completed" and self.download_fault:
            lines.append(f"    the first download meets the injected fault {self.download_fault}")
        return "\n".join(lines)
