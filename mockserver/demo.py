"""``mockserver demo``: the documented workflow in one command, against a live mock.

Starts a mock in this process on a free loopback port (or uses the one at ``--url``), creates
a report with ``options.use_demo_data: true``, polls it as the polling guide recommends (every
5 s of virtual time, giving up after the documented 2 minutes), draws its progress, then
downloads the PDF and the DOCX through their signed URLs and says where they are.

It talks to the server over HTTP only, like any client would.
"""

from __future__ import annotations

import json
import textwrap
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import requests

from mockserver.core.clock import parse_timestamp

__all__ = [
    "DEMO_API_KEY",
    "DEMO_CASE_ID",
    "DemoError",
    "ProgressDisplay",
    "local_server",
    "progress_fraction",
    "run_demo",
]

DEMO_API_KEY = "sk-demo"
DEMO_CASE_ID = "case_demo"
#: Documented: poll every 5 seconds; give up on a demo-data report after 2 minutes.
POLL_EVERY_VIRTUAL_SECONDS = 5.0
GIVE_UP_AFTER_VIRTUAL_SECONDS = 120.0
#: Real seconds added to the deadline for the HTTP round trips themselves.
DEADLINE_GRACE_SECONDS = 5.0
SHORTEST_POLL_SECONDS = 0.05
HTTP_TIMEOUT_SECONDS = 30.0
PIPELINE_STEPS = ("delta_v_calculation", "biomechanics_analysis", "report_generation")
TERMINAL_STATUSES = ("completed", "failed", "cancelled")


class DemoError(Exception):
    """Raised when the demo cannot go on; the message says what went wrong and what to do."""


@contextmanager
def local_server(time_scale: float) -> Iterator[str]:
    """A mock in this process on a free loopback port, for the ``with`` block; its base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    from mockserver.app import create_app

    class QuietRequestHandler(WSGIRequestHandler):
        """Leaves the terminal to the demo: no access log line per request."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    app = create_app({"TIME_SCALE": time_scale})
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="mockserver-demo", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def progress_fraction(report: Mapping[str, Any]) -> float:
    """How far along a report looks from its wire object alone: steps done out of three."""
    if report.get("status") == "completed":
        return 1.0
    progress = report.get("progress") or {}
    done = [step for step in progress.get("steps_completed") or [] if step in PIPELINE_STEPS]
    running = 0.5 if progress.get("current_step") in PIPELINE_STEPS else 0.0
    return min(1.0, (len(done) + running) / len(PIPELINE_STEPS))


class ProgressDisplay:
    """Draws a report's progress: one bar redrawn in place on a terminal, one line per change
    elsewhere (a pipe, a log, a test)."""

    def __init__(self, stream: TextIO, *, width: int = 24) -> None:
        self.stream = stream
        self.width = width
        self.interactive = stream.isatty()
        self._last_shown: tuple[object, ...] | None = None
        self._drawn = False

    def line(self, report: Mapping[str, Any]) -> str:
        """The progress line of ``report``: bar, percentage, status, step and message."""
        fraction = progress_fraction(report)
        filled = round(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        progress = report.get("progress") or {}
        step = progress.get("current_step") or "-"
        message = progress.get("message") or ""
        return f"   [{bar}] {fraction:4.0%}  {report.get('status', '?'):<10} {step:<22} {message}"

    def show(self, report: Mapping[str, Any]) -> None:
        """Draw ``report`` if anything a reader cares about changed (always, on a terminal)."""
        progress = report.get("progress") or {}
        shown = (report.get("status"), progress.get("current_step"), progress.get("message"))
        if self.interactive:
            self.stream.write("\r\x1b[2K" + self.line(report))
            self._drawn = True
        elif shown != self._last_shown:
            self.stream.write(self.line(report) + "\n")
        self._last_shown = shown
        self.stream.flush()

    def finish(self) -> None:
        """End the redrawn line, so what follows starts on its own."""
        if self.interactive and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


class _DemoClient:
    """The few HTTP calls of the workflow, with errors turned into :class:`DemoError`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = DEMO_API_KEY

    def data(self, method: str, path: str, **options: Any) -> Any:
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, timeout=HTTP_TIMEOUT_SECONDS, **options)
            envelope = response.json()
        except (requests.RequestException, ValueError) as error:
            raise DemoError(
                f"{method} {url} failed: {error}. Is a mock listening there?"
            ) from error
        if not isinstance(envelope, dict) or envelope.get("success") is not True:
            detail = envelope.get("error") if isinstance(envelope, dict) else envelope
            raise DemoError(f"{method} {url} answered {response.status_code}: {detail}")
        return envelope.get("data")

    def has_inspector(self) -> bool:
        try:
            response = self.session.get(f"{self.base_url}/_mock/", timeout=HTTP_TIMEOUT_SECONDS)
        except requests.RequestException:
            return False
        return response.status_code == 200

    def download(self, url: str) -> bytes:
        try:
            response = self.session.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise DemoError(f"downloading {url} failed: {error}") from error
        if response.status_code != 200:
            raise DemoError(f"downloading {url} answered {response.status_code}: {response.text}")
        return response.content

    def close(self) -> None:
        self.session.close()


def _server_time_scale(client: _DemoClient) -> float:
    health = client.data("GET", "/healthz")
    scale = health.get("time_scale") if isinstance(health, dict) else None
    return float(scale) if isinstance(scale, int | float) else 1.0


def _check_document(extension: str, content: bytes) -> None:
    if extension == "pdf" and not content.startswith(b"%PDF-"):
        raise DemoError("the PDF download does not start with %PDF-")
    if extension == "docx":
        from io import BytesIO

        if not zipfile.is_zipfile(BytesIO(content)):
            raise DemoError("the DOCX download is not a zip archive")


def _follow(
    client: _DemoClient, report_id: str, time_scale: float, out: TextIO
) -> tuple[dict[str, Any], int]:
    """Poll until the report settles; the final report and how many polls it took."""
    interval = max(SHORTEST_POLL_SECONDS, POLL_EVERY_VIRTUAL_SECONDS / time_scale)
    deadline = time.monotonic() + GIVE_UP_AFTER_VIRTUAL_SECONDS / time_scale
    deadline += DEADLINE_GRACE_SECONDS
    display = ProgressDisplay(out)
    polls = 0
    try:
        while True:
            report: dict[str, Any] = client.data("GET", f"/api/reports/{report_id}")
            polls += 1
            display.show(report)
            if report["status"] in TERMINAL_STATUSES:
                return report, polls
            if time.monotonic() > deadline:
                raise DemoError(
                    f"{report_id} is still {report['status']} after the documented 2 minutes "
                    "of virtual time: the server may run a scenario that never ends"
                )
            time.sleep(interval)
    finally:
        display.finish()


def _virtual_seconds(report: Mapping[str, Any]) -> float:
    return parse_timestamp(report["updated_at"]) - parse_timestamp(report["created_at"])


def run_demo(base_url: str | None, *, time_scale: float, output_dir: Path, out: TextIO) -> int:
    """Run the workflow against ``base_url`` (or a mock started here); the exit status.

    Raises :class:`DemoError` when a step fails; the caller prints it.
    """
    started = time.monotonic()
    if base_url is None:
        with local_server(time_scale) as local_url:
            out.write(f"Started a mock at {local_url} (time scale {time_scale:g}x).\n")
            return _workflow(local_url, output_dir, out, started)
    return _workflow(base_url, output_dir, out, started)


def _workflow(base_url: str, output_dir: Path, out: TextIO, started: float) -> int:
    client = _DemoClient(base_url)
    try:
        time_scale = _server_time_scale(client)
        if time_scale <= 0:
            raise DemoError(
                "the server's clock is frozen (time scale 0): move it with "
                "POST /_mock/clock/advance, or run without --url to start a mock here"
            )
        if client.has_inspector():
            out.write(f"Watch it live in the inspector: {client.base_url}/_mock/\n")
        out.write("\n")
        body: dict[str, Any] = {
            "case_id": DEMO_CASE_ID,
            "type": "technical_report",
            "options": {"use_demo_data": True},
        }
        out.write(f"1. POST /api/reports {json.dumps(body)}\n")
        created = client.data("POST", "/api/reports", json=body)
        report_id = created["id"]
        out.write(f"   -> {report_id} {created['status']}\n\n")
        out.write(f"2. GET /api/reports/{report_id} every 5 s (virtual) until it settles\n")
        out.flush()
        report, polls = _follow(client, report_id, time_scale, out)
        seconds = _virtual_seconds(report)
        out.write(f"   -> {report['status']} after {seconds:g} s of virtual time, {polls} polls\n")
        if report["status"] != "completed":
            message = (report.get("progress") or {}).get("message") or "no message"
            out.write(f"   The report did not complete: {message}\n")
            return 1
        out.write("\n3. Download the documents through their signed URLs (valid for one hour)\n")
        output_dir.mkdir(parents=True, exist_ok=True)
        for extension in ("pdf", "docx"):
            content = client.download(report["output"][f"{extension}_url"])
            _check_document(extension, content)
            path = (output_dir / f"{report_id}.{extension}").resolve()
            path.write_bytes(content)
            out.write(f"   {extension.upper():<4} {path} ({len(content):,} bytes)\n")
        structured = report["output"].get("report") or {}
        titles = [section.get("title", "?") for section in structured.get("sections") or []]
        if titles:
            summary = f"The report has {len(titles)} sections: {', '.join(titles)}."
            out.write("\n" + textwrap.fill(summary, width=96) + "\n")
        out.write(f"Done in {time.monotonic() - started:.1f} s.\n")
        out.flush()
        return 0
    finally:
        client.close()
