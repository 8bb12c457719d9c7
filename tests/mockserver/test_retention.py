"""Retention: reports are forgotten after ``RETENTION_SECONDS`` of virtual time, so memory
stays bounded however many reports are created. Runs on every store backend."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from mockserver import create_app
from mockserver.app import backend_of
from mockserver.service import ReportsApi, owner_of_key
from mockserver.settings import SettingsError
from mockserver.store.memory import MemoryStore

HOUR = 3600


def memory_app(**config: Any) -> Flask:
    """A mock on the in-memory store, for properties that do not depend on the backend."""
    return create_app({"TIME_SCALE": 0, "STORE": "memory://", **config})


def test_a_report_past_the_retention_is_forgotten(app_factory: Any, client_for: Any) -> None:
    api = client_for(app_factory(RETENTION_SECONDS=HOUR).test_client())
    created = api.create()
    api.advance(HOUR + 1)
    assert api.get(created["id"]) is None


def test_a_report_within_the_retention_is_kept(app_factory: Any, client_for: Any) -> None:
    api = client_for(app_factory(RETENTION_SECONDS=HOUR).test_client())
    created = api.create()
    api.advance(HOUR - 1)
    assert api.get(created["id"])["id"] == created["id"]


def test_retention_defaults_to_one_day_of_virtual_time() -> None:
    assert backend_of(memory_app()).state.settings.retention_seconds == 24 * HOUR


def test_zero_retention_keeps_every_report(app_factory: Any, client_for: Any) -> None:
    api = client_for(app_factory(RETENTION_SECONDS=0).test_client())
    created = api.create()
    api.advance(30 * 24 * HOUR)
    assert api.get(created["id"])["id"] == created["id"]


def test_a_negative_retention_is_refused() -> None:
    with pytest.raises(SettingsError, match="RETENTION_SECONDS"):
        memory_app(RETENTION_SECONDS=-1)


def _create_many(service: ReportsApi, count: int, seconds_between: float) -> None:
    owner = owner_of_key("sk-retention")
    for n in range(count):
        body = {"case_id": f"case_{n % 97}", "type": "technical_report"}
        scope = service.state.scope(owner)
        service.create(scope, body, scenario_name=None, base_url="http://mock.test/")
        service.state.clock.advance(seconds_between)


def test_creating_many_reports_over_time_keeps_the_store_bounded(
    app_factory: Any, store_backend: str
) -> None:
    # 10 virtual seconds between creates and an hour of retention: 360 reports are within
    # it; the check runs every 1% of the retention, which may keep 4 more.
    count = 20_000 if store_backend == "memory" else 1_500
    service = backend_of(app_factory(RETENTION_SECONDS=HOUR)).reports
    started = time.monotonic()
    _create_many(service, count, seconds_between=10)
    assert service.state.store.report_count() <= 365, (
        f"{count} creates in {time.monotonic() - started}"
    )


def test_the_memory_store_indexes_shrink_with_the_reports() -> None:
    service = backend_of(memory_app(RETENTION_SECONDS=HOUR)).reports
    _create_many(service, 2_000, seconds_between=10)
    store = service.state.store
    assert isinstance(store, MemoryStore)
    indexed = sum(len(ids) for ids in store._by_case.values())
    assert (len(store._by_age), indexed) == (store.report_count(), store.report_count())


def test_memory_reports_of_one_case_and_scenario_share_their_plan_and_profile() -> None:
    service = backend_of(memory_app()).reports
    owner = owner_of_key("sk-sharing")
    for _ in range(2):
        body = {"case_id": "case_shared", "type": "technical_report"}
        service.create(
            service.state.scope(owner), body, scenario_name=None, base_url="http://mock.test/"
        )
    newer, older = service.state.store.reports_for_case(owner, "case_shared")
    assert (newer.plan is older.plan, newer.profile is older.profile) == (True, True)
