"""Reports belong to the key that created them."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


def test_another_key_sees_null_for_a_report(api: Any, other_tenant: Any) -> None:
    created = api.create("case_shared")
    assert other_tenant.get(created["id"]) is None


def test_another_key_sees_null_for_a_case_id(api: Any, other_tenant: Any) -> None:
    api.create("case_shared")
    assert other_tenant.get("case_shared") is None


def test_another_key_lists_none_of_the_reports(
    client: FlaskClient, api: Any, other_tenant: Any
) -> None:
    api.create("case_shared")
    listed = client.get("/api/reports?case_id=case_shared", headers=other_tenant.headers())
    assert listed.get_json()["data"] == {"reports": [], "total": 0}


def test_another_key_cannot_cancel_a_report(
    client: FlaskClient, api: Any, other_tenant: Any
) -> None:
    created = api.create("case_shared")
    response = client.delete(f"/api/reports/{created['id']}", headers=other_tenant.headers())
    assert response.status_code == 404
    assert api.get(created["id"])["status"] == "pending"


def test_the_same_case_id_under_two_keys_stays_apart(api: Any, other_tenant: Any) -> None:
    mine = api.create("case_same")
    theirs = other_tenant.create("case_same")
    assert api.get("case_same")["id"] == mine["id"]
    assert other_tenant.get("case_same")["id"] == theirs["id"]
