"""Every documented error, and bad input answered in the documented envelope, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockserver.core import messages

KEY = {"X-API-Key": "sk-test-tenant-one"}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"type": "technical_report"}, 400, "case_id is required"),
        ({"case_id": "", "type": "technical_report"}, 400, "case_id is required"),
        ({"case_id": None, "type": "technical_report"}, 400, "case_id is required"),
        (
            {"case_id": 42, "type": "technical_report"},
            400,
            "case_id must be a string, got a number",
        ),
        (
            {"case_id": "c", "type": "demand_letter"},
            400,
            "Invalid report type: demand_letter. Supported types: technical_report",
        ),
        ({"case_id": "c"}, 400, "Invalid report type: None. Supported types: technical_report"),
        (
            {"case_id": "c", "type": ["x"]},
            400,
            "type must be a string, got an array. Supported types: technical_report",
        ),
        (
            {"case_id": "c", "type": "technical_report", "options": "yes"},
            400,
            "options must be a JSON object, got a string",
        ),
        (
            {"case_id": "c", "type": "technical_report", "options": {"use_demo_data": "true"}},
            400,
            "options.use_demo_data must be true or false, got a string",
        ),
        ([1, 2], 400, "Request body must be a JSON object, got an array"),
        ("case", 400, "Request body must be a JSON object, got a string"),
        (None, 400, "Request body must be a JSON object, got null"),
    ],
)
def test_invalid_create_bodies_get_a_clear_400(
    client: FlaskClient, body: object, status: int, error: str
) -> None:
    response = client.post(
        "/api/reports", data=json.dumps(body), headers={**KEY, "Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.get_json() == {"success": False, "error": error}


@pytest.mark.parametrize(
    ("raw", "error_start"),
    [
        (b"", messages.REQUEST_BODY_EMPTY),
        (b"{not json", "Request body is not valid JSON: "),
        (b'{"case_id": NaN}', "Request body is not valid JSON: "),
        (b"\xff\xfe", messages.REQUEST_BODY_NOT_UTF8),
        (b"[" * 100_000, "Request body is not valid JSON"),
    ],
    ids=["empty", "truncated", "nan", "not-utf8", "deeply-nested"],
)
def test_malformed_json_is_a_400_not_a_500(
    client: FlaskClient, raw: bytes, error_start: str
) -> None:
    response = client.post(
        "/api/reports", data=raw, headers={**KEY, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(error_start)


def test_oversized_body_is_a_413(client: FlaskClient) -> None:
    body = b'{"case_id": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/reports", data=body, headers={**KEY, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than the limit" in response.get_json()["error"]


def test_list_without_case_id_is_the_documented_400(client: FlaskClient) -> None:
    response = client.get("/api/reports", headers=KEY)
    assert response.status_code == 400
    assert response.get_json() == {"success": False, "error": "case_id query parameter is required"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/reports"),
        ("GET", "/api/reports?case_id=c"),
        ("GET", "/api/reports/rpt_1"),
        ("DELETE", "/api/reports/rpt_1"),
    ],
)
@pytest.mark.parametrize(
    ("headers", "error"),
    [({}, messages.MISSING_API_KEY), ({"X-API-Key": "pk-live-123"}, messages.INVALID_API_KEY)],
    ids=["missing", "not-sk"],
)
def test_every_api_route_requires_an_api_key(
    client: FlaskClient, method: str, path: str, headers: dict[str, str], error: str
) -> None:
    response = client.open(path, method=method, json={"case_id": "c"}, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"success": False, "error": error}


def test_configured_api_keys_refuse_other_keys(app_factory: Any) -> None:
    client = app_factory(API_KEYS=["sk-allowed"]).test_client()
    assert client.get("/api/reports/x", headers={"X-API-Key": "sk-other"}).status_code == 401
    assert client.get("/api/reports/x", headers={"X-API-Key": "sk-allowed"}).status_code == 200


def test_unknown_route_is_a_404_envelope_naming_the_routes(client: FlaskClient) -> None:
    response = client.get("/api/nothing", headers=KEY)
    assert response.status_code == 404
    body = response.get_json()
    assert body["success"] is False and "POST /api/reports" in body["error"]


def test_wrong_method_is_a_405_envelope_with_allow(client: FlaskClient) -> None:
    response = client.put("/api/reports/rpt_1", headers=KEY)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.get_json()["error"].startswith("Method PUT is not allowed")


def test_bad_input_changes_no_stored_report(client: FlaskClient, api: Any) -> None:
    created = api.create()
    before = api.get(created["id"])
    client.post("/api/reports", data=b"{oops", headers={**KEY, "Content-Type": "application/json"})
    client.delete("/api/reports/" + created["id"], headers={"X-API-Key": "sk-intruder"})
    assert api.get(created["id"]) == before
