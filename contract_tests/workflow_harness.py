"""Runs one workflow on one :class:`~contract_tests.workflow_model.WorkflowPlan`, on the mock,
on virtual time.

The workflow creates its reports itself, through the public ``POST /api/reports``; the kit's
loopback server serves the mock behind a small WSGI middleware that gives the n-th create
the plan's scenario (the mock's ``X-Mock-Scenario`` header) and holds the client up around
its first download by moving the mock's clock (before the server reads the URL, or after the
first document was served). Every answer reaches :class:`_WorkflowObserver` in the server's
loop, which records it and stops a runaway workflow. Under ``--strict`` the mock's fault
injection strikes the first download (``PUT /_mock/faults``), and the rule is lifted once it
struck.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from contract_tests.commands import CommandFailed
from contract_tests.harness import (
    API_KEY,
    FAULT_HEADER,
    MIN_POLL_GAP_SECONDS,
    MockBackend,
    PaceObserver,
    WsgiApp,
)
from contract_tests.loopback import Answer
from contract_tests.model import GIVE_UP_LIMIT_SECONDS
from contract_tests.runs import StopReason
from contract_tests.workflow_model import WorkflowPlan
from contract_tests.workflow_runs import WorkflowRequest, WorkflowRun, saved_files

__all__ = ["MAX_REPORTS", "WorkflowBackend", "workflow_time_limit"]

#: More reports than any plan justifies: beyond it the workflow is re-creating in a loop.
MAX_REPORTS = 8
MAX_WORKFLOW_REQUESTS = 3000
_CREATE_PATH = "/api/reports"
_REPORT_PREFIX = "/api/reports/"
_STORAGE_PREFIX = "/storage/reports/"


def workflow_time_limit(plan: WorkflowPlan) -> float:
    """Virtual seconds a workflow may run on ``plan``: an hour, a quarter of an hour per
    planned report (a timed-out report takes about 14 minutes), and the kit's hold-up."""
    return GIVE_UP_LIMIT_SECONDS + 900.0 * len(plan.outcomes) + plan.download_delay


def _report_of_download(path: str) -> tuple[str, str] | None:
    name = path[len(_STORAGE_PREFIX) :]
    report_id, dot, document = name.rpartition(".")
    return (report_id, document) if dot and document in ("pdf", "docx") else None


def _data(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body).get("data") if body else None
    except (ValueError, AttributeError):
        return None
    return data if isinstance(data, dict) else None


class _WorkflowObserver(PaceObserver[WorkflowRun]):
    """Records every answer of one workflow run; decides when to stop it."""

    def __init__(self, backend: WorkflowBackend, run: WorkflowRun, started: float) -> None:
        self.backend = backend
        self.run = run
        self.started = started
        self.clock_reads = 0
        self.failed: set[str] = set()
        #: The download being answered: its URL's expiry and arrival (both after the start),
        #: and whether the kit held it up before the mock read it.
        self.pending_download: tuple[float | None, float, bool] | None = None

    def elapsed(self) -> float:
        return self.backend.clock.now() - self.started

    def answered(self, answer: Answer) -> StopReason | None:
        fault = "drop" if answer.dropped else answer.headers.get(FAULT_HEADER.lower())
        request = self._request(answer, fault)
        self.run.requests.append(request)
        self.run.last_event = "poll"
        self.clock_reads = 0
        if request.kind == "download" and fault:
            self.backend.lift_download_faults()
        if request.kind == "create" and request.report_id:
            self.run.report_ids.append(request.report_id)
            if len(self.run.report_ids) > MAX_REPORTS:
                return StopReason(
                    "too_many_reports", f"it created more than {MAX_REPORTS} reports for the case"
                )
        if request.kind == "poll" and request.report_id:
            return self._poll(request)
        return self._limits(request.at)

    def _poll(self, request: WorkflowRequest) -> StopReason | None:
        assert request.report_id is not None
        if request.report_id in self.failed:
            return StopReason(
                "repolled_a_failed_report",
                f"it polled {request.report_id} again after it showed failed",
            )
        if request.served_status == "failed" and not request.spoiled:
            self.failed.add(request.report_id)
        earlier = [r for r in self.run.of_kind("poll")[:-1] if r.report_id == request.report_id]
        if earlier and request.at - earlier[-1].at < MIN_POLL_GAP_SECONDS:
            return StopReason(
                "tight_loop", f"it polled twice within {MIN_POLL_GAP_SECONDS:g}s (a tight loop)"
            )
        return self._limits(request.at)

    def _request(self, answer: Answer, fault: str | None) -> WorkflowRequest:
        at = self.elapsed()
        method, path, status = answer.method, answer.path, answer.status
        data = _data(answer.body)
        if method == "POST" and path == _CREATE_PATH:
            return WorkflowRequest(
                at, method, path, status, "create",
                report_id=str(data["id"]) if data and data.get("id") else None,
                case_id=str(data.get("case_id")) if data else None,
                served_status=str(data.get("status")) if data else None,
                fault=fault,
            )  # fmt: skip
        if method == "GET" and path.startswith(_REPORT_PREFIX):
            progress = data.get("progress") if data else None
            message = progress.get("message") if isinstance(progress, dict) else None
            return WorkflowRequest(
                at, method, path, status, "poll",
                report_id=path[len(_REPORT_PREFIX) :],
                served_status=str(data.get("status")) if data else None,
                message=message if isinstance(message, str) else None,
                fault=fault,
            )  # fmt: skip
        download = _report_of_download(path) if path.startswith(_STORAGE_PREFIX) else None
        if download is not None:
            expires, arrived, held_up = self.pending_download or (None, at, False)
            self.pending_download = None
            whole = status == 200 and not fault and not answer.dropped
            return WorkflowRequest(
                arrived, method, path, status, "download",
                report_id=download[0], document=download[1],
                digest=hashlib.sha256(answer.body).hexdigest() if whole else None,
                url_expires=expires,
                expired_when_sent=expires is not None and arrived >= expires,
                held_up=held_up,
                fault=fault,
            )  # fmt: skip
        return WorkflowRequest(at, method, path, status, "other", fault=fault)

    def _limits(self, elapsed: float) -> StopReason | None:
        if len(self.run.requests) > MAX_WORKFLOW_REQUESTS:
            return StopReason(
                "too_many_requests", f"it made more than {MAX_WORKFLOW_REQUESTS} requests"
            )
        limit = workflow_time_limit(self.run.plan)
        if elapsed > limit:
            return StopReason(
                "past_an_hour", f"it was still going after {limit:g}s of virtual time"
            )
        return None


class WorkflowBackend(MockBackend):
    """The mock for one workflow check run; see the module docstring."""

    def __init__(self, scenario_files: Sequence[str | Path] = ()) -> None:
        """``scenario_files``: loaded by the mock, for plans that replay one."""
        self._run: WorkflowRun | None = None
        self._workflow_observer: _WorkflowObserver | None = None
        self._creates = 0
        self._downloads = 0
        self._fault_active = False
        self._runs = 0
        super().__init__(middleware=self._middleware, scenario_files=scenario_files)
        self._outputs = Path(tempfile.mkdtemp(prefix="contract-kit-workflow-"))

    def close(self) -> None:
        """Stop the loopback server; remove the output directories."""
        super().close()
        shutil.rmtree(self._outputs, ignore_errors=True)

    # --- one run ----------------------------------------------------------------------------

    def _start(self, plan: WorkflowPlan, case_id: str) -> tuple[WorkflowRun, Path, float]:
        started = self.server.call(lambda: self._prepare_workflow(plan))
        self.clock.resync()
        self._runs += 1
        output_dir = self._outputs / f"run_{self._runs}"
        output_dir.mkdir(parents=True)
        run = WorkflowRun(plan=plan, case_id=case_id)
        observer = _WorkflowObserver(self, run, started)
        self._run, self._workflow_observer = run, observer
        self._creates = self._downloads = 0
        return run, output_dir, started

    def _prepare_workflow(self, plan: WorkflowPlan) -> float:
        self._control_here("POST", "/_mock/reset")
        self._control_here("DELETE", "/_mock/faults")
        self._fault_active = False
        if plan.download_fault and plan.final == "completed":
            rule: dict[str, Any] = {"fault": plan.download_fault, "on": ["download"]}
            self._control_here("PUT", "/_mock/faults", {"rules": [rule]})
            self._fault_active = True
        return self._read_mock_clock()

    def _finish(self, run: WorkflowRun, output_dir: Path) -> WorkflowRun:
        run.saved = saved_files(output_dir)
        shutil.rmtree(output_dir, ignore_errors=True)
        self._run = self._workflow_observer = None
        return run

    def run_workflow(
        self, workflow: Callable[..., Any], plan: WorkflowPlan, case_id: str
    ) -> WorkflowRun:
        """Run ``workflow(case_id, *, base_url, api_key, output_dir)`` on ``plan``."""
        run, output_dir, started = self._start(plan, case_id)
        assert self._workflow_observer is not None
        base_url = self.base_url
        try:
            self.run_in_thread(
                lambda: workflow(
                    case_id, base_url=base_url, api_key=API_KEY, output_dir=str(output_dir)
                ),
                run,
                self._workflow_observer,
                started,
            )
        finally:
            self._finish(run, output_dir)
        return run

    def run_workflow_command(self, command: str, plan: WorkflowPlan, case_id: str) -> WorkflowRun:
        """Run a workflow command with ``SW_CASE_ID`` and ``SW_OUTPUT_DIR`` (and ``{case_id}``,
        ``{output_dir}`` in it replaced): exit 0 is success, anything else an error."""
        run, output_dir, started = self._start(plan, case_id)
        assert self._workflow_observer is not None
        text = command.replace("{case_id}", case_id).replace("{output_dir}", str(output_dir))
        environment = {"SW_CASE_ID": case_id, "SW_OUTPUT_DIR": str(output_dir)}
        try:
            outcome = self.run_process(text, run, self._workflow_observer, started, environment)
            if outcome is not None:
                returncode, stdout, stderr = outcome
                if returncode == 0:
                    run.returned, run.did_return = stdout, True
                else:
                    run.raised = CommandFailed(returncode, stderr + stdout)
            self._end(run)
        finally:
            self._finish(run, output_dir)
        return run

    # --- in the server's loop ---------------------------------------------------------------

    def lift_download_faults(self) -> None:
        """The planned download fault struck once: later downloads are served normally."""
        if self._fault_active:
            self._fault_active = False
            self._control_here("DELETE", "/_mock/faults")

    def _hold_up(self) -> None:
        run = self._run
        observer = self._workflow_observer
        if run is None or observer is None or run.held_up_at is not None:
            return
        run.held_up_at = observer.elapsed()
        self._advance_mock_clock(run.plan.download_delay)
        self.clock.resync()

    def _middleware(self, app: WsgiApp) -> WsgiApp:
        def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            run, observer = self._run, self._workflow_observer
            if run is None or observer is None:
                return app(environ, start_response)
            method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
            if method == "POST" and path == _CREATE_PATH:
                environ["HTTP_X_MOCK_SCENARIO"] = run.plan.scenario_of(self._creates)
                self._creates += 1
                return app(environ, start_response)
            if not path.startswith(_STORAGE_PREFIX) or method != "GET":
                return app(environ, start_response)
            self._downloads += 1
            expires = parse_qs(environ.get("QUERY_STRING", "")).get("expires", [""])[0]
            expiry = float(expires) - observer.started if expires.isdigit() else None
            delay = run.plan.download_delay
            in_flight = run.plan.delay_placement == "in_flight"
            held_up = bool(delay) and self._downloads == 1 and in_flight
            observer.pending_download = (expiry, observer.elapsed(), held_up)
            if held_up:
                self._hold_up()
            if not delay or run.plan.delay_placement != "between_documents":
                return app(environ, start_response)
            return self._then_hold_up(app, environ, start_response)

        return serve

    def _then_hold_up(
        self, app: WsgiApp, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        """Serve a download; after the first one served whole, hold the client up."""
        statuses: list[str] = []
        faulted: list[bool] = []

        def record(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            faulted.append(any(name.lower() == FAULT_HEADER.lower() for name, _ in headers))
            return start_response(status, headers, exc_info)

        inner = app(environ, record)
        try:
            body = b"".join(inner)  # an injected drop raises OSError: the loop cuts it
        finally:
            close = getattr(inner, "close", None)
            if close is not None:
                close()
        if statuses and statuses[-1].startswith("200") and not any(faulted):
            self._hold_up()
        yield body
