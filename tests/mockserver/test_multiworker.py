"""Real worker processes under the production server share one store.

``mockserver serve --workers 2`` on SQLite and on a real Redis: a report created through one
worker is polled through the other, the clock advanced through one is seen by the other, and
a server restarted on the same SQLite file carries on where it stopped. Requests go over new
connections, so the kernel spreads them over the workers; ``X-Mock-Worker`` names the process
that answered.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.serving import WORKER_HEADER

from .conftest import LiveServer

KEY = {"X-API-Key": "sk-multiworker"}
#: Requests tried before giving up on reaching the second worker (each on a new connection).
ATTEMPTS = 300


def create_report(server: LiveServer, case_id: str = "case_workers") -> requests.Response:
    response = requests.post(
        f"{server.url}/api/reports",
        json={"case_id": case_id, "type": "technical_report"},
        headers=KEY,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response


def answer_from_another_worker(
    server: LiveServer, path: str, first_worker: str, **request: Any
) -> requests.Response:
    """GET ``path`` on new connections until a worker other than ``first_worker`` answers."""
    for _ in range(ATTEMPTS):
        response = requests.get(f"{server.url}{path}", timeout=10, **request)
        if response.headers[WORKER_HEADER] != first_worker:
            return response
    raise AssertionError(f"only worker {first_worker} answered {ATTEMPTS} requests")


@pytest.fixture(params=["sqlite", "redis"])
def shared_store(request: pytest.FixtureRequest, new_store_url: Callable[[str], str]) -> str:
    url: str = new_store_url(request.param)
    return url


def test_a_report_created_through_one_worker_is_polled_through_another(
    start_server: Callable[..., LiveServer], shared_store: str
) -> None:
    server = start_server("--workers", "2", "--store", shared_store, "--time-scale", "0")
    created = create_report(server)
    report_id = created.json()["data"]["id"]
    polled = answer_from_another_worker(
        server, f"/api/reports/{report_id}", created.headers[WORKER_HEADER], headers=KEY
    )
    assert polled.json()["data"]["id"] == report_id


def test_a_clock_advanced_through_one_worker_moves_for_the_other(
    start_server: Callable[..., LiveServer], shared_store: str
) -> None:
    server = start_server("--workers", "2", "--store", shared_store, "--time-scale", "0")
    advanced = requests.post(f"{server.url}/_mock/clock/advance", json={"seconds": 90}, timeout=10)
    seen = answer_from_another_worker(server, "/_mock/clock", advanced.headers[WORKER_HEADER])
    assert seen.json()["data"]["epoch_seconds"] == advanced.json()["data"]["epoch_seconds"]


def test_a_report_completed_through_one_worker_downloads_from_another(
    start_server: Callable[..., LiveServer], shared_store: str
) -> None:
    server = start_server("--workers", "2", "--store", shared_store, "--time-scale", "0")
    report_id = create_report(server).json()["data"]["id"]
    requests.post(f"{server.url}/_mock/clock/advance", json={"seconds": 900}, timeout=10)
    completed = requests.get(f"{server.url}/api/reports/{report_id}", headers=KEY, timeout=10)
    pdf_path = completed.json()["data"]["output"]["pdf_url"].removeprefix(server.url)
    download = answer_from_another_worker(server, pdf_path, completed.headers[WORKER_HEADER])
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")


def test_a_restarted_server_carries_on_from_its_sqlite_file(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    options = ("--workers", "2", "--store", f"sqlite:///{tmp_path}/restart.db", "--time-scale", "0")
    before = start_server(*options)
    report_id = create_report(before).json()["data"]["id"]
    requests.post(f"{before.url}/_mock/clock/advance", json={"seconds": 900}, timeout=10)
    url_before = requests.get(f"{before.url}/api/reports/{report_id}", headers=KEY, timeout=10)
    pdf_url = url_before.json()["data"]["output"]["pdf_url"].removeprefix(before.url)
    before.stop()

    after = start_server(*options)
    polled = requests.get(f"{after.url}/api/reports/{report_id}", headers=KEY, timeout=10)
    download = requests.get(f"{after.url}{pdf_url}", timeout=10)  # signed before the restart
    assert polled.json()["data"]["status"] == "completed"
    assert download.status_code == 200


def test_a_restarted_server_keeps_the_virtual_time(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    options = ("--store", f"sqlite:///{tmp_path}/clock.db", "--time-scale", "0")
    before = start_server(*options)
    requests.post(f"{before.url}/_mock/clock/advance", json={"seconds": 3600}, timeout=10)
    clock_before = requests.get(f"{before.url}/_mock/clock", timeout=10).json()["data"]
    before.stop()
    after = start_server(*options)
    clock_after = requests.get(f"{after.url}/_mock/clock", timeout=10).json()["data"]
    assert clock_after["epoch_seconds"] == clock_before["epoch_seconds"]


def test_stopping_the_server_stops_every_worker(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = start_server("--workers", "2", "--store", f"sqlite:///{tmp_path}/stop.db")
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    workers = [int(pid) for pid in children.read_text().split()]
    server.stop()
    assert workers and not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
