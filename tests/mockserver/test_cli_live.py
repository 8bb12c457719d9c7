"""The real command line: start `python -m mockserver serve` on a free port and use it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

KEY = {"X-API-Key": "sk-live-smoke"}


@pytest.fixture
def live_server() -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            "0",
            "--time-scale",
            "100",
            "--validate-responses",
            "raise",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", first_line)
        assert match, f"unexpected first line: {first_line!r}"
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_cli_serves_a_report_to_completion_at_a_high_time_scale(live_server: str) -> None:
    created = requests.post(
        f"{live_server}/api/reports",
        json={"case_id": "case_live", "type": "technical_report"},
        headers=KEY,
        timeout=5,
    ).json()["data"]
    seen = [created["status"]]  # pending at creation, whatever the load of the machine
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        data = requests.get(
            f"{live_server}/api/reports/{created['id']}", headers=KEY, timeout=5
        ).json()["data"]
        if not seen or seen[-1] != data["status"]:
            seen.append(data["status"])
        if data["status"] == "completed":
            break
        time.sleep(0.05)
    assert seen == ["pending", "processing", "completed"]
    pdf = requests.get(data["output"]["pdf_url"], timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_cli_prints_how_to_reach_the_control_api() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert any("/_mock/clock" in line for line in lines)


def test_cli_rejects_a_negative_time_scale() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--time-scale", "-1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "negative" in result.stderr
