"""The control API under /_mock/: clock, reset, journal, scenarios, scripted reports."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from mockserver.core.scenarios import SCENARIOS


def test_clock_reads_the_configured_start_time(client: FlaskClient) -> None:
    clock = client.get("/_mock/clock").get_json()["data"]
    assert clock["now"] == "2026-01-15T10:30:00Z"
    assert clock["time_scale"] == 0 and clock["advanced_seconds"] == 0


def test_advance_moves_virtual_time_forward(client: FlaskClient, start_epoch: float) -> None:
    clock = client.post("/_mock/clock/advance", json={"seconds": 90.5}).get_json()["data"]
    assert clock["epoch_seconds"] == pytest.approx(start_epoch + 90.5)
    assert clock["now"] == "2026-01-15T10:31:30Z" and clock["advanced_seconds"] == 90.5


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"seconds": -1},
        {"seconds": "10"},
        {"seconds": True},
        {"seconds": 1e12},
        [5],
        {"seconds": 1, "extra": 2},
    ],
)
def test_advance_rejects_bad_seconds_with_a_usage_message(
    client: FlaskClient, body: object
) -> None:
    response = client.post("/_mock/clock/advance", json=body)
    assert response.status_code == 400
    assert 'Send {"seconds": N}' in response.get_json()["error"]


def test_reset_forgets_every_report(client: FlaskClient, api: Any) -> None:
    created = api.create()
    removed = client.post("/_mock/reset").get_json()["data"]
    assert removed == {"reports_removed": 1}
    assert api.get(created["id"]) is None


def test_journal_records_api_calls_with_virtual_time_and_status(
    client: FlaskClient, api: Any
) -> None:
    created = api.create()
    api.advance(5)
    api.get(created["id"])
    api.get("case_abc123")
    entries = client.get("/_mock/requests").get_json()["data"]["requests"]
    assert [(e["method"], e["status"], e["report_id"]) for e in entries] == [
        ("POST", 200, created["id"]),
        ("GET", 200, created["id"]),
        ("GET", 200, created["id"]),
    ]
    assert entries[1]["at"] == "2026-01-15T10:30:05Z"
    assert entries[1]["scenario"] == "happy"


def test_journal_leaves_out_control_calls(client: FlaskClient) -> None:
    client.get("/_mock/clock")
    client.get("/healthz")
    assert client.get("/_mock/requests").get_json()["data"]["total"] == 0


def test_journal_is_a_bounded_ring(app_factory: Any) -> None:
    client = app_factory(JOURNAL_SIZE=3).test_client()
    for n in range(5):
        client.get(f"/api/reports/r{n}", headers={"X-API-Key": "sk-a"})
    data = client.get("/_mock/requests").get_json()["data"]
    assert data["total"] == 3
    assert [e["path"] for e in data["requests"]] == [
        "/api/reports/r2",
        "/api/reports/r3",
        "/api/reports/r4",
    ]


def test_journal_limit_and_clear(client: FlaskClient) -> None:
    for n in range(3):
        client.get(f"/api/reports/r{n}", headers={"X-API-Key": "sk-a"})
    newest = client.get("/_mock/requests?limit=1").get_json()["data"]["requests"]
    assert [e["path"] for e in newest] == ["/api/reports/r2"]
    assert client.delete("/_mock/requests").get_json()["data"]["total"] == 0
    assert client.get("/_mock/requests?limit=0").status_code == 400


def test_scenarios_are_listed_with_their_outcome(client: FlaskClient) -> None:
    data = client.get("/_mock/scenarios").get_json()["data"]
    assert [s["name"] for s in data["scenarios"]] == list(SCENARIOS)
    assert data["default"] == "happy"


def test_healthz_is_ready(client: FlaskClient) -> None:
    body = client.get("/healthz").get_json()
    assert body["success"] is True and body["data"]["status"] == "ok"


def test_control_api_can_be_switched_off(app_factory: Any) -> None:
    client = app_factory(CONTROL_API=False).test_client()
    assert client.get("/_mock/clock").status_code == 404
    assert client.post("/_mock/reset").status_code == 404
    assert client.get("/healthz").status_code == 200


def test_without_the_control_api_a_404_does_not_advertise_it(app_factory: Any) -> None:
    client = app_factory(CONTROL_API=False).test_client()
    for path in ("/_mock/clock", "/nowhere"):
        error = client.get(path).get_json()["error"]
        assert error.startswith(f"No route GET {path}. Routes: POST /api/reports")
        assert "/_mock" not in error.removeprefix(f"No route GET {path}.")


def test_control_api_is_not_under_api(client: FlaskClient) -> None:
    assert client.get("/api/_mock/clock", headers={"X-API-Key": "sk-a"}).status_code == 404


SCRIPT = {
    "api_key": "sk-test-tenant-one",
    "case_id": "case_scripted",
    "timeline": [
        {"after_seconds": 0, "status": "pending", "progress": None},
        {"after_seconds": 7, "status": "processing", "progress": {}},
        {"after_seconds": 9, "status": "completed", "progress": {"message": "done", "x": 1}},
    ],
    "report": None,
    "extra_fields": {"priority": "high"},
}


def test_scripted_report_follows_its_timeline(client: FlaskClient, api: Any) -> None:
    created = client.post("/_mock/reports", json=SCRIPT).get_json()["data"]
    assert created["progress"] is None and created["priority"] == "high"
    api.advance(7)
    assert api.get(created["id"])["progress"] == {}
    api.advance(2)
    final = api.get(created["id"])
    assert final["status"] == "completed" and final["output"]["report"] is None


def test_scripted_report_belongs_to_its_api_key(client: FlaskClient, other_tenant: Any) -> None:
    created = client.post("/_mock/reports", json=SCRIPT).get_json()["data"]
    assert other_tenant.get(created["id"]) is None


@pytest.mark.parametrize(
    "change",
    [
        {"timeline": []},
        {"timeline": [{"after_seconds": 5, "status": "pending", "progress": None}]},
        {"timeline": [{"after_seconds": 0, "status": "done", "progress": None}]},
        {"api_key": "nope"},
        {"surprise": 1},
    ],
    ids=["empty", "late-start", "bad-status", "bad-key", "extra-field"],
)
def test_invalid_scripts_are_a_400_listing_the_problems(
    client: FlaskClient, change: dict[str, Any]
) -> None:
    response = client.post("/_mock/reports", json={**SCRIPT, **change})
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("Invalid scripted report: ")
