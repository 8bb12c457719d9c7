"""Record and replay on real servers: `mockserver serve` on loopback, `mockserver record` in
front of it, and a second `mockserver serve --scenario-file` that replays what was recorded.

The client is the same both times: create a report, then poll it, moving the frozen clock 5 s
between polls, until a terminal status. What it receives from the replaying mock must be what
it received through the recording proxy:

- with the replaying mock started like the recorded one (seed, start time, signing secret),
  byte for byte, apart from the host:port in the two signed URLs (another server);
- with the replaying mock on its own defaults (another seed, the clock starting now, its own
  signing secret), byte for byte once exactly these are masked: report ids (``rpt_`` and 16
  hex digits), each ``created_at``/``updated_at`` (replaced by its offset from the report's
  ``created_at``) and the signed URLs' origin and query (``expires``, ``signature``).

One limit, stated: the API's timestamps have whole seconds, so a recording keeps a transition
that happened at +232.5 s as +232 s. These clients poll every 5 s from +0, never in that
half second.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests

import schemas
from schemas.scenario_files import scenario_problems

KEY = {"X-API-Key": "sk-record-replay"}
RECORDED_SETTINGS = [
    "--time-scale", "0", "--start-time", "2026-01-15T10:00:00Z",
    "--signing-secret", "record-replay", "--validate-responses", "raise",
]  # fmt: skip
TERMINAL = ("completed", "failed", "cancelled")


class Served:
    """A `python -m mockserver ...` process and the URL it printed."""

    def __init__(self, *arguments: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        found = re.search(r"listening on (http://\S+)", first)
        if found is None:
            self.process.kill()
            rest = self.process.communicate(timeout=10)[0]
            raise AssertionError(f"no URL printed: {first!r} {rest!r}")
        self.url = found.group(1)

    def stop(self, how: int = signal.SIGTERM) -> str:
        """Stop it; what it printed after the first line."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            return self.process.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.communicate(timeout=10)[0]


@pytest.fixture
def servers() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for server in reversed(started):
        server.stop()


def serve(servers: list[Served], *arguments: str) -> Served:
    server = Served(*arguments)
    servers.append(server)
    return server


def run_client(base_url: str, scenario: str, *, download: bool = False) -> list[tuple[int, bytes]]:
    """Create, then poll every 5 s of virtual time until terminal: every (status, body)."""
    answers: list[tuple[int, bytes]] = []
    created = requests.post(
        f"{base_url}/api/reports",
        json={"case_id": "case_recorded", "type": "technical_report"},
        headers={**KEY, "X-Mock-Scenario": scenario},
        timeout=10,
    )
    answers.append((created.status_code, created.content))
    report_id = created.json()["data"]["id"]
    for _ in range(200):
        polled = requests.get(f"{base_url}/api/reports/{report_id}", headers=KEY, timeout=10)
        answers.append((polled.status_code, polled.content))
        data = polled.json()["data"]
        if data["status"] in TERMINAL:
            if download and data["status"] == "completed":
                for kind in ("pdf_url", "docx_url"):
                    got = requests.get(data["output"][kind], timeout=30)
                    assert got.status_code == 200
            return answers
        advanced = requests.post(f"{base_url}/_mock/clock/advance", json={"seconds": 5}, timeout=10)
        assert advanced.status_code == 200
    raise AssertionError("the report never ended")


def report_id_of(answers: list[tuple[int, bytes]]) -> str:
    report_id: str = json.loads(answers[0][1])["data"]["id"]
    return report_id


_URL = re.compile(rb'"(https?://[^/"]+)(/storage/reports/[^"?]+)\?[^"]*"')
_ID = re.compile(rb"rpt_[0-9a-f]{16}")
_TIMESTAMP = re.compile(rb'"(created_at|updated_at)":"([0-9T:Z-]+)"')


def masked(body: bytes) -> bytes:
    """``body`` with exactly the masked parts replaced (see the module docstring)."""
    created = re.search(rb'"created_at":"([0-9T:Z-]+)"', body)
    origin = (
        datetime.fromisoformat(created.group(1).decode().replace("Z", "+00:00"))
        if created
        else None
    )

    def offset(match: re.Match[bytes]) -> bytes:
        moment = datetime.fromisoformat(match.group(2).decode().replace("Z", "+00:00"))
        assert origin is not None
        return b'"%s":"+%ds"' % (match.group(1), (moment - origin).total_seconds())

    body = _URL.sub(lambda m: b'"ORIGIN' + m.group(2) + b'?QUERY"', body)
    body = _TIMESTAMP.sub(offset, body)
    return _ID.sub(b"rpt_ID", body)


def only_hosts_masked(body: bytes) -> bytes:
    return re.sub(rb'"https?://[^/"]+/storage/', b'"ORIGIN/storage/', body)


@pytest.mark.parametrize("scenario", ["happy", "fail_biomechanics", "cancelled"])
def test_a_recorded_run_replays_to_the_same_wire_responses(
    servers: list[Served], tmp_path: Path, scenario: str
) -> None:
    upstream = serve(servers, "serve", "--port", "0", *RECORDED_SETTINGS)
    out = tmp_path / "recorded"
    proxy = serve(servers, "record", "--upstream", upstream.url, "--out", str(out), "--port", "0")
    recorded = run_client(proxy.url, scenario, download=scenario == "happy")
    printed = proxy.stop(signal.SIGINT)
    report_id = report_id_of(recorded)
    written = out / f"{report_id}.json"
    assert f"recorded {written}" in printed and "Recorded 1 scenario file(s)" in printed
    document = json.loads(written.read_text())
    assert scenario_problems(document) == []
    assert document["outcome"]["status"] == json.loads(recorded[-1][1])["data"]["status"]
    if scenario == "happy":  # the proxy checked both documents, and the client downloaded them
        assert document["outcome"]["output"]["documents"] == {
            "pdf": "available",
            "docx": "available",
        }
    assert "sk-record-replay" not in written.read_text()

    aligned = serve(
        servers, "serve", "--port", "0", *RECORDED_SETTINGS, "--scenario-file", str(out)
    )
    replayed = run_client(aligned.url, f"file:{report_id}")
    assert [status for status, _ in replayed] == [status for status, _ in recorded]
    assert [only_hosts_masked(body) for _, body in replayed] == [
        only_hosts_masked(body) for _, body in recorded
    ]

    elsewhere = serve(
        servers, "serve", "--port", "0", "--time-scale", "0", "--seed", "7",
        "--scenario-file", str(written),
    )  # fmt: skip
    again = run_client(elsewhere.url, f"file:{document['name']}")
    assert report_id_of(again) != report_id  # another seed: another id, masked below
    assert [masked(body) for _, body in again] == [masked(body) for _, body in recorded]


def test_the_proxy_passes_answers_through_unchanged(servers: list[Served], tmp_path: Path) -> None:
    upstream = serve(servers, "serve", "--port", "0", *RECORDED_SETTINGS)
    proxy = serve(
        servers, "record", "--upstream", upstream.url, "--out", str(tmp_path), "--port", "0"
    )
    created = requests.post(
        f"{proxy.url}/api/reports",
        json={"case_id": "case_direct", "type": "technical_report"},
        headers=KEY,
        timeout=10,
    ).json()["data"]
    requests.post(f"{upstream.url}/_mock/clock/advance", json={"seconds": 600}, timeout=10)
    for path, headers in (
        (f"/api/reports/{created['id']}", KEY),  # completed: signed URLs, the whole report
        ("/api/reports?case_id=case_direct", KEY),
        ("/api/reports/rpt_unknown", KEY),  # data: null
        ("/api/reports/rpt_unknown", {}),  # 401
        ("/storage/reports/rpt_x.pdf?expires=1&signature=00", {}),  # 403
    ):
        through = requests.get(proxy.url + path, headers=headers, timeout=10)
        direct = requests.get(upstream.url + path, headers=headers, timeout=10)
        assert (through.status_code, through.content) == (direct.status_code, direct.content)
        for name in ("Content-Type", "X-Mock-Worker", "Cache-Control"):
            assert through.headers.get(name) == direct.headers.get(name)


def test_the_journal_export_validates_and_replays(servers: list[Served], tmp_path: Path) -> None:
    upstream = serve(servers, "serve", "--port", "0", *RECORDED_SETTINGS)
    recorded = run_client(upstream.url, "fail_delta_v")
    exported = requests.get(f"{upstream.url}/_mock/requests?format=scenario", timeout=10).json()
    assert schemas.errors(exported, "scenario-export") == []
    (scenario,) = exported["data"]["scenarios"]
    assert scenario_problems(scenario) == []
    assert scenario["outcome"] == {
        "status": "failed",
        "error": "Delta-V calculation failed: insufficient image quality",
    }
    single = requests.get(
        f"{upstream.url}/_mock/requests?format=scenario&report_id={scenario['name']}", timeout=10
    ).json()["data"]
    assert single == scenario
    path = tmp_path / "journal.json"
    path.write_text(json.dumps(exported["data"]))  # the list, as exported, is a scenario file
    replaying = serve(
        servers, "serve", "--port", "0", *RECORDED_SETTINGS, "--scenario-file", str(path)
    )
    replayed = run_client(replaying.url, f"file:{scenario['name']}")
    assert [only_hosts_masked(b) for _, b in replayed] == [
        only_hosts_masked(b) for _, b in recorded
    ]


def test_a_malformed_scenario_file_stops_serve_with_its_path_and_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "scenario_format": 1,
                "name": "bad",
                "timeline": [
                    {"after_seconds": 0, "status": "pending"},
                    {"after_seconds": 30, "status": "processing"},
                    {"after_seconds": 20, "status": "completed"},
                ],
                "outcome": {"status": "completed", "output": {"fields": ["pdf_url", "docx_url"]}},
            }
        )
    )
    finished = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--scenario-file", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip() == (
        f"mockserver: scenario file {bad}: $.timeline[2].after_seconds: 20 comes before the "
        "previous entry's 30: list the entries in time order"
    )
    assert "Traceback" not in finished.stderr + finished.stdout


def test_record_refuses_an_upstream_that_is_not_a_url(tmp_path: Path) -> None:
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver",
            "record",
            "--upstream",
            "localhost:8080",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert finished.returncode == 2
    assert "--upstream 'localhost:8080' is not an http(s) URL" in finished.stderr
    assert "Traceback" not in finished.stderr
