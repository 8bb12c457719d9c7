"""Provider verification (issue 14, part 2): ``verify`` finds no drift in the mock on a running
clock, and names each drift of a deliberately drifted mock (a WSGI middleware in front of it)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contract_tests import cli
from contract_tests.drift import DriftReport
from contract_tests.errors import UsageError
from contract_tests.verify import verify_provider
from contract_tests.verify_http import ProviderHttp, ProviderUnreachable

from .conftest import run_kit

KEY = "sk-live-0123456789abcdef"
#: Virtual seconds per real second: the demo report's 55 s take about 1.1 s. Polls every
#: 0.1 s are 5 virtual seconds, the documented pace.
TIME_SCALE = 50
POLL_EVERY = 0.1
#: Real seconds before a run gives up waiting; a run on the mock ends in a few.
GIVE_UP_AFTER = 60.0

Json = Any
Rewrite = Callable[[str, Json], Json]


@pytest.fixture
def running_mock(app_factory: Any) -> Callable[..., Any]:
    """``running_mock(**settings)``: a mock on a running clock, as a live deployment would be."""

    def build(**overrides: Any) -> Any:
        return app_factory(TIME_SCALE=TIME_SCALE, START_TIME=None, **overrides)

    return build


class Drifted:
    """WSGI middleware: the mock's answers, changed by ``rewrite(path, body)`` (JSON answers)
    or ``download(path, bytes)`` (documents) before they leave."""

    def __init__(
        self,
        app: Any,
        rewrite: Rewrite | None = None,
        download: Callable[[str, bytes], bytes] | None = None,
        status: Callable[[str, str], str] | None = None,
    ) -> None:
        self.app = app
        self.rewrite = rewrite
        self.download = download
        self.status = status

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        path, status = environ["PATH_INFO"], captured["status"]
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        if path.startswith("/storage/") and self.download is not None:
            body = self.download(path, body)
        elif path.startswith("/api/") and self.rewrite is not None:
            body = json.dumps(self.rewrite(path, json.loads(body))).encode()
        if self.status is not None:
            status = self.status(path, status)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


def verify(base_url: str, **options: Any) -> DriftReport:
    return verify_provider(
        base_url, KEY, poll_interval=POLL_EVERY, timeout=GIVE_UP_AFTER, **options
    )


def report_data(body: Json) -> dict[str, Any] | None:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) and "status" in data else None


# -- the mock as it is: no drift -----------------------------------------------------------


def test_the_mock_on_a_running_clock_shows_no_drift(
    serve_on_loopback: Any, running_mock: Any
) -> None:
    report = verify(serve_on_loopback(running_mock()))
    assert not report.drifted, report.render()
    assert report.observed_statuses == ["pending", "processing", "completed"]
    assert report.observed_messages == [
        "Starting analysis...",
        "Running biomechanics analysis...",
        "Analysis complete. Building report documents...",
        "Report generation complete",
    ]
    assert report.final_status == "completed" and report.report_id
    for check in (
        "unauthorized", "unknown_id", "list_requires_case_id", "create", "schema", "envelope",
        "documented_fields", "status_order", "progress_messages", "progress_steps",
        "timestamps", "timing", "downloads", "url_expiry", "fresh_urls", "list",
    ):  # fmt: skip
        assert check in report.checks_run
    assert "NO DRIFT" in report.render()


# -- drifted mocks: each drift named -------------------------------------------------------


def rename_pdf_url(path: str, body: Json) -> Json:
    data = report_data(body)
    if data and isinstance(data.get("output"), dict):
        data["output"]["pdf_link"] = data["output"].pop("pdf_url")
    return body


def rename_steps_completed(path: str, body: Json) -> Json:
    data = report_data(body)
    if data and isinstance(data.get("progress"), dict) and "steps_completed" in data["progress"]:
        data["progress"]["completed_steps"] = data["progress"].pop("steps_completed")
    return body


def add_a_rendering_status(path: str, body: Json) -> Json:
    data = report_data(body)
    step = ((data or {}).get("progress") or {}).get("current_step")
    if data and step == "report_generation" and data["status"] == "processing":
        data["status"] = "rendering"
    return body


def change_a_message(path: str, body: Json) -> Json:
    data = report_data(body)
    progress = (data or {}).get("progress") or {}
    if progress.get("message") == "Analysis complete. Building report documents...":
        progress["message"] = "Building your documents..."
    return body


def go_back_to_pending(path: str, body: Json) -> Json:
    data = report_data(body)
    if data and (data.get("progress") or {}).get("current_step") == "biomechanics_analysis":
        data["status"] = "pending"
    return body


def same_urls_every_time() -> Rewrite:
    first: dict[str, dict[str, str]] = {}

    def rewrite(path: str, body: Json) -> Json:
        data = report_data(body)
        if data and isinstance(data.get("output"), dict):
            output = data["output"]
            kept = first.setdefault(data["id"], dict(output))
            output["pdf_url"], output["docx_url"] = kept["pdf_url"], kept["docx_url"]
        return body

    return rewrite


def not_found_is_a_404(path: str, status: str) -> str:
    return "404 NOT FOUND" if path.endswith("no_such_report") else status


def take_ten_minutes(path: str, body: Json) -> Json:
    data = report_data(body)
    if data and data["status"] == "completed":
        created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
        data["updated_at"] = (created + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


def an_html_page(path: str, content: bytes) -> bytes:
    return b"<html><body>Sign in to download</body></html>"


DRIFTS: dict[str, tuple[dict[str, Any], str, str]] = {
    # name: (Drifted's arguments, the check that names it, words of the drift)
    "a renamed output field": (
        {"rewrite": rename_pdf_url},
        "schema",
        "$.data.output: 'pdf_url' is a required property",
    ),
    "a renamed progress field": (
        {"rewrite": rename_steps_completed},
        "documented_fields",
        "data.progress.steps_completed absent (documented); undocumented "
        "data.progress.completed_steps instead (renamed?)",
    ),
    "an added status": (
        {"rewrite": add_a_rendering_status},
        "schema",
        "$.data.status: 'rendering' is not one of",
    ),
    "a changed progress message": (
        {"rewrite": change_a_message},
        "progress_messages",
        "progress.message 'Building your documents...' is not documented",
    ),
    "a status that goes back": (
        {"rewrite": go_back_to_pending},
        "status_order",
        "status went 'processing' -> 'pending'",
    ),
    "URLs that do not download": (
        {"download": an_html_page},
        "downloads",
        "the pdf_url did not download a PDF (no %PDF- header)",
    ),
    "the same URLs on every GET": (
        {"rewrite": same_urls_every_time()},
        "fresh_urls",
        "a second GET returned the same pdf_url",
    ),
    "a 404 for an unknown id": (
        {"status": not_found_is_a_404},
        "unknown_id",
        'an unknown id must answer HTTP 200 {"success": true, "data": null}',
    ),
    "a report past its window": (
        {"rewrite": take_ten_minutes},
        "timing",
        "the report took 600 s",
    ),
}


@pytest.mark.parametrize("name", list(DRIFTS))
def test_each_drift_of_a_drifted_mock_is_named(
    name: str, serve_on_loopback: Any, running_mock: Any
) -> None:
    arguments, check, words = DRIFTS[name]
    report = verify(serve_on_loopback(Drifted(running_mock(), **arguments)))
    assert report.drifted, f"{name} went unnoticed:\n{report.render()}"
    named = [drift for drift in report.drifts if drift.check == check and words in drift.what]
    assert named, f"{name}: no {check} drift saying {words!r}:\n{report.render()}"
    assert named[0].where, named[0]
    assert check in report.render() and words in report.render()


def test_urls_that_do_not_expire_are_the_only_drift(
    serve_on_loopback: Any, running_mock: Any
) -> None:
    ten_years = 10 * 365 * 86400
    report = verify(serve_on_loopback(running_mock(URL_TTL_SECONDS=ten_years)))
    assert report.drifted_checks() == ["url_expiry"], report.render()
    assert "documented: one hour" in report.drifts[0].what
    assert "expires=" in report.drifts[0].where  # the URL that shows it


def test_the_same_drift_on_every_poll_is_reported_once_with_a_count(
    serve_on_loopback: Any,
    running_mock: Any,
) -> None:
    def extra_step(path: str, body: Json) -> Json:
        data = report_data(body)
        if data and data["status"] == "processing":
            data["progress"]["current_step"] = "image_upload"
        return body

    report = verify(serve_on_loopback(Drifted(running_mock(), rewrite=extra_step)))
    steps = [drift for drift in report.drifts if "'image_upload'" in drift.what]
    assert len(steps) == 1 and steps[0].occurrences > 1, report.render()
    assert f"(seen {steps[0].occurrences} times)" in report.render()


# -- the key is never shown ----------------------------------------------------------------


def echo_the_key_on_a_404(app: Any) -> Any:
    def echoing(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"].endswith("no_such_report"):
            key = environ.get("HTTP_X_API_KEY", "")
            body = json.dumps({"success": False, "error": f"no such report for key {key}"})
            start_response("404 NOT FOUND", [("Content-Type", "application/json")])
            return [body.encode()]
        return list(app(environ, start_response))

    return echoing


def test_the_key_is_masked_even_where_the_server_echoes_it(
    serve_on_loopback: Any, running_mock: Any, tmp_path: Path
) -> None:
    report = verify(serve_on_loopback(echo_the_key_on_a_404(running_mock())))
    assert report.drifted_checks() == ["unknown_id"], report.render()
    report.write_json(tmp_path / "drift.json")
    for shown in (report.render(), (tmp_path / "drift.json").read_text(), repr(report)):
        assert KEY not in shown
    assert "no such report for key sk-***" in report.render()


def test_an_unreachable_host_raises_without_the_key() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ProviderUnreachable) as raised:
        verify_provider(f"http://127.0.0.1:{port}", KEY, poll_interval=POLL_EVERY)
    assert f"127.0.0.1:{port}" in str(raised.value) and "Check --base-url" in str(raised.value)
    assert KEY not in str(raised.value) and KEY not in repr(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert KEY not in repr(ProviderHttp("http://127.0.0.1:1", KEY))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"base_url": "ftp://example.com"}, "is not an http(s) URL"),
        ({"api_key": ""}, "--api-key is empty"),
        ({"timeout": 0}, "--timeout 0"),
        ({"case_id": ""}, "--case-id is empty"),
    ],
)
def test_bad_arguments_say_what_to_pass(arguments: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"base_url": "http://127.0.0.1:9", "api_key": KEY, **arguments}
    with pytest.raises(UsageError, match=re.escape(message)):
        verify_provider(options.pop("base_url"), options.pop("api_key"), **options)


# -- the command line ----------------------------------------------------------------------


def kit_verify(*arguments: str) -> subprocess.CompletedProcess[str]:
    return run_kit("verify", *arguments)


def test_the_command_exits_0_on_the_mock_and_writes_json(
    serve_on_loopback: Any, running_mock: Any, tmp_path: Path
) -> None:
    base_url = serve_on_loopback(running_mock())
    out = tmp_path / "drift.json"
    result = kit_verify(
        "--base-url", base_url, "--api-key", KEY, "--poll-every", str(POLL_EVERY),
        "--json", str(out), "--case-id", "case_cli",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NO DRIFT" in result.stdout
    written = json.loads(out.read_text())
    assert written["drifted"] is False and written["final_status"] == "completed"
    assert written["api_key"] == "sk-***"
    assert KEY not in result.stdout + result.stderr + out.read_text()


def test_the_command_exits_1_on_drift_naming_it(
    serve_on_loopback: Any, running_mock: Any, tmp_path: Path
) -> None:
    base_url = serve_on_loopback(Drifted(running_mock(), rewrite=change_a_message))
    out = tmp_path / "drift.json"
    result = kit_verify(
        "--base-url", base_url, "--api-key", KEY, "--poll-every", str(POLL_EVERY),
        "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[progress_messages]" in result.stdout and "Building your documents..." in result.stdout
    assert json.loads(out.read_text())["drifted_checks"] == ["progress_messages"]
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--base-url", "http://127.0.0.1:9", "--api-key", KEY], "got no answer"),
        (["--base-url", "localhost:8080", "--api-key", KEY], "is not an http(s) URL"),
        (["--api-key", KEY], "--base-url"),
        (["--base-url", "http://127.0.0.1:9", "--api-key", KEY, "--timeout", "-1"], "--timeout"),
    ],
)
def test_the_command_exits_2_on_usage_errors_and_unreachable_hosts(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["verify", *arguments])
    printed = capsys.readouterr()
    assert status == 2, printed.out + printed.err
    assert message in printed.err
    assert KEY not in printed.out + printed.err


# -- what is not drift, and what ends the workflow early -----------------------------------


def a_503_on_the_second_poll(app: Any) -> Any:
    polls: list[str] = []

    def flaky(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if environ["REQUEST_METHOD"] == "GET" and path.startswith("/api/reports/rpt_"):
            polls.append(path)
            if len(polls) == 2:
                body = json.dumps({"success": False, "error": "Service unavailable"}).encode()
                start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "application/json")])
                return [body]
        return list(app(environ, start_response))

    return flaky


def test_a_transient_503_on_a_poll_is_a_note_not_drift(
    serve_on_loopback: Any, running_mock: Any
) -> None:
    report = verify(serve_on_loopback(a_503_on_the_second_poll(running_mock())))
    assert not report.drifted, report.render()
    assert len(report.notes) == 1 and "HTTP 503" in report.notes[0], report.notes
    assert "note: GET /api/reports/rpt_" in report.render()


def test_a_demo_report_that_fails_is_drift_and_nothing_is_downloaded(
    serve_on_loopback: Any, running_mock: Any
) -> None:
    report = verify(serve_on_loopback(running_mock(SCENARIO="fail_delta_v")))
    assert report.drifted_checks() == ["completes"], report.render()
    assert "ended failed ('Delta-V calculation failed: insufficient image quality')" in (
        report.drifts[0].what
    )
    assert report.final_status == "failed"
    assert "downloads" not in report.checks_run


def test_a_key_the_deployment_refuses_is_a_usage_error(
    serve_on_loopback: Any, running_mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    base_url = serve_on_loopback(running_mock(API_KEYS="sk-someone-else"))
    status = cli.main(["verify", "--base-url", base_url, "--api-key", KEY, "--poll-every", "0.1"])
    printed = capsys.readouterr()
    assert status == 2, printed.out + printed.err
    assert "answered 401 to --api-key sk-***" in printed.err
    assert "Pass a key this deployment accepts." in printed.err
    assert KEY not in printed.out + printed.err
