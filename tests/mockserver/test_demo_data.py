"""``use_demo_data: true``: the same report, byte for byte, on every run, inside two minutes.

Each run is a fresh Python process (no cache shared between them); the second runs under
libfaketime on another date, so anything that leaks the wall clock into the report or its
documents (a PDF creation date, the timestamps of the DOCX's zip entries) shows up as a
difference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from ..conftest import require_binary

#: Creates the first report of a fresh mock (so its id is the same on every run), moves the
#: clock 119 s (inside the documented 2 minutes), and prints what a client received.
RUN_ONCE = r"""
import hashlib, json
from mockserver import create_app

app = create_app({"TIME_SCALE": 0, "VALIDATE_RESPONSES": "raise"})
client = app.test_client()
key = {"X-API-Key": "sk-demo-determinism"}
body = {"case_id": "case_demo", "type": "technical_report", "options": {"use_demo_data": True}}
created = client.post("/api/reports", json=body, headers=key).get_json()["data"]
client.post("/_mock/clock/advance", json={"seconds": 119})
report = client.get(f"/api/reports/{created['id']}", headers=key).get_json()["data"]
documents = {}
for extension in ("pdf", "docx"):
    response = client.get(report["output"][f"{extension}_url"])
    assert response.status_code == 200, response.data[:200]
    documents[extension] = hashlib.sha256(response.data).hexdigest()
    response.close()
print(json.dumps({
    "id": report["id"],
    "status": report["status"],
    "report": report["output"]["report"],
    **documents,
}))
"""
OTHER_DAY = "2031-07-04 23:59:30"
RUN_TIMEOUT_SECONDS = 60


def run_once(*prefix: str) -> dict[str, Any]:
    result = subprocess.run(
        [*prefix, sys.executable, "-c", RUN_ONCE],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        env={**os.environ, "PYTHONHASHSEED": "random"},
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return seen


@pytest.fixture(scope="module")
def two_runs() -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo report of two fresh processes, today and (under faketime) on another day."""
    faketime = require_binary("faketime", package="faketime")
    return run_once(), run_once(faketime, OTHER_DAY)


def test_demo_report_completes_inside_the_documented_two_minutes(
    two_runs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    assert [run["status"] for run in two_runs] == ["completed", "completed"]


def test_first_demo_report_of_a_fresh_mock_has_the_same_id(
    two_runs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    today, other_day = two_runs
    assert today["id"] == other_day["id"]


def test_demo_structured_report_is_identical_on_every_run(
    two_runs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    today, other_day = two_runs
    assert json.dumps(today["report"], sort_keys=True) == json.dumps(
        other_day["report"], sort_keys=True
    )


@pytest.mark.parametrize("extension", ["pdf", "docx"])
def test_demo_document_is_byte_for_byte_identical_on_every_run(
    two_runs: tuple[dict[str, Any], dict[str, Any]], extension: str
) -> None:
    today, other_day = two_runs
    assert today[extension] == other_day[extension]
