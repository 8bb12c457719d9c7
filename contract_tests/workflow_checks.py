"""The workflow rules: what the polling guide asks of a client after a report ends.

Registered in :data:`contract_tests.checks.WORKFLOW_RULES` with the ``rule`` decorator, each
named and citing its source, like the polling rules. Each looks at a
:class:`~contract_tests.workflow_runs.WorkflowRun`.
"""

from __future__ import annotations

import itertools

from contract_tests.checks import WORKFLOW_RULES, Finding, rule
from contract_tests.workflow_model import (
    INTERNAL_ERROR_WAIT_SECONDS,
    URL_LIFETIME_SECONDS,
    Outcome,
)
from contract_tests.workflow_runs import WorkflowRequest, WorkflowRun

__all__ = ["WORKFLOW_RULES"]

RETRY = (
    'Polling Best Practices, "Should You Retry?" (in this repository: docs/api-contract.md, '
    'the failure reasons table, "retry?")'
)
FAILURES = "docs/api-contract.md, The report object: the failure reasons table"
URLS = (
    "docs/api-contract.md, The report object: output.pdf_url and docx_url are signed download "
    "URLs that expire after one hour; every GET mints fresh ones"
)
#: Stop reasons that a pace rule names (the others have rules of their own).
_PACE_STOPS = frozenset(
    {"tight_loop", "busy_wait", "too_many_requests", "past_an_hour", "waits_forever"}
)


def _after(run: WorkflowRun, request: WorkflowRequest) -> list[WorkflowRequest]:
    """The requests the workflow made after ``request``."""
    for index, candidate in enumerate(run.requests):
        if candidate is request:
            return run.requests[index + 1 :]
    return []


@rule(
    "creates_a_report_for_the_case",
    title="the workflow creates a report for the case it was given (POST /api/reports with its case_id)",
    source='docs/api-contract.md, Endpoints: Create takes case_id (required); Timings and polling advice: "To retry a failed report, create a new report with the same case_id"',
    applies_to="workflow",
)
def creates_a_report_for_the_case(run: WorkflowRun) -> Finding | None:
    if run.stopped:
        return None
    creates = [r for r in run.of_kind("create") if r.report_id]
    if not creates:
        refused = [r for r in run.of_kind("create")]
        did = f"; its POSTs were answered {[r.status for r in refused]}" if refused else ""
        return Finding(
            f"the workflow {run.outcome_text()} without creating a report{did}",
            f"POST /api/reports with case_id {run.case_id!r}, then wait for the report",
        )
    strangers = [r for r in creates if r.case_id != run.case_id]
    if strangers:
        return Finding(
            f"the workflow created {strangers[0].report_id} for case {strangers[0].case_id!r}",
            f"reports for the case it was given, {run.case_id!r}",
        )
    return None


def _failures_seen(run: WorkflowRun, outcome: Outcome) -> list[tuple[str, WorkflowRequest]]:
    """Each report the plan ended with ``outcome`` whose failure the workflow saw."""
    seen = []
    for report_id in run.report_ids:
        poll = run.first_failure_seen(report_id)
        if run.outcome_of(report_id) == outcome and poll is not None:
            seen.append((report_id, poll))
    return seen


def _not_retried(run: WorkflowRun, outcome: Outcome, advice: str) -> Finding | None:
    if run.stopped:
        return None
    for report_id, poll in _failures_seen(run, outcome):
        creates = [r for r in _after(run, poll) if r.kind == "create"]
        if creates:
            return Finding(
                f"after {report_id} failed with {poll.message!r} (+{poll.at:.0f}s), the workflow created a new report at +{creates[0].at:.0f}s",
                f"no new report: {advice}; end the workflow with an error carrying progress.message",
            )
        if run.did_return:
            return Finding(
                f"after {report_id} failed with {poll.message!r}, the workflow returned {str(run.returned)[:120]!r}",
                "raise an error carrying progress.message: no documents were produced",
            )
    return None


@rule(
    "does_not_retry_image_quality_failure",
    title="an image-quality failure (Delta-V calculation failed) is not retried: the workflow ends with an error",
    source=f'{RETRY}: "Delta-V calculation failed: insufficient image quality" -> no, upload better photos first; {FAILURES}',
    applies_to="workflow",
)
def does_not_retry_image_quality_failure(run: WorkflowRun) -> Finding | None:
    return _not_retried(run, "image_quality", "new photos must be uploaded first")


@rule(
    "does_not_retry_biomechanics_failure",
    title="a biomechanics failure is not retried blindly: the workflow ends with an error",
    source=f'{RETRY}: "Biomechanics analysis failed" -> no, complete the occupant fields first; {FAILURES}',
    applies_to="workflow",
)
def does_not_retry_biomechanics_failure(run: WorkflowRun) -> Finding | None:
    return _not_retried(run, "biomechanics", "the occupant data must be completed first")


def _retried(run: WorkflowRun, outcome: Outcome, wait: float, what: str) -> Finding | None:
    if run.stopped:
        return None
    for report_id, poll in _failures_seen(run, outcome):
        creates = [r for r in _after(run, poll) if r.kind == "create"]
        if not creates:
            return Finding(
                f"after {report_id} failed with {poll.message!r} (+{poll.at:.0f}s), the workflow {run.outcome_text()} without creating a new report",
                what,
            )
        retry = creates[0]
        if retry.case_id is not None and retry.case_id != run.case_id:
            return Finding(
                f"after {report_id} failed, the workflow created a report for case {retry.case_id!r}",
                f"a new report for the same case, {run.case_id!r}",
            )
        if retry.at - poll.at < wait:
            return Finding(
                f"after {report_id} failed with {poll.message!r} at +{poll.at:.0f}s, the workflow created a new report {retry.at - poll.at:.0f}s later",
                what,
            )
    return None


@rule(
    "retries_timeout_with_new_report",
    title="a timed-out report is retried with a new report for the same case",
    source=f'{RETRY}: "Report generation timed out" -> yes, create a new report for the same case; docs/api-contract.md: "To retry a failed report, create a new report with the same case_id"',
    applies_to="workflow",
)
def retries_timeout_with_new_report(run: WorkflowRun) -> Finding | None:
    return _retried(
        run, "timeout", 0.0, f"POST /api/reports again with case_id {run.case_id!r} (no upload)"
    )


@rule(
    "waits_before_retrying_internal_error",
    title="an internal error is retried with a new report, after waiting about a minute",
    source=f"{RETRY}: internal errors -> yes, wait a minute, then retry; {FAILURES}",
    applies_to="workflow",
)
def waits_before_retrying_internal_error(run: WorkflowRun) -> Finding | None:
    return _retried(
        run,
        "internal_error",
        INTERNAL_ERROR_WAIT_SECONDS,
        f"wait about a minute (at least {INTERNAL_ERROR_WAIT_SECONDS:g}s), then create a new report for the same case",
    )


@rule(
    "no_retry_storm",
    title="one new report per failed report, and only once the previous one was seen failed",
    source=f"{RETRY}: only a failed report with a retryable reason is retried, with one new report",
    applies_to="workflow",
)
def no_retry_storm(run: WorkflowRun) -> Finding | None:
    if run.stopped and run.stopped.kind == "too_many_reports":
        return Finding(f"the workflow {run.outcome_text()}", "at most one new report per failure")
    creates = [r for r in run.of_kind("create") if r.report_id]
    for previous, create in itertools.pairwise(creates):
        assert previous.report_id is not None
        seen = run.first_failure_seen(previous.report_id)
        if seen is None or all(r is not create for r in _after(run, seen)):
            polls = [p for p in run.of_kind("poll") if p.report_id == previous.report_id]
            last = polls[-1].served_status if polls else "never polled"
            shown = "not seen failed" if seen is None else "seen failed only later"
            return Finding(
                f"the workflow created {create.report_id} at +{create.at:.0f}s while {previous.report_id} was {shown} (last poll: {last})",
                "create a new report only after the previous one was seen failed with a retryable reason",
            )
    return None


@rule(
    "does_not_repoll_a_failed_report",
    title="a failed report is never polled again as if it could recover",
    source=f'{RETRY}: a failed report is retried with a new report; Polling Best Practices: "Stop polling when status is completed, failed, or cancelled"',
    applies_to="workflow",
)
def does_not_repoll_a_failed_report(run: WorkflowRun) -> Finding | None:
    if run.stopped and run.stopped.kind == "repolled_a_failed_report":
        return Finding(
            f"the workflow {run.outcome_text()}",
            "stop polling a failed report; create a new report for the same case if the reason is retryable",
        )
    return None


def _missing_documents(run: WorkflowRun, report_id: str) -> list[str]:
    saved = {f.digest for f in run.saved}
    return [
        name.upper() for name in ("pdf", "docx") if not run.served_digests(report_id, name) & saved
    ]


def _final_completed(run: WorkflowRun) -> str | None:
    """The last report, when the workflow saw it completed."""
    if run.stopped or not run.report_ids:
        return None
    last = run.report_ids[-1]
    return last if run.completed_seen(last) else None


def _saved_text(run: WorkflowRun) -> str:
    return ", ".join(f"{f.name} ({f.head[:4]!r}...)" for f in run.saved) or "nothing"


def _broken_documents(run: WorkflowRun, report_id: str) -> list[str]:
    """Saved files that pass for a document (named .pdf or .docx, or an error envelope's
    JSON) but hold no bytes a signed URL of the report served whole."""
    served = run.served_digests(report_id, "pdf") | run.served_digests(report_id, "docx")
    return [
        f.name
        for f in run.saved
        if f.digest not in served
        and (f.name.lower().endswith((".pdf", ".docx")) or f.head.startswith(b"{"))
    ]


def _recorded_missing(run: WorkflowRun, report_id: str) -> Finding | None:
    """A scenario file recorded a document's download as a 404, and the mock answered 404:
    the workflow cannot have it, so it must say so (an error) and keep no broken file."""
    missing = " and the ".join(d.upper() for d in sorted(run.plan.missing_documents))
    broken = _broken_documents(run, report_id)
    if broken:
        return Finding(
            f"the {missing} of {report_id} answered 404 (as recorded); the workflow saved {', '.join(broken)}, which no signed URL served",
            "save only the bytes a download served with 200; a 404 is no document",
        )
    if run.did_return:
        return Finding(
            f"the {missing} of {report_id} answered 404 (as recorded), yet the workflow {run.outcome_text()} as if its documents were saved",
            f"end with an error that says the {missing} could not be downloaded",
        )
    return None


@rule(
    "downloads_both_documents",
    title="when a report completes, the workflow saves its PDF and DOCX, the bytes the signed URLs served; a document that answers 404 is reported as an error, never saved as a broken file",
    source=(
        f'Polling Best Practices: "completed: Report ready, download URLs available"; {URLS}; '
        "docs/api-contract.md, Conventions: an error is the envelope with a status, 404 among "
        "those in use (a scenario file recorded the document's download as a 404: the file "
        "cannot be had, so it is not demanded, and the workflow that promised both documents "
        "fails instead of finishing)"
    ),
    applies_to="workflow",
)
def downloads_both_documents(run: WorkflowRun) -> Finding | None:
    last = _final_completed(run)
    if last is None:
        unfinished = run.report_ids[-1] if run.report_ids and not run.stopped else None
        if unfinished and run.did_return and run.first_failure_seen(unfinished) is None:
            return Finding(
                f"the workflow returned before {unfinished} completed",
                "wait until the report completes, then download its documents",
            )
        return None
    downloads = [d for d in run.of_kind("download") if d.report_id == last]
    if any(d.spoiled for d in downloads):
        return None  # downloads_survive_transient_faults (--strict) names it
    if run.raised is not None and any(d.status == 403 for d in downloads):
        return None  # refetches_urls_after_403 names it
    if run.plan.missing_documents:
        return _recorded_missing(run, last)
    missing = _missing_documents(run, last)
    if missing:
        return Finding(
            f"{last} completed; the workflow {run.outcome_text()} having saved {_saved_text(run)}; no file holds the {' and the '.join(missing)} the mock served",
            "download pdf_url and docx_url of the completed report and save their bytes unchanged in output_dir",
        )
    if run.raised is not None:
        return Finding(
            f"{last} completed and both documents were saved, but the workflow {run.outcome_text()}",
            "finish without an error",
        )
    return None


@rule(
    "never_uses_expired_url",
    title="a signed URL older than an hour is never used: the workflow GETs the report again for fresh URLs",
    source=URLS,
    applies_to="workflow",
)
def never_uses_expired_url(run: WorkflowRun) -> Finding | None:
    for download in run.of_kind("download"):
        if download.expired_when_sent and download.url_expires is not None:
            minted = download.url_expires - URL_LIFETIME_SECONDS
            return Finding(
                f"at +{download.at:.0f}s the workflow used the {download.document} URL minted at +{minted:.0f}s, expired at +{download.url_expires:.0f}s",
                "keep when the URLs were fetched; past (or near) the hour, GET the report again and use its fresh URLs",
            )
    return None


@rule(
    "refetches_urls_after_403",
    title="a 403 on a download leads to a new GET of the report and a download with fresh URLs, not a failure",
    source=URLS,
    applies_to="workflow",
)
def refetches_urls_after_403(run: WorkflowRun) -> Finding | None:
    if run.stopped:
        return None
    refused = next((d for d in run.of_kind("download") if d.status == 403 and not d.spoiled), None)
    if refused is None or refused.report_id is None:
        return None
    later = [r for r in _after(run, refused) if r.report_id == refused.report_id]
    if not later or later[0].kind != "poll":
        did = f"next sent {later[0].method} {later[0].path}" if later else run.outcome_text()
        return Finding(
            f"after a 403 on the {refused.document} URL at +{refused.at:.0f}s, the workflow {did}",
            "GET the report again, then download with the fresh URLs it returns",
        )
    missing = _missing_documents(run, refused.report_id)
    if missing or run.raised is not None:
        return Finding(
            f"after a 403 and a new GET, the workflow {run.outcome_text()} having saved {_saved_text(run)}",
            "download both documents with the fresh URLs and finish without an error",
        )
    return None


@rule(
    "downloads_survive_transient_faults",
    title="a transient fault on a download (5xx, dropped connection, truncated body) is retried, not fatal",
    source=f"{RETRY}: internal errors are transient, retry; docs/api-contract.md: 500 is in use",
    applies_to="workflow",
    profile="strict",
)
def downloads_survive_transient_faults(run: WorkflowRun) -> Finding | None:
    last = _final_completed(run)
    faulted = [d for d in run.of_kind("download") if d.spoiled]
    if last is None or not faulted:
        return None
    missing = _missing_documents(run, last)
    if missing or run.raised is not None:
        fault = faulted[0]
        return Finding(
            f"after the injected fault {fault.fault} on the {fault.document} download (+{fault.at:.0f}s), the workflow {run.outcome_text()} having saved {_saved_text(run)}",
            "retry the download (a fresh GET if the URL has expired) and save both documents",
        )
    return None


@rule(
    "keeps_a_steady_pace",
    title="the workflow polls no closer than a second apart and finishes within the time its plan allows",
    source='Polling Best Practices: "Poll every 5 seconds"; give up after 10-15 minutes per report',
    applies_to="workflow",
)
def keeps_a_steady_pace(run: WorkflowRun) -> Finding | None:
    if run.stopped and run.stopped.kind in _PACE_STOPS:
        return Finding(
            f"the workflow {run.outcome_text()}",
            "sleep between polls (5 s, or back off from 3 s) and give up on a report after 10-15 minutes",
        )
    return None
