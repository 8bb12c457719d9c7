"""A store outage is a 503 with ``Retry-After`` in the envelope, logged once, and passes.

Redis is a ``redis-server`` of this module's own, stopped and started again on the same port;
SQLite is locked by another connection holding an exclusive transaction (writes wait for it;
in WAL mode reads do not). A read-only SQLite file is not tested: the tests run as root here,
which writes to it anyway.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from mockserver.web.store_outage import OUTAGE_RETRY_AFTER_SECONDS

from ..conftest import make_app
from .conftest import LiveServer, free_port, start_redis

KEY = {"X-API-Key": "sk-outage"}
BODY = {"case_id": "case_outage", "type": "technical_report"}


@pytest.fixture
def redis_outage(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """``(url, stop, start)`` of a Redis this test may take down and bring back."""
    port = free_port()
    running = [start_redis(port, tmp_path)]

    def stop() -> None:
        running[0].terminate()
        running[0].wait(timeout=10)

    def start() -> None:
        running[0] = start_redis(port, tmp_path)

    yield f"redis://127.0.0.1:{port}/0?prefix=outage", stop, start
    if running[0].poll() is None:
        stop()


def _assert_outage_answers(client: FlaskClient, report_id: str) -> None:
    for method, path, body, headers in (
        ("POST", "/api/reports", BODY, KEY),
        ("GET", f"/api/reports/{report_id}", None, KEY),
        ("GET", "/api/reports?case_id=case_outage", None, KEY),
        ("GET", "/healthz", None, {}),
        ("GET", "/_mock/clock", None, {}),
    ):
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code == 503, (path, answer.get_data(as_text=True))
        assert answer.headers["Retry-After"] == str(OUTAGE_RETRY_AFTER_SECONDS)
        envelope = answer.get_json()
        assert envelope["success"] is False and "store is unavailable" in envelope["error"]


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "store unavailable" in r.getMessage()]


def test_redis_down_is_a_503_with_retry_after_logged_once_and_recovers(
    redis_outage: tuple[str, Callable[[], None], Callable[[], None]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, stop, start = redis_outage
    app = make_app(STORE=url)
    client = app.test_client()
    report_id = client.post("/api/reports", json=BODY, headers=KEY).get_json()["data"]["id"]
    stop()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        for _ in range(5):
            _assert_outage_answers(client, report_id)
        assert len(_outage_lines(caplog)) == 1
        start()
        assert client.get("/healthz").status_code == 200
        created = client.post("/api/reports", json=BODY, headers=KEY)
        assert created.status_code == 200
        recovered = [r.getMessage() for r in caplog.records if "available again" in r.getMessage()]
        assert len(recovered) == 1 and "25 request(s)" in recovered[0]


def test_a_locked_sqlite_store_is_a_503_with_retry_after_logged_once_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mockserver.store import sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "_BUSY_TIMEOUT_SECONDS", 0.05)
    database = tmp_path / "mock.db"
    app = make_app(STORE=f"sqlite:///{database}")
    client = app.test_client()
    report_id = client.post("/api/reports", json=BODY, headers=KEY).get_json()["data"]["id"]
    locker = sqlite3.connect(database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.WARNING, logger=app.logger.name):
            for _ in range(5):  # a write waits for the lock, then gets the 503
                answer = client.post("/api/reports", json=BODY, headers=KEY)
                assert answer.status_code == 503, answer.get_data(as_text=True)
                assert answer.headers["Retry-After"] == str(OUTAGE_RETRY_AFTER_SECONDS)
                assert "sqlite store is unavailable" in answer.get_json()["error"]
                # A poll writes too (its count, with its journal entry): a 503 just the same.
                polled = client.get(f"/api/reports/{report_id}", headers=KEY)
                assert polled.status_code == 503 and "Retry-After" in polled.headers
                # Reads alone never wait for the lock in WAL mode: health stays green.
                assert client.get("/healthz").status_code == 200
            assert len(_outage_lines(caplog)) == 1
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert (
        client.get(f"/api/reports/{report_id}", headers=KEY).get_json()["data"]["id"] == report_id
    )


def test_a_served_redis_worker_answers_polls_503_while_redis_is_down_and_recovers(
    redis_outage: tuple[str, Callable[[], None], Callable[[], None]],
    start_server: Callable[..., LiveServer],
) -> None:
    """Served, a poll awaits Redis on the worker's event loop (its own connections): they
    fail while Redis is down and are made anew once it is back."""
    url, stop, start = redis_outage
    server = start_server("--store", url, "--time-scale", "0")
    created = requests.post(f"{server.url}/api/reports", json=BODY, headers=KEY, timeout=10)
    poll = f"{server.url}/api/reports/{created.json()['data']['id']}"
    for _ in range(3):  # the worker's caches are current: these go the event loop's way
        assert requests.get(poll, headers=KEY, timeout=10).status_code == 200
    stop()
    for _ in range(3):
        refused = requests.get(poll, headers=KEY, timeout=30)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == str(OUTAGE_RETRY_AFTER_SECONDS)
        assert "store is unavailable" in refused.json()["error"]
    start()  # an empty Redis (no persistence): the report is gone, the answers are 200 again
    for _ in range(3):
        answered = requests.get(poll, headers=KEY, timeout=10)
        assert answered.status_code == 200 and answered.json() == {"success": True, "data": None}
