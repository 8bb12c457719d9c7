"""Runs one client against one generated lifecycle, on the mock, on virtual time.

One :class:`MockBackend` serves a whole check run: the mock's WSGI app on a frozen clock
behind the kit's single-threaded loopback server, which every client reaches over real
sockets. ``backend.clock`` is the run's :class:`~contract_tests.kit_clock.KitClock` (the
``ClockAuthority``). Every answered request passes one observer
(:mod:`contract_tests.run_observers`), in the server's loop where the mock answered, which
records it with its virtual time and stops the client at the first sign of a runaway (a poll
after a terminal status, a tight loop, an hour of polling); the run in progress and how its
client is stopped are :mod:`contract_tests.run_supervision`'s. Python clients run in a thread
of their own with every clock and wait virtualised (:mod:`contract_tests.thread_runner`); the
kit's thread keeps real time for its safety-net watchdog. Commands run as processes on the
same clock (:mod:`contract_tests.command_runner`).
"""

from __future__ import annotations

import calendar
import io
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from contract_tests import command_runner, thread_runner
from contract_tests.errors import UsageError
from contract_tests.kit_clock import KitClock
from contract_tests.loopback import LoopbackServer
from contract_tests.model import Lifecycle
from contract_tests.run_observers import (
    FAULT_HEADER,
    MAX_CLOCK_READS,
    MAX_REQUESTS,
    MIN_POLL_GAP_SECONDS,
    PaceObserver,
    PollingObserver,
    RunObserver,
)
from contract_tests.run_supervision import WALL_CLOCK_LIMIT, RunSupervisor, WsgiApp
from contract_tests.runs import ClientRun, RunRecord

__all__ = [
    "API_KEY",
    "FAULT_HEADER",
    "KIT_START_TIME",
    "MAX_CLOCK_READS",
    "MAX_REQUESTS",
    "MIN_POLL_GAP_SECONDS",
    "WALL_CLOCK_LIMIT",
    "MockBackend",
    "PaceObserver",
    "RunObserver",
    "WsgiApp",
]

API_KEY = "sk-contract-kit"
#: Where the kit's frozen clock starts, so runs are reproducible.
KIT_START_TIME = "2026-01-15T10:30:00Z"


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
        #: The run in progress: its observer, its stop reason, its client's thread.
        self.supervisor = RunSupervisor()
        served = self.app if middleware is None else middleware(self.app)
        self.server = LoopbackServer(
            self.supervisor.note_arrivals(served), self.supervisor.on_answer
        )
        self.base_url = self.server.base_url
        self.clock = KitClock(
            self.server, self._read_mock_clock, self._advance_mock_clock, frozen=time_scale == 0
        )
        self.clock.gate = self.supervisor.gate

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

    # --- running clients ----------------------------------------------------------------

    def run_python(
        self, client: Callable[..., Any], lifecycle: Lifecycle, case_id: str
    ) -> ClientRun:
        """Run a Python polling client (a function or a coroutine function) on virtual time."""
        report_id, created_epoch = self.prepare(lifecycle, case_id)
        run = ClientRun(lifecycle=lifecycle, report_id=report_id)
        observer = PollingObserver(run, created_epoch, self.clock.now)
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
        thread_runner.run_in_thread(
            self.supervisor, self.clock, call, run, observer, created_epoch, WALL_CLOCK_LIMIT
        )

    def _end(self, run: RunRecord) -> None:
        self.supervisor.end(run)

    def run_command(self, command: str, lifecycle: Lifecycle, case_id: str) -> ClientRun:
        """Run a client command (any language) on the kit's discrete-event clock.

        A libc program (bash, curl, Node, Python, ...) runs with the preload library of
        :mod:`contract_tests.command_clock`; a Go or static binary runs under the syscall
        tracer of :mod:`contract_tests.syscall_clock`. Either way its sleeps and timed waits
        move the virtual clock by exactly their length, and nothing else does. A client seen
        sleeping in real time instead gets no verdict: ``ClockNotFollowed`` (exit 2).
        """
        report_id, created_epoch = self.prepare(lifecycle, case_id)
        run = ClientRun(lifecycle=lifecycle, report_id=report_id)
        observer = PollingObserver(run, created_epoch, self.clock.now)
        outcome = self.run_process(
            command.replace("{report_id}", report_id), run, observer, created_epoch, {}
        )
        command_runner.judge_polling_command(run, outcome)
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
        return command_runner.run_process(
            self.supervisor,
            self.clock,
            command,
            run,
            observer,
            created_epoch,
            {"SW_BASE_URL": self.base_url, "SW_API_KEY": API_KEY, **environment},
            WALL_CLOCK_LIMIT,
        )
