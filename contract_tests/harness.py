"""Runs one client against one generated lifecycle, on the mock, on virtual time.

One :class:`MockBackend` serves a whole check run: the mock's WSGI app on a frozen clock,
reached in-process through ``responses`` by clients that use ``requests``, and through a live
loopback server by anything else (other HTTP libraries, other languages). Every request
passes one observer that records it with its virtual time and stops the client at the first
sign of a runaway (a poll after a terminal status, a tight loop, an hour of polling).
"""

from __future__ import annotations

import calendar
import contextlib
import ctypes
import io
import json
import logging
import math
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import responses
from werkzeug.serving import make_server
from werkzeug.test import Client

from contract_tests.commands import (
    CommandFailed,
    command_argv,
    communicate_until,
    faketime_environment,
    remove_faketime_shared_memory,
)
from contract_tests.errors import ClientStopped, UsageError
from contract_tests.model import GIVE_UP_LIMIT_SECONDS, Lifecycle
from contract_tests.runs import ClientRun, Request, StopReason
from contract_tests.virtual_time import VirtualClock, modules_of, patched_time

__all__ = ["API_KEY", "MockBackend"]

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


class _Observer:
    """Sees every request and sleep of one run; decides when to stop the client."""

    def __init__(self, run: ClientRun, created_epoch: float, now: Callable[[], float]) -> None:
        self.run = run
        self.created_epoch = created_epoch
        self.now = now
        self.clock_reads = 0

    def elapsed(self) -> float:
        return self.now() - self.created_epoch

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

    def _limits(self, elapsed: float) -> StopReason | None:
        if len(self.run.requests) > MAX_REQUESTS:
            return StopReason("too_many_requests", f"it made more than {MAX_REQUESTS} requests")
        if elapsed > _TIME_AFTER_LIMIT:
            return StopReason(
                "past_an_hour",
                f"it was still polling after {GIVE_UP_LIMIT_SECONDS:g}s (an hour) of virtual time",
            )
        return None


_REAL_TIME_STOP = StopReason(
    "too_long_in_real_time", f"it ran for more than {WALL_CLOCK_LIMIT:g}s of real time"
)


class _StopFromWatchdog(ClientStopped):
    def __init__(self) -> None:
        super().__init__(str(_REAL_TIME_STOP))


def _throw_into(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(_StopFromWatchdog)
    )


class MockBackend:
    """The mock for one check run, reachable in-process and over loopback."""

    def __init__(self, *, time_scale: float = 0.0) -> None:
        from mockserver import create_app

        self.time_scale = time_scale
        config: dict[str, Any] = {
            "TIME_SCALE": time_scale,
            "JOURNAL_SIZE": 10,
            "VALIDATE_RESPONSES": "off",
        }
        if time_scale == 0:
            config["START_TIME"] = KIT_START_TIME
        self.app = create_app(config)
        self.control = Client(self.app)
        self._observer: _Observer | None = None
        self._stop_reason: StopReason | None = None
        self._client_thread: int | None = None
        # The loopback server's access log would bury the kit's report.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server("127.0.0.1", 0, self._observed_app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop the loopback server."""
        self._server.shutdown()
        self._server.server_close()

    # --- control ------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.control.open(path, method=method, json=body)
        payload = response.get_json()
        if response.status_code != 200:
            raise UsageError(f"the mock refused {method} {path}: {payload}")
        return payload["data"]

    def now(self) -> float:
        """The mock's virtual time."""
        return float(self._control("GET", "/_mock/clock")["epoch_seconds"])

    def advance(self, seconds: float) -> None:
        """Move the mock's clock forward."""
        self._control("POST", "/_mock/clock/advance", {"seconds": seconds})

    def prepare(self, lifecycle: Lifecycle, case_id: str) -> tuple[str, float]:
        """Reset the mock and script ``lifecycle``: the report id and its creation time."""
        self._control("POST", "/_mock/reset")
        now = self.now()
        if self.time_scale == 0 and now != math.ceil(now):
            self.advance(math.ceil(now) - now)  # reports are created on whole seconds
        if lifecycle.not_found:
            return f"rpt_missing_{case_id}", self.now()
        created = self._control(
            "POST", "/_mock/reports", lifecycle.script(api_key=API_KEY, case_id=case_id)
        )
        if lifecycle.faults:
            rules = [fault.rule() for fault in lifecycle.faults]
            self._control("PUT", "/_mock/faults", {"rules": rules})
        created_epoch = float(
            calendar.timegm(time.strptime(created["created_at"], "%Y-%m-%dT%H:%M:%SZ"))
        )
        return str(created["id"]), created_epoch

    # --- the observed app ---------------------------------------------------------------

    def _observed_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The WSGI app behind the loopback server, recording each request."""
        status_code: list[int] = []
        seen_headers: dict[str, str] = {}

        def recording_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_code.append(int(status.split()[0]))
            seen_headers.update({name.lower(): value for name, value in headers})
            return start_response(status, headers, exc_info)

        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        try:
            body = list(self.app(environ, recording_start_response))
        except OSError:  # the mock dropped the connection (an injected fault)
            self._observe(method, path, 0, in_band=False, fault="drop")
            raise
        self._observe(
            method, path, status_code[0], in_band=False, headers=seen_headers, body=b"".join(body)
        )
        return body

    def _observe(
        self,
        method: str,
        path: str,
        status: int,
        *,
        in_band: bool,
        headers: dict[str, str] | None = None,
        fault: str | None = None,
        body: bytes = b"",
    ) -> None:
        observer = self._observer
        if observer is None or path.startswith("/_mock"):
            return
        headers = headers or {}
        fault = fault or headers.get(FAULT_HEADER.lower())
        retry_after = headers.get("retry-after")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        reason = observer.request(method, path, status, fault, seconds, _served_status(body))
        if reason:
            self._stop(reason, in_band=in_band)

    def _stop(self, reason: StopReason, *, in_band: bool) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        if in_band:
            raise ClientStopped(reason.text)
        if self._client_thread is not None:
            _throw_into(self._client_thread)

    def _through_wsgi(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        """The ``responses`` callback: hand a ``requests`` request to the app in-process."""
        parts = urlsplit(request.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body.encode() if isinstance(request.body, str) else request.body
        try:
            response = self.control.open(
                target, method=request.method, headers=dict(request.headers), data=body
            )
        except OSError as error:  # the mock dropped the connection (an injected fault)
            self._observe(request.method, parts.path, 0, in_band=True, fault="drop")
            raise requests.exceptions.ConnectionError(f"connection dropped: {error}") from error
        lowered = {name.lower(): value for name, value in response.headers.items()}
        self._observe(
            request.method, parts.path, response.status_code, in_band=True, headers=lowered
        )
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return response.status_code, headers, response.get_data()

    @staticmethod
    def _requests_mock(
        base_url: str, callback: Callable[[Any], tuple[int, dict[str, str], bytes]]
    ) -> responses.RequestsMock:
        mocked = responses.RequestsMock(assert_all_requests_are_fired=False)
        pattern = re.compile(re.escape(base_url) + r"(/.*)?$")
        for method in ("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD"):
            mocked.add_callback(method, pattern, callback=callback)
        return mocked

    # --- running clients ----------------------------------------------------------------

    def run_python(
        self, client: Callable[..., Any], lifecycle: Lifecycle, case_id: str
    ) -> ClientRun:
        """Run a Python polling client on virtual time."""
        report_id, created_epoch = self.prepare(lifecycle, case_id)
        run = ClientRun(lifecycle=lifecycle, report_id=report_id)
        clock = VirtualClock(self.now(), self.advance)
        observer = _Observer(run, created_epoch, lambda: clock.epoch)
        clock.before_sleep = lambda seconds: self._check(observer.sleep(seconds))
        clock.on_time_read = lambda: self._check(observer.clock_read())
        self._begin(observer)
        watchdog = threading.Timer(
            WALL_CLOCK_LIMIT, lambda: self._stop(_REAL_TIME_STOP, in_band=False)
        )
        watchdog.daemon = True
        try:
            with (
                self._requests_mock(self.base_url, self._through_wsgi),
                patched_time(clock, modules_of(client), [client]),
            ):
                watchdog.start()
                try:
                    # What the client prints is its own business, not the kit's report.
                    with contextlib.redirect_stdout(io.StringIO()):
                        run.returned = client(report_id, base_url=self.base_url, api_key=API_KEY)
                    run.did_return = True
                except ClientStopped:
                    pass
                except Exception as error:
                    run.raised = error
                finally:
                    watchdog.cancel()
        except ClientStopped:  # an asynchronous stop that landed after the client returned
            pass
        finally:
            run.ended_at = clock.epoch - created_epoch
            self._end(run)
        return run

    def _check(self, reason: StopReason | None) -> None:
        if reason:
            self._stop(reason, in_band=True)

    def _begin(self, observer: _Observer) -> None:
        self._observer = observer
        self._stop_reason = None
        self._client_thread = threading.get_ident()

    def _end(self, run: ClientRun) -> None:
        if self._stop_reason is not None:
            run.stopped, run.raised, run.did_return = self._stop_reason, None, False
        self._observer = None
        self._client_thread = None

    def run_command(self, command: str, lifecycle: Lifecycle, case_id: str) -> ClientRun:
        """Run a client command under libfaketime at the mock's time scale."""
        if self.time_scale <= 0:
            raise UsageError(
                "command clients need a running clock: create MockBackend(time_scale=100)"
            )
        report_id, created_epoch = self.prepare(lifecycle, case_id)
        run = ClientRun(lifecycle=lifecycle, report_id=report_id)
        observer = _Observer(run, created_epoch, self.now)
        self._begin(observer)
        self._client_thread = None  # a process, stopped by killing it, not by a thrown exception
        argv = command_argv(command.replace("{report_id}", report_id))
        environment = {
            **os.environ,
            **faketime_environment(self.time_scale),
            "SW_BASE_URL": self.base_url,
            "SW_API_KEY": API_KEY,
        }
        limit = min(WALL_CLOCK_LIMIT, (_TIME_AFTER_LIMIT + 120) / self.time_scale)
        # A session of its own, so that stopping it stops any children too.
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = communicate_until(process, limit, lambda: self._stop_reason)
        finally:
            run.ended_at = self.now() - created_epoch
            remove_faketime_shared_memory(process.pid)
        if self._stop_reason is None and process.returncode is None:
            self._stop_reason = _REAL_TIME_STOP
        if self._stop_reason is None:
            if process.returncode == 0:
                try:
                    run.returned, run.did_return = json.loads(stdout), True
                except json.JSONDecodeError:
                    run.raised = CommandFailed(
                        0, "exit 0 but stdout is not the report as JSON: " + stdout[-300:]
                    )
            else:
                run.raised = CommandFailed(process.returncode, stderr + stdout)
            gap = run.ended_at - (run.requests[-1].at if run.requests else 0.0)
            run.last_event = "poll" if run.requests and gap < 2.0 else "sleep"
        self._end(run)
        return run


def _served_status(body: bytes) -> str | None:
    """The ``data.status`` of a JSON envelope, if the body is one."""
    try:
        data = json.loads(body).get("data") if body else None
    except (ValueError, AttributeError):
        return None
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None
