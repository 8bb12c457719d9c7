"""The contract rules, one check each, in a registry (as Schemathesis keeps its checks).

A check looks at a :class:`~contract_tests.runs.ClientRun` (or, for consumers, at the
report data and what the consumer raised) and returns a :class:`Finding` when the rule is
broken. Each rule cites the documentation it comes from.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from contract_tests.errors import RuleViolation
from contract_tests.harness import MIN_POLL_GAP_SECONDS
from contract_tests.model import (
    GIVE_UP_LIMIT_SECONDS,
    TERMINAL,
    TIMEOUT_MARGIN_SECONDS,
    Observation,
)
from contract_tests.runs import ClientRun

__all__ = [
    "CONSUMER_RULES",
    "RULES",
    "WORKFLOW_RULES",
    "AppliesTo",
    "Finding",
    "Profile",
    "Rule",
    "rule",
]

Profile = Literal["documented", "strict"]
#: What a rule judges: a poller's run, a consumer's answer, or a whole workflow's run (its
#: rules live in :mod:`contract_tests.workflow_checks`).
AppliesTo = Literal["client", "consumer", "workflow"]

MAX_POLL_GAP_SECONDS = 60.0
#: What a client's timer may overshoot its length by (millisecond timers round up).
TIMER_ROUNDING_SECONDS = 0.5

GUIDE = "Polling Best Practices"
REFERENCE = "Get Report reference"


@dataclass(frozen=True)
class Finding:
    """How a rule was broken: what the client did, and what the contract asks."""

    received: str
    expected: str


@dataclass(frozen=True)
class Rule:
    """A named contract rule and its check."""

    name: str
    title: str
    source: str
    applies_to: AppliesTo
    check: Callable[..., Finding | None]
    violation: type[RuleViolation]
    profile: Profile = "documented"

    def enforce(self, *arguments: Any) -> None:
        """Raise this rule's :class:`RuleViolation` subclass when the check finds a breach."""
        finding = self.check(*arguments)
        if finding is not None:
            raise self.violation(
                self.title, received=finding.received, expected=finding.expected, source=self.source
            )


RULES: dict[str, Rule] = {}
CONSUMER_RULES: dict[str, Rule] = {}
WORKFLOW_RULES: dict[str, Rule] = {}
_REGISTRIES = {"client": RULES, "consumer": CONSUMER_RULES, "workflow": WORKFLOW_RULES}


def rule(
    name: str,
    *,
    title: str,
    source: str,
    applies_to: AppliesTo = "client",
    profile: Profile = "documented",
) -> Callable[[Callable[..., Finding | None]], Callable[..., Finding | None]]:
    """Register a check under ``name``; each rule gets its own violation type.

    ``profile="strict"`` rules run only with ``--strict`` (the resilience profile).
    """

    def register(check: Callable[..., Finding | None]) -> Callable[..., Finding | None]:
        violation = type(
            f"{name.title().replace('_', '')}Violation", (RuleViolation,), {"rule": name}
        )
        registry = _REGISTRIES[applies_to]
        registry[name] = Rule(name, title, source, applies_to, check, violation, profile)
        return check

    return register


def _outcome(run: ClientRun) -> str:
    if run.did_return:
        status = run.returned.get("status") if isinstance(run.returned, dict) else None
        return f"returned {type(run.returned).__name__} with status {status!r}"
    if run.stopped:
        return f"was stopped by the kit: {run.stopped}"
    return f"raised {type(run.raised).__name__}: {run.raised}"


def _seen_terminal(run: ClientRun) -> str | None:
    poll = run.first_terminal_poll()
    return poll.served.status if poll and poll.served else None


@rule(
    "returns_only_completed_reports",
    title="a completed report is returned, with its output, and only a completed one",
    source=f'{GUIDE}: "completed: Report ready, download URLs available"; {REFERENCE}, Output Object',
)
def returns_only_completed_reports(run: ClientRun) -> Finding | None:
    seen = _seen_terminal(run)
    if run.did_return and seen != "completed":
        last = run.polls[-1].served.status if run.polls and run.polls[-1].served else "not found"
        return Finding(
            f"the client returned while the report was {last}",
            "return only after GET shows status completed",
        )
    if seen != "completed" or run.stopped:
        return None
    if not run.did_return:
        return Finding(
            f"after GET showed completed, the client {_outcome(run)}",
            "return the completed report's data object",
        )
    data = run.returned
    output = data.get("output") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("status") != "completed"
        or data.get("id") != run.report_id
    ):
        return Finding(
            f"the client returned {str(data)[:200]}",
            f"the data object of report {run.report_id} with status completed",
        )
    if not isinstance(output, dict) or not output.get("pdf_url") or not output.get("docx_url"):
        return Finding(
            f"the returned report's output is {str(output)[:200]}",
            "output with pdf_url and docx_url, as served",
        )
    return None


@rule(
    "raises_on_failed_or_cancelled",
    title="failed and cancelled are terminal: the client stops and raises, with progress.message",
    source=f'{GUIDE}: "failed: Read progress.message for details"; the guide\'s pollers raise on failed or cancelled',
)
def raises_on_failed_or_cancelled(run: ClientRun) -> Finding | None:
    poll = run.first_terminal_poll()
    if poll is None or poll.served is None or poll.served.status not in ("failed", "cancelled"):
        return None
    status = poll.served.status
    if run.did_return or run.stopped:
        return Finding(f"after GET showed {status}, the client {_outcome(run)}", "raise an error")
    message = (poll.served.progress or {}).get("message")
    if status == "failed" and message and message not in str(run.raised):
        return Finding(
            f"the client raised {type(run.raised).__name__}: {str(run.raised)[:200]!r}",
            f"an error whose text carries progress.message {message!r}",
        )
    return None


@rule(
    "raises_on_not_found",
    title="data: null means not found: the client stops at once and raises",
    source=f'{REFERENCE}: "Returns null data if the report doesn\'t exist (Stripe-style behavior)"',
)
def raises_on_not_found(run: ClientRun) -> Finding | None:
    if not run.lifecycle.not_found:
        return None
    if run.did_return or run.stopped:
        return Finding(f"after data: null, the client {_outcome(run)}", "raise an error at once")
    if len(run.polls) > 1:
        return Finding(
            f"the client polled the unknown id {len(run.polls)} times", "one GET, then raise"
        )
    return None


@rule(
    "stops_after_terminal_status",
    title="no request for a report after its terminal status was seen",
    source=f'{GUIDE}: "Stop polling when status is completed, failed, or cancelled"',
)
def stops_after_terminal_status(run: ClientRun) -> Finding | None:
    first = run.first_terminal_poll()
    if first is None:
        return None
    after = run.requests[run.requests.index(first) + 1 :]
    repeats = [r for r in after if r.concerns_report]
    if repeats:
        assert first.served is not None
        return Finding(
            f"after GET showed {first.served.status} at +{first.at:.1f}s, the client sent {repeats[0].method} {repeats[0].path} at +{repeats[0].at:.1f}s",
            "no further request for this report",
        )
    return None


@rule(
    "waits_for_documented_timeout",
    title="the client does not give up on a report that finishes inside the documented timeout",
    source=f'{GUIDE}, "Timeout Guidelines": 5 minutes accident-only, 10 with biomechanics, 2 with use_demo_data',
)
def waits_for_documented_timeout(run: ClientRun) -> Finding | None:
    terminal = run.lifecycle.terminal
    if run.raised is None or _seen_terminal(run) or terminal is None or run.lifecycle.not_found:
        return None
    limit = run.lifecycle.documented_timeout - TIMEOUT_MARGIN_SECONDS
    if terminal.after_seconds > limit or _raised_on_a_shape(run) or _raised_on_a_fault(run):
        return None  # the shape or the fault, not a deadline: their own rules name them
    return Finding(
        f"the client gave up after {run.ended_at:.0f}s ({type(run.raised).__name__}: {str(run.raised)[:120]}); the report would have been {terminal.status} at +{terminal.after_seconds:g}s",
        f"keep polling a {run.lifecycle.analysis} report for at least {limit:g}s ({run.lifecycle.documented_timeout:g}s documented, {TIMEOUT_MARGIN_SECONDS:g}s margin)",
    )


@rule(
    "gives_up_within_an_hour",
    title="the client does not poll for ever: it gives up within an hour of virtual time",
    source=f'{GUIDE}: "Set a maximum timeout of 10-15 minutes"; docs/api-contract.md: give up after 10-15 minutes',
)
def gives_up_within_an_hour(run: ClientRun) -> Finding | None:
    if run.stopped and run.stopped.kind in ("past_an_hour", "waits_forever"):
        return Finding(
            f"the client {_outcome(run)}",
            f"raise a timeout error within {GIVE_UP_LIMIT_SECONDS:g}s",
        )
    return None


@rule(
    "polls_at_a_steady_pace",
    title=f"never two polls within {MIN_POLL_GAP_SECONDS:g}s, never more than {MAX_POLL_GAP_SECONDS:g}s between polls of an unfinished report",
    source=f'{GUIDE}: "Poll every 5 seconds", or back off from 3 s by 1.5x capped at 15 s',
)
def polls_at_a_steady_pace(run: ClientRun) -> Finding | None:
    if run.stopped and run.stopped.kind in ("tight_loop", "busy_wait", "too_many_requests"):
        return Finding(
            f"the client {_outcome(run)}",
            f"sleep between polls (at least {MIN_POLL_GAP_SECONDS:g}s)",
        )
    polls = run.polls
    for previous, current in itertools.pairwise(polls):
        gap = current.at - previous.at
        if gap < MIN_POLL_GAP_SECONDS:
            return Finding(
                f"polls at +{previous.at:.1f}s and +{current.at:.1f}s, {gap:.2f}s apart",
                f"at least {MIN_POLL_GAP_SECONDS:g}s between polls",
            )
        unfinished = previous.served is not None and previous.served.status not in TERMINAL
        # A 429's Retry-After may ask for the whole 60 s; timers round up by a millisecond.
        allowed = max(MAX_POLL_GAP_SECONDS, previous.retry_after or 0.0) + TIMER_ROUNDING_SECONDS
        if unfinished and gap > allowed:
            return Finding(
                f"polls at +{previous.at:.1f}s and +{current.at:.1f}s, {gap:.0f}s apart",
                f"at most {MAX_POLL_GAP_SECONDS:g}s between polls of an unfinished report",
            )
    return None


def _odd_shape(observation: Observation) -> bool:
    """Whether an answer has one of the shapes clients must tolerate: null progress, a
    missing progress field, or fields beyond the documented ones."""
    progress = observation.progress
    if progress is None:
        return True
    documented = {"current_step", "steps_completed", "message"}
    return set(progress) != documented


def _raised_on_a_shape(run: ClientRun) -> bool:
    """Whether the client raised right after a poll that showed a tolerated odd shape."""
    if run.raised is None or run.last_event != "poll" or not run.polls:
        return False
    last = run.polls[-1]
    return not last.spoiled and last.served is not None and _odd_shape(last.served)


def _raised_on_a_fault(run: ClientRun) -> bool:
    """Whether the client raised right after a poll an injected fault spoiled (``--strict``:
    ``survives_transient_faults`` names it)."""
    return (
        run.raised is not None
        and run.last_event == "poll"
        and bool(run.polls)
        and run.polls[-1].spoiled
    )


@rule(
    "tolerates_documented_shapes",
    title="the client raises only after a terminal status, not-found or its deadline, never on a tolerated shape",
    source=f"{REFERENCE} and docs/api-contract.md: progress may be null and its fields absent; clients must tolerate extra fields",
)
def tolerates_documented_shapes(run: ClientRun) -> Finding | None:
    if (
        run.raised is None
        or _seen_terminal(run)
        or run.lifecycle.not_found
        or run.last_event != "poll"
    ):
        return None
    if run.ended_at >= run.lifecycle.documented_timeout - TIMEOUT_MARGIN_SECONDS:
        return None
    if not _raised_on_a_shape(run):
        return None  # a fault or an ordinary answer: another rule names it
    last = run.polls[-1].served
    assert last is not None
    return Finding(
        f"right after GET answered {last.describe()}, the client raised {type(run.raised).__name__}: {str(run.raised)[:160]}",
        "keep polling: a non-terminal report may have null progress, missing fields and unknown extra fields",
    )


@rule(
    "survives_transient_faults",
    title="a transient fault (5xx, 429, dropped connection, slow or garbled answer) does not make the client give up or fail",
    source=f'{GUIDE}, "Should You Retry?": internal errors are transient, retry; docs/api-contract.md: 429 and 500 are in use',
    profile="strict",
)
def survives_transient_faults(run: ClientRun) -> Finding | None:
    spoiled = [r for r in run.requests if r.spoiled and r.concerns_report]
    if not spoiled or run.lifecycle.not_found or _seen_terminal(run) or run.stopped:
        return None
    if run.raised is None:
        return None
    if run.ended_at >= run.lifecycle.documented_timeout - TIMEOUT_MARGIN_SECONDS:
        return None
    fault = spoiled[-1]
    number = run.polls.index(fault) + 1 if fault in run.polls else "?"
    return Finding(
        f"after the injected fault {fault.fault} on poll {number} (+{fault.at:.1f}s), the client raised {type(run.raised).__name__}: {str(run.raised)[:160]}",
        "retry the poll (keeping to the polling pace) until a terminal status or the client's own deadline",
    )


@rule(
    "honours_retry_after",
    title="after a 429, the next request waits at least Retry-After seconds",
    source="docs/api-contract.md: over the rate limit -> 429; RFC 9110 Retry-After",
    profile="strict",
)
def honours_retry_after(run: ClientRun) -> Finding | None:
    requests = [r for r in run.requests if r.concerns_report]
    for limited, following in itertools.pairwise(requests):
        if limited.fault and limited.fault.startswith("429") and limited.retry_after:
            waited = following.at - limited.at
            if waited < limited.retry_after:
                return Finding(
                    f"429 with Retry-After: {limited.retry_after:g} at +{limited.at:.1f}s, next request {waited:.1f}s later",
                    f"wait at least {limited.retry_after:g}s before the next request",
                )
    return None


@rule(
    "consumer_accepts_every_valid_report",
    title="a consumer never raises on any valid completed report, whatever sections it has or lacks",
    source=f'{REFERENCE}: "check by type, do not assume a fixed index"; report "May be null for older reports"',
    applies_to="consumer",
)
def consumer_accepts_every_valid_report(data: Any, raised: BaseException | None) -> Finding | None:
    if raised is None:
        return None
    output = data.get("output") or {}
    report = output.get("report")
    shape = (
        "absent"
        if "report" not in output
        else "null"
        if report is None
        else f"sections {[s.get('type') for s in report.get('sections', [])]}"
    )
    return Finding(
        f"the consumer raised {type(raised).__name__}: {str(raised)[:200]} on output.report {shape}",
        "handle every valid shape: report null (or absent, as a recorded run showed), sections absent, sections without data, extra fields",
    )
