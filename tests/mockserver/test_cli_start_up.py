"""What ``mockserver serve`` and ``mockserver record`` accept at start-up, through the real
command line: a default scenario that replays a scenario file (``--scenario file:NAME``, or
``MOCKSERVER_SCENARIO``), and the one exit status (2) of a command that cannot start as asked,
a busy port included, for both commands."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import SERVE_COMMAND, LiveServer

KEY = {"X-API-Key": "sk-default-file"}
BODY = {"case_id": "case_default_file", "type": "technical_report"}
RECORDED: dict[str, Any] = {
    "scenario_format": 1,
    "name": "prod_template_error",
    "timeline": [
        {"after_seconds": 0, "status": "pending", "progress": {"message": "Starting analysis..."}},
        {
            "after_seconds": 95,
            "status": "failed",
            "progress": {"message": "Report generation failed: template error"},
        },
    ],
    "extra_fields": {"region": "eu-west-1"},
    "outcome": {"status": "failed", "error": "Report generation failed: template error"},
}


@pytest.fixture
def recorded_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "recorded"
    folder.mkdir()
    (folder / "incident-7.json").write_text(json.dumps(RECORDED))
    return folder


def _run(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m mockserver ARGUMENTS`` to its end (a command that refuses to start)."""
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def _refused(finished: subprocess.CompletedProcess[str]) -> str:
    """The one line a command that did not start printed (it must have exited 2)."""
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert finished.stdout == "" and finished.stderr.count("\n") == 1, finished.stderr
    assert "Traceback" not in finished.stderr
    return finished.stderr.strip()


# --- a default scenario that replays a file -------------------------------------------------


@pytest.mark.parametrize("given_by", ["options", "environment"])
def test_a_default_file_scenario_replays_for_creates_without_the_header(
    start_server: Callable[..., LiveServer], recorded_dir: Path, given_by: str
) -> None:
    settings = ("--time-scale", "0", "--start-time", "2026-01-15T10:00:00Z")
    if given_by == "options":
        options = ("--scenario-file", str(recorded_dir), "--scenario", "file:prod_template_error")
        server = start_server(*settings, *options)
    else:
        variables = {
            "MOCKSERVER_SCENARIO_FILES": str(recorded_dir),
            "MOCKSERVER_SCENARIO": "file:incident-7",  # the file's stem names it too
        }
        server = start_server(*settings, env=variables)
    assert server.process.stdout is not None
    assert "default scenario file:" in server.process.stdout.readline()  # the banner's 2nd line

    created = requests.post(f"{server.url}/api/reports", json=BODY, headers=KEY, timeout=10)
    assert created.status_code == 200, created.text
    report = created.json()["data"]
    assert report["status"] == "pending" and report["region"] == "eu-west-1"
    named = requests.post(  # the header still wins over the default
        f"{server.url}/api/reports",
        json=BODY,
        headers={**KEY, "X-Mock-Scenario": "happy"},
        timeout=10,
    ).json()["data"]
    assert "region" not in named

    advanced = requests.post(f"{server.url}/_mock/clock/advance", json={"seconds": 95}, timeout=10)
    assert advanced.status_code == 200
    polled = requests.get(f"{server.url}/api/reports/{report['id']}", headers=KEY, timeout=10)
    failed = polled.json()["data"]
    assert failed["status"] == "failed"
    assert failed["progress"]["message"] == "Report generation failed: template error"
    assert failed["updated_at"] == "2026-01-15T10:01:35Z"  # +95 s, as recorded
    listed = requests.get(f"{server.url}/_mock/scenarios", timeout=10).json()["data"]
    assert listed["default"].startswith("file:")


def test_a_default_file_scenario_that_is_not_loaded_stops_serve(recorded_dir: Path) -> None:
    line = _refused(
        _run("serve", "--port", "0", "--scenario-file", str(recorded_dir), "--scenario", "file:x")
    )
    assert line == (
        "mockserver: SCENARIO='file:x': no loaded scenario file is called 'x'. Loaded: "
        "file:incident-7, file:prod_template_error; choose one of them, or add its file with "
        "--scenario-file PATH"
    )


@pytest.mark.parametrize(
    ("arguments", "env"),
    [
        (("--scenario", "file:incident-7"), {}),
        ((), {"MOCKSERVER_SCENARIO": "file:incident-7"}),
    ],
    ids=["option", "environment"],
)
def test_a_default_file_scenario_without_scenario_files_stops_serve(
    arguments: tuple[str, ...], env: dict[str, str]
) -> None:
    line = _refused(_run("serve", "--port", "0", *arguments, env=env))
    assert line == (
        "mockserver: SCENARIO='file:incident-7' replays a scenario file, but none is loaded: "
        "add --scenario-file PATH (MOCKSERVER_SCENARIO_FILES) with the file called "
        "'incident-7', or choose a named scenario"
    )


@pytest.mark.parametrize("name", ["file:", "nonsense"])
def test_a_default_scenario_that_is_no_scenario_is_a_usage_error(name: str) -> None:
    finished = _run("serve", "--port", "0", "--scenario", name)
    assert finished.returncode == 2 and "Traceback" not in finished.stderr
    assert f"argument --scenario: {name!r} is not a scenario: use one of happy," in finished.stderr
    assert "or file:NAME to replay a scenario file loaded with --scenario-file" in finished.stderr


# --- a busy port: exit status 2 for both commands -------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        yield other_program.getsockname()[1]


def test_serve_on_a_busy_port_exits_2_naming_the_fix(busy_port: int) -> None:
    line = _refused(_run("serve", "--port", str(busy_port)))
    assert line == (
        f"mockserver: port {busy_port} on 127.0.0.1 is already in use by another program "
        "(or another mock): stop it, or choose another --port"
    )


def test_record_on_a_busy_port_exits_2_with_the_same_words(busy_port: int) -> None:
    upstream = "http://127.0.0.1:9"  # never contacted: the proxy does not start
    line = _refused(_run("record", "--upstream", upstream, "--port", str(busy_port)))
    assert line == (
        f"mockserver record: port {busy_port} on 127.0.0.1 is already in use by another "
        "program (or another mock): stop it, or choose another --port"
    )


def test_record_on_the_port_of_a_running_mock_exits_2(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    port = server.url.rsplit(":", 1)[1]
    finished = _run("record", "--upstream", server.url, "--port", port)
    assert "is already in use" in _refused(finished)
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_a_refused_start_and_a_busy_port_share_one_exit_status(busy_port: int) -> None:
    bad_option = subprocess.run(
        [*SERVE_COMMAND, "--port", "0", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    busy = _run("serve", "--port", str(busy_port))
    bad_upstream = _run("record", "--upstream", "localhost:8080", "--port", "0")
    assert {bad_option.returncode, busy.returncode, bad_upstream.returncode} == {2}
