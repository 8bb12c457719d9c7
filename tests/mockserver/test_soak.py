"""A bounded soak on loopback: threads create, poll, list and cancel reports at once.

Eight client threads send at most 150 requests each (and stop after 20 s whatever happens) to
a real server on 127.0.0.1 whose clock runs 60x (reports finish in seconds), once on the
memory store and once on SQLite. At the end, with the clock moved two hours on:

- no request failed: no exception, no 5xx, no status other than the documented ones (a
  cancel may meet a report that just finished: that 400 is counted, not an error);
- every report a create returned is listed under its case, and nothing else is;
- every report is where its plan and the clock put it: cancelled when a cancel succeeded,
  else its scenario's outcome (``stuck`` still processing);
- no thread ever saw a report go back (pending, then processing, then terminal for good).

The counts are printed.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.core import messages

THREADS = 8
REQUESTS_PER_THREAD = 150
DEADLINE_SECONDS = 20.0
KEY = {"X-API-Key": "sk-soak"}
SCENARIOS = ("happy", "happy", "fail_delta_v", "cancelled", "stuck", "slow", "fail_internal")
STAGE = {"pending": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2}


@dataclass
class Tally:
    """What the threads did and saw (appended to under a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (case, scenario)
    cancelled: set[str] = field(default_factory=set)
    refused_cancels: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    went_back: list[str] = field(default_factory=list)


@pytest.fixture(params=["memory", "sqlite"])
def live_url(
    request: pytest.FixtureRequest, tmp_path: Path, serve_on_loopback: Any
) -> Iterator[str]:
    """The mock on a free loopback port, answering each connection in its own thread."""
    from mockserver.app import backend_of, create_app

    store = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/soak.db"
    app = create_app(
        {"TIME_SCALE": 60, "STORE": store, "VALIDATE_RESPONSES": "raise", "SIGNING_SECRET": "s"}
    )
    yield serve_on_loopback(app)
    backend_of(app).state.close()


TERMINAL_REFUSALS = frozenset(
    messages.CANNOT_CANCEL.format(status=status) for status in ("completed", "failed", "cancelled")
)


class Client:
    """One client thread: creates, polls any report, lists and cancels, seeded by its number."""

    def __init__(self, base: str, number: int, tally: Tally, deadline: float) -> None:
        self.base, self.number, self.tally, self.deadline = base, number, tally, deadline
        self.rng = random.Random(number)
        self.last_seen: dict[str, str] = {}  # report id -> the status this thread last saw
        self.session = requests.Session()

    def error(self, text: str) -> None:
        with self.tally.lock:
            self.tally.errors.append(f"thread {self.number}: {text}")

    def send(self, label: str, method: str, path: str, **options: Any) -> Any:
        """The JSON answer, or ``None`` after recording a failure."""
        headers = options.pop("headers", KEY)
        try:
            response = self.session.request(
                method, self.base + path, headers=headers, timeout=10, **options
            )
        except requests.RequestException as failure:
            self.error(f"{method} {path}: {failure!r}")
            return None
        with self.tally.lock:
            self.tally.requests[f"{label} {response.status_code}"] += 1
        body = response.json()
        if response.status_code == 400 and label == "cancel" and body["error"] in TERMINAL_REFUSALS:
            with self.tally.lock:
                self.tally.refused_cancels += 1
            return None
        if response.status_code != 200:
            self.error(f"{method} {path} -> {response.status_code}: {response.text[:200]}")
            return None
        return body["data"]

    def run(self) -> None:
        with self.session:
            for count in range(REQUESTS_PER_THREAD):
                if time.monotonic() > self.deadline:
                    return
                with self.tally.lock:
                    known = list(self.tally.created)
                action = self.rng.random()
                if action < 0.25 or not known:
                    self.create(f"case_soak_{self.number}_{count % 4}")
                elif action < 0.80:
                    self.poll(self.rng.choice(known))
                elif action < 0.90:
                    self.send("list", "GET", f"/api/reports?case_id=case_soak_{self.number}_1")
                else:
                    self.cancel(self.rng.choice(known))

    def create(self, case_id: str) -> None:
        scenario = self.rng.choice(SCENARIOS)
        body = {"case_id": case_id, "type": "technical_report"}
        headers = {**KEY, "X-Mock-Scenario": scenario}
        data = self.send("create", "POST", "/api/reports", json=body, headers=headers)
        if data is not None:
            with self.tally.lock:
                self.tally.created[data["id"]] = (case_id, scenario)

    def poll(self, report_id: str) -> None:
        data = self.send("poll", "GET", f"/api/reports/{report_id}")
        if data is None:
            self.error(f"GET {report_id}: data null for a created report")
            return
        status, before = data["status"], self.last_seen.get(report_id)
        if before is not None and (
            STAGE[status] < STAGE[before] or (STAGE[before] == 2 and status != before)
        ):
            with self.tally.lock:
                self.tally.went_back.append(f"{report_id}: {before} -> {status}")
        self.last_seen[report_id] = status

    def cancel(self, report_id: str) -> None:
        if self.send("cancel", "DELETE", f"/api/reports/{report_id}") is not None:
            with self.tally.lock:
                self.tally.cancelled.add(report_id)


def test_concurrent_clients_lose_nothing_and_see_no_error(
    live_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = Tally()
    deadline = time.monotonic() + DEADLINE_SECONDS
    started = time.monotonic()
    threads = [
        threading.Thread(target=Client(live_url, n, tally, deadline).run) for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_SECONDS + 15)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"

    outcomes = {
        s["name"]: s["outcome"]
        for s in requests.get(f"{live_url}/_mock/scenarios", timeout=10).json()["data"]["scenarios"]
    }
    requests.post(f"{live_url}/_mock/clock/advance", json={"seconds": 7200}, timeout=10)
    final: dict[str, str] = {}
    listed: dict[str, set[str]] = defaultdict(set)
    for case_id in {case for case, _ in tally.created.values()}:
        data = requests.get(
            f"{live_url}/api/reports?case_id={case_id}", headers=KEY, timeout=10
        ).json()["data"]
        assert data["total"] == len(data["reports"])
        for summary in data["reports"]:
            listed[case_id].add(summary["id"])
            final[summary["id"]] = summary["status"]
    expected_listing: dict[str, set[str]] = defaultdict(set)
    for report_id, (case_id, _) in tally.created.items():
        expected_listing[case_id].add(report_id)
    wrong_state = [
        f"{report_id} ({scenario}): {final.get(report_id)}"
        for report_id, (_, scenario) in tally.created.items()
        if final.get(report_id)
        != ("cancelled" if report_id in tally.cancelled else expected_final(outcomes[scenario]))
    ]

    total = sum(tally.requests.values())
    summary = ", ".join(f"{name}: {count}" for name, count in sorted(tally.requests.items()))
    with capsys.disabled():
        print(
            f"\nsoak: {total} requests from {THREADS} threads in {elapsed:.1f} s "
            f"({summary}); {len(tally.created)} reports created, {len(tally.cancelled)} "
            f"cancelled, {tally.refused_cancels} cancels met a finished report, "
            f"{len(tally.errors)} errors"
        )
    assert tally.errors == []
    assert dict(listed) == dict(expected_listing)
    assert wrong_state == []
    assert tally.went_back == []
    assert total >= THREADS * 20  # the soak did run


def expected_final(outcome: str) -> str:
    """Where a scenario ends once its plan has run out (``never``: processing for ever)."""
    return "processing" if outcome == "never" else outcome
