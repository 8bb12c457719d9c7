"""The documented Reports API routes, through the Flask test client, on a frozen clock."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from mockserver.app import backend_of
from mockserver.core import messages
from mockserver.core.scenarios import SCENARIOS


def test_create_answers_the_documented_pending_report(api: Any) -> None:
    created = api.create("case_abc123")
    assert created["status"] == "pending"
    assert created["progress"] == {"message": "Starting analysis..."}
    assert created["output"] is None
    assert created["created_at"] == created["updated_at"] == "2026-01-15T10:30:00Z"
    assert created["id"].startswith("rpt_") and created["case_id"] == "case_abc123"
    assert created["type"] == "technical_report"


def test_get_returns_the_created_report(api: Any) -> None:
    created = api.create()
    assert api.get(created["id"]) == created


def test_unknown_id_is_success_with_null_data(client: FlaskClient, api: Any) -> None:
    response = client.get("/api/reports/rpt_does_not_exist", headers=api.headers())
    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": None}


def test_get_by_case_id_returns_the_newest_report_of_the_case(api: Any) -> None:
    api.create("case_x")
    api.advance(5)
    newest = api.create("case_x")
    assert api.get("case_x")["id"] == newest["id"]


def test_list_returns_summaries_newest_first_with_total(client: FlaskClient, api: Any) -> None:
    first = api.create("case_list")
    api.advance(1)
    second = api.create("case_list")
    api.create("case_other")
    response = client.get("/api/reports?case_id=case_list", headers=api.headers())
    data = response.get_json()["data"]
    assert data["total"] == 2
    assert [r["id"] for r in data["reports"]] == [second["id"], first["id"]]
    assert set(data["reports"][0]) == {"id", "case_id", "type", "status", "created_at"}


def test_list_shows_each_reports_current_status(client: FlaskClient, api: Any) -> None:
    api.create("case_status")
    api.advance(3600)
    data = client.get("/api/reports?case_id=case_status", headers=api.headers()).get_json()["data"]
    assert data["reports"][0]["status"] == "completed"


def test_list_of_a_case_without_reports_is_empty(client: FlaskClient, api: Any) -> None:
    data = client.get("/api/reports?case_id=nothing", headers=api.headers()).get_json()["data"]
    assert data == {"reports": [], "total": 0}


def test_cancel_a_processing_report(client: FlaskClient, api: Any) -> None:
    created = api.create()
    api.advance(30)
    response = client.delete(f"/api/reports/{created['id']}", headers=api.headers())
    assert response.status_code == 200
    assert response.get_json()["data"] == {
        "id": created["id"],
        "status": "cancelled",
        "message": "Report generation cancelled",
    }
    api.advance(3600)
    report = api.get(created["id"])
    assert report["status"] == "cancelled" and report["output"] is None


def test_cancel_a_pending_report(client: FlaskClient, api: Any) -> None:
    created = api.create()
    assert client.delete(f"/api/reports/{created['id']}", headers=api.headers()).status_code == 200
    assert api.get(created["id"])["status"] == "cancelled"


def test_cancel_a_completed_report_is_refused(client: FlaskClient, api: Any) -> None:
    created = api.create()
    api.advance(3600)
    response = client.delete(f"/api/reports/{created['id']}", headers=api.headers())
    assert response.status_code == 400
    assert response.get_json() == {"success": False, "error": "Cannot cancel a completed report"}
    assert api.get(created["id"])["status"] == "completed"


@pytest.mark.parametrize("scenario", ["fail_delta_v", "cancelled"])
def test_cancel_of_a_failed_or_cancelled_report_is_refused(
    client: FlaskClient, api: Any, scenario: str
) -> None:
    created = api.create(scenario=scenario)
    api.advance(3600)
    status = api.get(created["id"])["status"]
    response = client.delete(f"/api/reports/{created['id']}", headers=api.headers())
    assert response.status_code == 400
    assert response.get_json()["error"] == messages.CANNOT_CANCEL.format(status=status)


def test_cancel_of_an_unknown_report_is_404(client: FlaskClient, api: Any) -> None:
    response = client.delete("/api/reports/rpt_nope", headers=api.headers())
    assert response.status_code == 404
    assert response.get_json() == {"success": False, "error": "Report not found"}


def test_scenario_header_chooses_the_lifecycle(api: Any) -> None:
    created = api.create(scenario="fail_delta_v")
    api.advance(3600)
    report = api.get(created["id"])
    assert report["status"] == "failed"
    assert report["progress"]["message"] == messages.MESSAGE_DELTA_V_FAILED


def test_unknown_scenario_is_a_400_listing_the_known_ones(client: FlaskClient, api: Any) -> None:
    response = client.post(
        "/api/reports",
        json={"case_id": "c", "type": "technical_report"},
        headers=api.headers(**{"X-Mock-Scenario": "explode"}),
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "'explode'" in error
    assert all(name in error for name in SCENARIOS)


def test_server_wide_default_scenario_applies_without_a_header(
    app_factory: Any, client_for: Any
) -> None:
    api = client_for(app_factory(SCENARIO="stuck").test_client())
    created = api.create()
    api.advance(24 * 3600)
    assert api.get(created["id"])["status"] == "processing"


def test_include_biomechanics_forces_the_biomechanics_step_on_and_off(api: Any) -> None:
    with_bio = api.create("case_bio", options={"include_biomechanics": True})
    without = api.create("case_bio", options={"include_biomechanics": False})
    api.advance(130)
    assert api.get(with_bio["id"])["progress"]["current_step"] == "biomechanics_analysis"
    assert api.get(without["id"])["progress"]["current_step"] != "biomechanics_analysis"


def test_demo_data_completes_inside_two_minutes(api: Any) -> None:
    created = api.create(options={"use_demo_data": True})
    api.advance(119)
    assert api.get(created["id"])["status"] == "completed"


def test_a_cancel_that_loses_a_race_to_another_cancel_still_succeeds(app: Any, api: Any) -> None:
    created = api.create()
    api.advance(20)
    state = backend_of(app).state
    # Another worker cancelled it a moment "later" than this request read the clock.
    state.store.mark_cancelled(created["id"], state.clock.now() + 0.5)
    response = app.test_client().delete(f"/api/reports/{created['id']}", headers=api.headers())
    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "cancelled"


def test_head_on_a_report_answers_the_gets_headers_without_a_body(
    client: FlaskClient, api: Any
) -> None:
    """Under VALIDATE_RESPONSES=raise (every test) a HEAD is held to GET's schema, not a 500."""
    report = api.create()
    head = client.head(f"/api/reports/{report['id']}", headers=api.headers())
    get = client.get(f"/api/reports/{report['id']}", headers=api.headers())
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
