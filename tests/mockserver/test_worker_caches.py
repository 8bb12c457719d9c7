"""What a worker caches is read again when another worker changes it.

Each worker keeps the clock's anchor and advance, the fault plan and the reports' own fault
rules, with the store's cache version they were read at. Here two apps share one SQLite or
Redis store, as two workers do; the second has read (and cached) everything before the first
changes it, and must see the change on its very next request. A poll with no fault rule
makes at most two store operations (the report with the cache version, then the journal;
on Redis both in one Lua script: one round trip).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver import create_app
from mockserver.app import backend_of
from mockserver.store.base import ReportStore

KEY = {"X-API-Key": "sk-caches"}


@pytest.fixture(params=["sqlite", "redis"])
def two_workers(
    request: pytest.FixtureRequest, new_store_url: Callable[[str], str]
) -> Iterator[Callable[..., tuple[FlaskClient, FlaskClient]]]:
    """``two_workers(**settings)``: the clients of two apps on one fresh shared store."""
    made: list[Flask] = []

    def make(**settings: Any) -> tuple[FlaskClient, FlaskClient]:
        url = new_store_url(request.param)
        apps = [create_app({"TIME_SCALE": 0, "STORE": url, **settings}) for _ in range(2)]
        made.extend(apps)
        return apps[0].test_client(), apps[1].test_client()

    yield make
    for app in made:
        backend_of(app).state.close()


def create(client: FlaskClient, **headers: str) -> str:
    response = client.post(
        "/api/reports",
        json={"case_id": "case_caches", "type": "technical_report"},
        headers={**KEY, **headers},
    )
    assert response.status_code == 200, response.get_json()
    report_id: str = response.get_json()["data"]["id"]
    return report_id


def poll(client: FlaskClient, report_id: str) -> tuple[int, dict[str, Any]]:
    response = client.get(f"/api/reports/{report_id}", headers=KEY)
    return response.status_code, response.get_json() or {}


def test_a_clock_advance_reaches_a_worker_that_read_the_clock(
    two_workers: Callable[..., tuple[FlaskClient, FlaskClient]],
) -> None:
    first, second = two_workers()
    report_id = create(first)
    assert poll(second, report_id)[1]["data"]["status"] == "pending"
    first.post("/_mock/clock/advance", json={"seconds": 900})
    assert poll(second, report_id)[1]["data"]["status"] == "completed"


def test_a_rescaled_clock_reaches_a_worker_that_read_the_anchor(
    two_workers: Callable[..., tuple[FlaskClient, FlaskClient]],
    new_store_url: Callable[[str], str],
) -> None:
    first, second = two_workers()
    assert second.get("/_mock/clock").get_json()["data"]["time_scale"] == 0
    store_url = backend_of(first.application).state.settings.store_url
    rescaling = create_app({"TIME_SCALE": 5, "STORE": store_url})
    try:
        assert second.get("/_mock/clock").get_json()["data"]["time_scale"] == 5
        assert poll(second, create(first))[0] == 200
    finally:
        backend_of(rescaling).state.close()


def test_a_run_time_fault_plan_reaches_a_worker_that_cached_no_rules(
    two_workers: Callable[..., tuple[FlaskClient, FlaskClient]],
) -> None:
    first, second = two_workers()
    report_id = create(first)
    assert poll(second, report_id)[0] == 200  # the second worker has cached "no rules"
    first.put("/_mock/faults", json={"rules": ["503@polls=2"]})
    assert poll(second, report_id)[0] == 503
    first.delete("/_mock/faults")
    assert poll(second, report_id)[0] == 200


def test_a_reports_own_rules_reach_a_worker_that_cached_none(
    two_workers: Callable[..., tuple[FlaskClient, FlaskClient]],
) -> None:
    first, second = two_workers()
    assert poll(second, create(first))[0] == 200  # the second worker knows of no report rules
    report_id = create(first, **{"X-Mock-Faults": "502@polls=1"})
    assert poll(second, report_id)[0] == 502


def test_polls_without_rules_still_count_on_every_worker(
    two_workers: Callable[..., tuple[FlaskClient, FlaskClient]],
) -> None:
    first, second = two_workers()
    report_id = create(first)
    assert [poll(worker, report_id)[0] for worker in (first, second, first)] == [200] * 3
    second.put("/_mock/faults", json={"rules": ["503@polls=4"]})
    assert [poll(worker, report_id)[0] for worker in (second, first)] == [503, 200]


class CountedStore:
    """Counts the calls of a store's interface by wrapping the store's methods."""

    def __init__(self, store: ReportStore) -> None:
        self.calls: list[str] = []
        for name in dir(type(store)):
            method = getattr(store, name)
            if not name.startswith("_") and callable(method):
                setattr(store, name, self._counting(name, method))

    def _counting(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


def test_a_poll_without_fault_rules_makes_two_store_operations(
    two_workers: Callable[..., tuple[FlaskClient, FlaskClient]],
) -> None:
    first, second = two_workers()
    report_id = create(first)
    poll(second, report_id)  # the second worker reads what it caches
    store = backend_of(second.application).state.store
    counted = CountedStore(store)
    status, body = poll(second, report_id)
    assert (status, body["data"]["id"]) == (200, report_id)
    # One call: on Redis one Lua script (one round trip); on SQLite a read and a write.
    assert (
        counted.calls
        == {
            "redis": ["report_number_and_entry"],
            "sqlite": ["report_number_and_entry", "report_and_number", "append_request"],
        }[store.kind]
    )
    first.post("/_mock/clock/advance", json={"seconds": 900})
    counted.calls.clear()
    assert poll(second, report_id)[1]["data"]["status"] == "completed"
    # The caches were stale: nothing was journaled with the read, the entry follows.
    assert counted.calls[0] == "report_number_and_entry" and counted.calls[-1] == "append_request"
    assert len(counted.calls) > 2  # the advance moved the version: the clock was read again
