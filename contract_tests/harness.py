"""Runs one client against one generated lifecycle, on the mock, on virtual time.

One :class:`MockBackend` serves a whole check run: the mock's WSGI app on a frozen clock
behind the kit's single-threaded loopback server, which every client reaches over real
sockets. ``backend.clock`` is the run's :class:`~contract_tests.kit_clock.KitClock` (the
``ClockAuthority``). Every answered request passes one observer, in the server's loop where
the mock answered, which records it with its virtual time and stops the client at the first
sign of a runaway (a poll after a terminal status, a tight loop, an hour of polling). Python
clients run in a thread of their own with every clock and wait virtualised; the kit's thread
keeps real time for its safety-net watchdog.
"""

from __future__ import annotations

import abc
import asyncio
import calendar
import contextlib
import ctypes
import inspect
import io
import json
import math
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from contract_tests.clock_following import (
    ClockNotFollowed,
    RealTimeSleepWatch,
    WatchedClock,
    classify_executable,
)
from contract_tests.command_clock import CommandClock
from contract_tests.commands import CommandFailed, command_argv, communicate_until
from contract_tests.errors import ClientStopped, UsageError, VirtualTimeEscaped
from contract_tests.kit_clock import KitClock
from contract_tests.loopback import Answer, LoopbackServer
from contract_tests.model import GIVE_UP_LIMIT_SECONDS, Lifecycle
from contract_tests.runs import ClientRun, Request, RunRecord, StopReason
from contract_tests.syscall_clock import syscall_clock_argv, tracer_failure
from contract_tests.virtual_loop import VirtualTimeLoop, virtual_loops
from contract_tests.virtual_time import VirtualTimeHooks, enter_virtual_thread, virtual_time

__all__ = ["API_KEY", "MockBackend", "PaceObserver", "RunObserver", "WsgiApp"]

API_KEY = "sk-contract-kit"
#: More requests than an hour of polling every 5 s, with room: beyond it the client is spinning.
MAX_REQUESTS = 1500
#: Documented pace: polls of one report closer than this are a tight loop.
MIN_POLL_GAP_SECONDS = 1.0
#: The response header in which the mock names an injected fault.
FAULT_HEADER = "X-Mock-Fault"
#: Where the kit's frozen clock starts, so runs are reproducible.
KIT_START_TIME = "2026-01-15T10:30:00Z"
#: Reads of the clock without a sleep or a request in between: a busy wait.
MAX_CLOCK_READS = 100_000
#: Real seconds one example may take before the client is stopped.
WALL_CLOCK_LIMIT = 30.0
_TIME_AFTER_LIMIT = GIVE_UP_LIMIT_SECONDS + 60

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RunT = TypeVar("RunT", bound=RunRecord)


class RunObserver(Protocol):
    """What sees one run from the server's loop: every answer, every wait, every clock read;
    each returns the reason to stop the client, if any."""

    def answered(self, answer: Answer) -> StopReason | None: ...

    def sleep(self, seconds: float) -> StopReason | None: ...

    def clock_read(self) -> StopReason | None: ...


class PaceObserver(abc.ABC, Generic[RunT]):
    """The waits and clock reads of one run, for a poller's observer and a workflow's: a
    sleep resets the count of clock reads and is judged by the run's limits; too many reads
    without a sleep is a busy wait."""

    run: RunT
    clock_reads: int

    @abc.abstractmethod
    def elapsed(self) -> float:
        """Virtual seconds since the run started."""

    @abc.abstractmethod
    def _limits(self, elapsed: float) -> StopReason | None:
        """Why the client must stop ``elapsed`` seconds in, if it must."""

    def sleep(self, seconds: float) -> StopReason | None:
        self.run.last_event = "sleep"
        self.clock_reads = 0
        return self._limits(self.elapsed() + seconds)

    def clock_read(self) -> StopReason | None:
        self.clock_reads += 1
        if self.clock_reads > MAX_CLOCK_READS:
            return StopReason(
                "busy_wait",
                f"it read the clock {MAX_CLOCK_READS} times without sleeping (a busy wait)",
            )
        return None


class _Observer(PaceObserver[ClientRun]):
    """Sees every request and sleep of one run; decides when to stop the client."""

    def __init__(self, run: ClientRun, created_epoch: float, now: Callable[[], float]) -> None:
        self.run = run
        self.created_epoch = created_epoch
        self.now = now
        self.clock_reads = 0

    def elapsed(self) -> float:
        return self.now() - self.created_epoch

    def answered(self, answer: Answer) -> StopReason | None:
        """Record an answered request (see :meth:`request`)."""
        fault = "drop" if answer.dropped else answer.headers.get(FAULT_HEADER.lower())
        retry_after = answer.headers.get("retry-after")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return self.request(
            answer.method, answer.path, answer.status, fault, seconds, _served_status(answer.body)
        )

    def request(
        self,
        method: str,
        path: str,
        status: int,
        fault: str | None = None,
        retry_after: float | None = None,
        served_status: str | None = None,
    ) -> StopReason | None:
        """Record a request; the reason to stop the client, if any.

        ``served_status`` is the status the response carried: on a running clock the kit's
        own reading of the time lags the moment the mock answered, so what was served wins.
        """
        elapsed = self.elapsed()
        concerns = self.run.report_id in path
        served = self.run.lifecycle.observation_at(elapsed) if concerns else None
        if served is not None and served_status is not None and served.status != served_status:
            candidates = [o for o in self.run.lifecycle.timeline if o.status == served_status]
            served = min(candidates, key=lambda o: abs(o.after_seconds - elapsed), default=served)
        already_terminal = self.run.first_terminal_poll() is not None
        previous = self.run.polls[-1] if self.run.polls else None
        self.run.requests.append(
            Request(elapsed, method, path, status, served, concerns, fault, retry_after)
        )
        self.run.last_event = "poll"
        self.clock_reads = 0
        if concerns and already_terminal:
            return StopReason(
                "after_terminal", "it polled again after the report reached a terminal status"
            )
        if (
            concerns
            and method == "GET"
            and previous
            and elapsed - previous.at < MIN_POLL_GAP_SECONDS
        ):
            return StopReason(
                "tight_loop", f"it polled twice within {MIN_POLL_GAP_SECONDS:g}s (a tight loop)"
            )
        return self._limits(elapsed)

    def _limits(self, elapsed: float) -> StopReason | None:
        if len(self.run.requests) > MAX_REQUESTS:
            return StopReason("too_many_requests", f"it made more than {MAX_REQUESTS} requests")
        if elapsed > _TIME_AFTER_LIMIT:
            return StopReason(
                "past_an_hour",
                f"it was still polling after {GIVE_UP_LIMIT_SECONDS:g}s (an hour) of virtual time",
            )
        return None


class _StopClient(ClientStopped):
    """Thrown into a client's thread when the kit stops it from another thread."""

    def __init__(self) -> None:
        super().__init__("the kit stopped the client")


def _throw_into(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(_StopClient)
    )


class MockBackend:
    """The mock for one check run, behind the kit's loopback server; ``clock`` is its time."""

    def __init__(
        self,
        *,
        time_scale: float = 0.0,
        middleware: Callable[[WsgiApp], WsgiApp] | None = None,
        scenario_files: Sequence[str | Path] = (),
    ) -> None:
        """``middleware`` wraps the app the loopback server serves (the kit's own calls of
        the control API reach the bare app); ``scenario_files`` are loaded by the mock, so a
        lifecycle with a ``scenario_file`` is replayed by the mock as recorded."""
        from mockserver import create_app

        self.time_scale = time_scale
        config: dict[str, Any] = {
            "TIME_SCALE": time_scale,
            "JOURNAL_SIZE": 10,
            "VALIDATE_RESPONSES": "off",
        }
        if scenario_files:
            config["SCENARIO_FILES"] = [str(path) for path in scenario_files]
        if time_scale == 0:
            config["START_TIME"] = KIT_START_TIME
        self.app = create_app(config)
        self._observer: RunObserver | None = None
        self._watch: RealTimeSleepWatch | None = None
        #: ``time.monotonic()`` of the last request answered or clock move (commands' watchdog).
        self._active_at = time.monotonic()
        self._stop_reason: StopReason | None = None
        self._client_thread: int | None = None
        served = self.app if middleware is None else middleware(self.app)
        self.server = LoopbackServer(self._note_arrivals(served), self._on_answer)
        self.base_url = self.server.base_url
        self.clock = KitClock(
            self.server, self._read_mock_clock, self._advance_mock_clock, frozen=time_scale == 0
        )
        self.clock.gate = self._gate

    def close(self) -> None:
        """Stop the loopback server."""
        self.server.close()

    # --- control (in the server's loop) -------------------------------------------------

    def _control_here(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        """Call the mock in-process (a bare WSGI call: it runs once per sleep): the control
        API, or the create of a report that replays a scenario file."""
        data = b"" if body is None else json.dumps(body).encode()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status: list[str] = []

        def start_response(line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(line)
            return lambda _data: None

        answer = self.app(environ, start_response)
        try:
            payload = json.loads(b"".join(answer))
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        if not status[0].startswith("20"):
            raise UsageError(f"the mock refused {method} {path}: {payload}")
        return payload["data"]

    def _read_mock_clock(self) -> float:
        return float(self._control_here("GET", "/_mock/clock")["epoch_seconds"])

    def _advance_mock_clock(self, seconds: float) -> float:
        view = self._control_here("POST", "/_mock/clock/advance", {"seconds": seconds})
        return float(view["epoch_seconds"])

    def now(self) -> float:
        """The mock's virtual time."""
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move the mock's clock forward (outside a run: no observer decides)."""
        self.clock.advance(seconds)

    def prepare(self, lifecycle: Lifecycle, case_id: str) -> tuple[str, float]:
        """Reset the mock and script ``lifecycle``: the report id and its creation time."""
        result = self.server.call(lambda: self._prepare_here(lifecycle, case_id))
        self.clock.resync()
        return result

    def _prepare_here(self, lifecycle: Lifecycle, case_id: str) -> tuple[str, float]:
        self._control_here("POST", "/_mock/reset")
        now = self._read_mock_clock()
        if self.time_scale == 0 and now != math.ceil(now):
            self._advance_mock_clock(math.ceil(now) - now)  # reports are created on whole seconds
        if lifecycle.not_found:
            return f"rpt_missing_{case_id}", self._read_mock_clock()
        if lifecycle.scenario_file is not None:  # the mock replays the file as recorded
            headers, body = lifecycle.replay_request(api_key=API_KEY, case_id=case_id)
            created = self._control_here("POST", "/api/reports", body, headers)
        else:
            created = self._control_here(
                "POST", "/_mock/reports", lifecycle.script(api_key=API_KEY, case_id=case_id)
            )
        if lifecycle.faults:
            rules = [fault.rule() for fault in lifecycle.faults]
            self._control_here("PUT", "/_mock/faults", {"rules": rules})
        created_epoch = float(
            calendar.timegm(time.strptime(created["created_at"], "%Y-%m-%dT%H:%M:%SZ"))
        )
        return str(created["id"]), created_epoch

    # --- what the server saw (in the server's loop) -------------------------------------

    def _on_answer(self, answer: Answer) -> None:
        """Record a request where the mock answered it, before a fault spoils the answer."""
        observer = self._observer
        if observer is None or answer.path.startswith("/_mock"):
            return
        self._active_at = time.monotonic()
        watch = self._watch
        if watch is not None:  # its arrival was noted by _note_arrivals
            watch.response_sent()
        reason = observer.answered(answer)
        if reason:
            self._stop(reason)

    def _note_arrivals(self, app: WsgiApp) -> WsgiApp:
        """Tell a command's :class:`RealTimeSleepWatch` of each request as it arrives, before
        the mock works on it: a slow answer (a document rendered) is not the client's wait."""

        def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            watch = self._watch
            if (
                watch is not None
                and self._observer is not None
                and not environ["PATH_INFO"].startswith("/_mock")
            ):
                watch.request_received()
            return app(environ, start_response)

        return serve

    def _gate(self, seconds: float) -> bool:
        """Whether the client may wait ``seconds`` now (the clock's gate, in the loop)."""
        self._active_at = time.monotonic()
        observer = self._observer
        if observer is None:
            return True
        if self._stop_reason is not None:
            return False
        reason = observer.sleep(seconds)
        if reason:
            self._stop_reason = reason
            return False
        return True

    def _stop(self, reason: StopReason) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        if self._client_thread is not None:
            _throw_into(self._client_thread)

    def _stop_here(self, reason: StopReason) -> None:
        """Stop the client from its own thread (a busy wait, a wait for ever)."""
        if self._stop_reason is None:
            self._stop_reason = reason
        raise ClientStopped(reason.text)

    # --- running clients ----------------------------------------------------------------

    def run_python(
        self, client: Callable[..., Any], lifecycle: Lifecycle, case_id: str
    ) -> ClientRun:
        """Run a Python polling client (a function or a coroutine function) on virtual time."""
        report_id, created_epoch = self.prepare(lifecycle, case_id)
        run = ClientRun(lifecycle=lifecycle, report_id=report_id)
        observer = _Observer(run, created_epoch, self.clock.now)
        base_url = self.base_url
        self.run_in_thread(
            lambda: client(report_id, base_url=base_url, api_key=API_KEY),
            run,
            observer,
            created_epoch,
        )
        return run

    def run_in_thread(
        self,
        call: Callable[[], Any],
        run: RunRecord,
        observer: RunObserver,
        created_epoch: float,
    ) -> None:
        """Run ``call`` (a client's function, or a coroutine function's call) in a thread of
        its own on virtual time, ``observer`` seeing it; its outcome goes into ``run``."""
        self._begin(observer)

        def on_clock_read() -> None:
            reason = observer.clock_read()
            if reason:
                self._stop_here(reason)

        def on_wait_forever() -> None:
            if self._stop_reason is None:
                self._stop_reason = StopReason(
                    "waits_forever",
                    "it waited with nothing to wait for: no timer, no request, no thread",
                )

        hooks = VirtualTimeHooks(self.clock, on_clock_read)
        thread = threading.Thread(
            target=self._client_body,
            args=(call, run, on_wait_forever),
            name="contract-kit-client",
            daemon=True,
        )
        try:
            # What the client prints is its own business, not the kit's report.
            with (
                virtual_time(hooks),
                virtual_loops(self.clock, on_wait_forever),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                thread.start()
                thread.join(WALL_CLOCK_LIMIT)
                if thread.is_alive():
                    self._stop(_REAL_TIME_STOP)
                    thread.join(2.0)
        finally:
            run.ended_at = self.clock.now() - created_epoch
            self._end(run)

    def _client_body(
        self,
        call: Callable[[], Any],
        run: RunRecord,
        on_wait_forever: Callable[[], None],
    ) -> None:
        enter_virtual_thread()
        self._client_thread = threading.get_ident()
        try:
            outcome = call()
            if inspect.isawaitable(outcome):  # a coroutine function: run on the kit's loop
                outcome = _run_on_virtual_loop(outcome, self.clock, on_wait_forever)
            run.returned, run.did_return = outcome, True
        except ClientStopped:
            pass
        except BaseException as error:  # what the client raised is the verdict's input
            run.raised = error
        finally:
            self._client_thread = None

    def _begin(self, observer: RunObserver) -> None:
        self._observer = observer
        self._stop_reason = None
        self._client_thread = None

    def _end(self, run: RunRecord) -> None:
        reason = self._stop_reason
        if reason is not None:
            run.stopped, run.raised, run.did_return = reason, None, False
        self._observer = None
        self._client_thread = None
        if reason is not None and reason.kind == "too_long_in_real_time":
            raise VirtualTimeEscaped(
                f"the client ran for more than {WALL_CLOCK_LIMIT:g}s of real time in one example "
                "without waiting on the kit's clock. It blocks on something the kit does not "
                "virtualise (a lock or Thread.join without a timeout, a subprocess, a socket to "
                "another server, a C extension's own sleep). Requests so far:\n"
                + run.describe_requests()
            )

    def run_command(self, command: str, lifecycle: Lifecycle, case_id: str) -> ClientRun:
        """Run a client command (any language) on the kit's discrete-event clock.

        A libc program (bash, curl, Node, Python, ...) runs with the preload library of
        :mod:`contract_tests.command_clock`; a Go or static binary runs under the syscall
        tracer of :mod:`contract_tests.syscall_clock`. Either way its sleeps and timed waits
        move the virtual clock by exactly their length, and nothing else does. A client seen
        sleeping in real time instead gets no verdict: :class:`ClockNotFollowed` (exit 2).
        """
        report_id, created_epoch = self.prepare(lifecycle, case_id)
        run = ClientRun(lifecycle=lifecycle, report_id=report_id)
        observer = _Observer(run, created_epoch, self.clock.now)
        outcome = self.run_process(
            command.replace("{report_id}", report_id), run, observer, created_epoch, {}
        )
        if outcome is not None:
            returncode, stdout, stderr = outcome
            if returncode == 0:
                try:
                    run.returned, run.did_return = json.loads(stdout), True
                except json.JSONDecodeError:
                    run.raised = CommandFailed(
                        0, "exit 0 but stdout is not the report as JSON: " + stdout[-300:]
                    )
            else:
                run.raised = CommandFailed(returncode, stderr + stdout)
            gap = run.ended_at - (run.requests[-1].at if run.requests else 0.0)
            run.last_event = "poll" if run.requests and gap < 2.0 else "sleep"
        self._end(run)
        return run

    def run_process(
        self,
        command: str,
        run: RunRecord,
        observer: RunObserver,
        created_epoch: float,
        environment: dict[str, str],
    ) -> tuple[int, str, str] | None:
        """Run ``command`` on the kit's clock, ``observer`` seeing it, with ``SW_BASE_URL``,
        ``SW_API_KEY`` and ``environment`` set; its exit status, stdout and stderr, or
        ``None`` when the kit stopped it. The caller judges the outcome, then calls
        :meth:`_end`. A tracer failure or a client off the clock raises instead."""
        if self.time_scale != 0:
            raise UsageError(
                "command clients run on the kit's discrete-event clock: create MockBackend() "
                "with the default time_scale=0"
            )
        self._begin(observer)
        argv = command_argv(command)
        if classify_executable(argv).bypasses_libc:
            argv = syscall_clock_argv(argv)
        watch = RealTimeSleepWatch()
        self._watch = watch
        self._active_at = time.monotonic()
        clock = CommandClock(WatchedClock(self.clock, watch))
        try:
            with clock:
                full_environment = {
                    **os.environ,
                    **clock.environment(),
                    "SW_BASE_URL": self.base_url,
                    "SW_API_KEY": API_KEY,
                    **environment,
                }
                # A session of its own, so that stopping it stops any children too.
                process = subprocess.Popen(
                    argv,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=full_environment,
                    text=True,
                    start_new_session=True,
                )
                try:
                    with watch.following(process.pid):
                        stdout, stderr, idled = communicate_until(
                            process,
                            WALL_CLOCK_LIMIT,
                            lambda: self._stop_reason,
                            lambda: self._active_at,
                        )
                finally:
                    run.ended_at = self.clock.now() - created_epoch
        finally:
            self._watch = None
        if self._stop_reason is None and idled:
            self._stop_reason = _REAL_TIME_STOP
        tracer_error = tracer_failure(process.returncode or 0, stderr)
        if tracer_error is not None:
            self._end(run)
            raise tracer_error
        try:
            watch.check(command)
        except ClockNotFollowed:
            self._stop_reason = None
            self._end(run)
            raise
        if self._stop_reason is not None:
            return None
        return process.returncode, stdout, stderr


_REAL_TIME_STOP = StopReason(
    "too_long_in_real_time", f"it ran for more than {WALL_CLOCK_LIMIT:g}s of real time"
)


def _run_on_virtual_loop(
    awaitable: Any, clock: KitClock, on_wait_forever: Callable[[], None]
) -> Any:
    """Run a coroutine on a fresh :class:`VirtualTimeLoop` in the calling (client) thread."""
    loop = VirtualTimeLoop(clock, on_wait_forever)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(awaitable)
    finally:
        try:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _served_status(body: bytes) -> str | None:
    """The ``data.status`` of a JSON envelope, if the body is one."""
    try:
        data = json.loads(body).get("data") if body else None
    except (ValueError, AttributeError):
        return None
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None
