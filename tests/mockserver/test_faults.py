"""Injected faults: the seeded plan (pure), and the server applying it to /api and /storage."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mockserver.app import backend_of
from mockserver.cli import build_parser, config_from_arguments
from mockserver.core import messages
from mockserver.core.fault_choice import NON_JSON_BODY, Fault, choose_fault, truncated
from mockserver.core.fault_rules import (
    MAX_LATENCY_MS,
    MAX_RULES,
    FaultRequest,
    FaultSpecError,
    parse_rules,
    rules_to_json,
    rules_to_spec,
)
from mockserver.gateway import ApiGateway
from mockserver.settings import SettingsError

KEY = {"X-API-Key": "sk-test-tenant-one"}
OTHER_KEY = {"X-API-Key": "sk-test-tenant-two"}
BODY = {"case_id": "case_faults", "type": "technical_report"}


def create(client: FlaskClient, faults: str | None = None, **body: Any) -> TestResponse:
    headers = {**KEY, **({"X-Mock-Faults": faults} if faults is not None else {})}
    return client.post("/api/reports", json={**BODY, **body}, headers=headers)


def created_id(client: FlaskClient, faults: str | None = None, **body: Any) -> str:
    response = create(client, faults, **body)
    assert response.status_code == 200, response.get_data(as_text=True)
    report_id: str = response.get_json()["data"]["id"]
    return report_id


def poll_statuses(client: FlaskClient, report_id: str, count: int) -> list[int]:
    return [client.get(f"/api/reports/{report_id}", headers=KEY).status_code for _ in range(count)]


def journal(client: FlaskClient) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get("/_mock/requests").get_json()["data"]["requests"]
    return entries


def injector(app: Flask) -> ApiGateway:
    return backend_of(app).gateway


# --- the plan, pure --------------------------------------------------------------------------

SPECS = [
    "503@polls=3,4",
    "drop@rate=0.1&on=download",
    "latency=100-900@rate=0.5",
    "latency=250",
    "429=5@polls=2",
    "429",
    "503=30@rate=0.2&on=poll,cancel",
    "truncate@rate=1&report=rpt_0123",
    "non_json@on=list",
    "500; 502@polls=1",
]


@pytest.mark.parametrize("spec", SPECS)
def test_the_text_form_reads_back_to_the_same_rules(spec: str) -> None:
    rules = parse_rules(spec)
    assert parse_rules(rules_to_spec(rules)) == rules


@pytest.mark.parametrize("spec", SPECS)
def test_the_json_form_reads_back_to_the_same_rules(spec: str) -> None:
    rules = parse_rules(spec)
    assert parse_rules(json.dumps(rules_to_json(rules))) == rules


def test_a_percentage_is_a_rate() -> None:
    assert parse_rules("drop@rate=25%") == parse_rules([{"fault": "drop", "rate": 0.25}])


KINDS = "500, 502, 503, 429, drop, truncate, non_json, latency"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("504", messages.FAULT_UNKNOWN_KIND.format(kind="504", known=KINDS)),
        ([{"fault": "slow"}], messages.FAULT_UNKNOWN_KIND.format(kind="slow", known=KINDS)),
        ("503@when=3", messages.FAULT_UNKNOWN_CONDITION.format(name="when")),
        ("503@rate=2", messages.FAULT_BAD_RATE.format(value=2.0)),
        ("503@rate=lots", messages.FAULT_BAD_RATE.format(value="lots")),
        ([{"fault": "503", "rate": True}], messages.FAULT_BAD_RATE.format(value=True)),
        ([{"fault": "503", "rate": float("nan")}], "rate must be a number from 0 to 1"),
        ("503@polls=0", messages.FAULT_BAD_POLLS.format(maximum=100_000, value=[0])),
        ("503@polls=x", messages.FAULT_BAD_POLLS.format(maximum=100_000, value=["x"])),
        ("503@polls=" + "9" * 5000, "polls must be poll numbers from 1 to 100000"),
        ([{"fault": "503", "polls": [10**30]}], "polls must be poll numbers from 1 to 100000"),
        ([{"fault": "503", "rate": 10**400}], "rate must be a number from 0 to 1"),
        ("503@polls=1&rate=0.5", messages.FAULT_RATE_AND_POLLS),
        ("503@on=nowhere", "on must name routes among create, poll, list, cancel, download"),
        ("503@polls=2&on=cancel", messages.FAULT_POLLS_NOT_ON_POLL.format(value=["cancel"])),
        ("latency", messages.FAULT_BAD_LATENCY.format(maximum=MAX_LATENCY_MS, value=None)),
        (
            "latency=900-100",
            messages.FAULT_BAD_LATENCY.format(maximum=MAX_LATENCY_MS, value="900-100"),
        ),
        ("latency=20000", messages.FAULT_BAD_LATENCY.format(maximum=MAX_LATENCY_MS, value="20000")),
        ("429=-1", messages.FAULT_BAD_RETRY_AFTER.format(kind="429", maximum=3600, value="-1")),
        ("drop=3", messages.FAULT_TAKES_NO_ARGUMENT.format(kind="drop", value="3")),
        (
            [{"fault": "drop", "ms": 3}],
            messages.FAULT_FIELD_NOT_FOR_KIND.format(field="ms", kind="drop"),
        ),
        ([{"fault": "503", "when": 1}], "unknown field 'when'"),
        ("503@report=../etc", messages.FAULT_BAD_REPORT_ID.format(value="../etc")),
        ([3], messages.FAULT_NOT_A_RULE.format(kind="a number")),
        (42, messages.FAULT_NOT_A_RULE.format(kind="a number")),
        ("[oops", "Expecting value"),
        (
            ";".join(["500"] * (MAX_RULES + 1)),
            messages.FAULT_TOO_MANY_RULES.format(maximum=MAX_RULES, count=MAX_RULES + 1),
        ),
    ],
)
def test_a_bad_rule_is_refused_with_what_is_wrong(value: object, problem: str) -> None:
    with pytest.raises(FaultSpecError) as refused:
        parse_rules(value)
    assert problem in str(refused.value)


def request_number(number: int, *, route: str = "poll", report_id: str | None = "rpt_1") -> Any:
    return FaultRequest(
        route=route, scope=report_id or "owner@0", number=number, report_id=report_id
    )  # type: ignore[arg-type]


def test_poll_numbers_strike_exactly_those_polls() -> None:
    rules = parse_rules("503@polls=3,4")
    struck = [n for n in range(1, 10) if choose_fault(rules, 0, request_number(n)) is not None]
    assert struck == [3, 4]


def test_poll_numbers_need_a_known_report() -> None:
    assert choose_fault(parse_rules("503@polls=1"), 0, request_number(1, report_id=None)) is None


def test_the_same_seed_strikes_the_same_requests() -> None:
    rules = parse_rules("503@rate=0.3")
    first = [choose_fault(rules, 7, request_number(n)) for n in range(1, 200)]
    again = [choose_fault(rules, 7, request_number(n)) for n in range(1, 200)]
    assert first == again


def test_another_seed_strikes_other_requests() -> None:
    rules = parse_rules("503@rate=0.3")
    first = [choose_fault(rules, 7, request_number(n)) is None for n in range(1, 200)]
    other = [choose_fault(rules, 8, request_number(n)) is None for n in range(1, 200)]
    assert first != other


def test_a_rate_strikes_about_that_share_of_requests() -> None:
    rules = parse_rules("503@rate=0.25")
    struck = sum(choose_fault(rules, 0, request_number(n)) is not None for n in range(1, 4001))
    assert 0.22 < struck / 4000 < 0.28


def test_a_routes_condition_spares_other_routes() -> None:
    rules = parse_rules("drop@on=download")
    assert choose_fault(rules, 0, request_number(1, route="poll")) is None
    assert choose_fault(rules, 0, request_number(1, route="download")) == Fault("drop")


def test_a_report_condition_spares_other_reports() -> None:
    rules = parse_rules("503@report=rpt_2")
    assert choose_fault(rules, 0, request_number(1, report_id="rpt_1")) is None
    assert choose_fault(rules, 0, request_number(1, report_id="rpt_2")) == Fault("503")


def test_random_latency_stays_within_its_range() -> None:
    rules = parse_rules("latency=100-300")
    delays = {choose_fault(rules, 0, request_number(n)).latency_ms for n in range(1, 300)}  # type: ignore[union-attr]
    assert min(delays) >= 100 and max(delays) <= 300 and len(delays) > 50


def test_latencies_add_up_to_at_most_the_maximum() -> None:
    rules = parse_rules("latency=8000; latency=8000")
    assert choose_fault(rules, 0, request_number(1)) == Fault(None, latency_ms=MAX_LATENCY_MS)


def test_the_first_status_fault_wins_and_latency_comes_with_it() -> None:
    fault = choose_fault(parse_rules("latency=50; 503=9; 500"), 0, request_number(1))
    assert fault == Fault("503", latency_ms=50, retry_after=9)
    assert fault.label == "latency=50ms+503"


def test_a_truncated_json_body_no_longer_parses() -> None:
    body = json.dumps({"success": True, "data": {"id": "rpt_1"}}).encode()
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated(body))


# --- per report: X-Mock-Faults on create -------------------------------------------------------


def test_the_third_and_fourth_poll_of_a_report_answer_503(client: FlaskClient) -> None:
    report_id = created_id(client, "503@polls=3,4")
    assert poll_statuses(client, report_id, 6) == [200, 200, 503, 503, 200, 200]


def test_an_injected_503_is_the_error_envelope(client: FlaskClient) -> None:
    report_id = created_id(client, "503@polls=1")
    response = client.get(f"/api/reports/{report_id}", headers=KEY)
    assert response.get_json() == {"success": False, "error": messages.FAULT_SERVICE_UNAVAILABLE}
    assert response.headers["X-Mock-Fault"] == "503"


@pytest.mark.parametrize(
    ("spec", "status", "error"),
    [
        ("500@polls=1", 500, messages.FAULT_INTERNAL_ERROR),
        ("502@polls=1", 502, messages.FAULT_BAD_GATEWAY),
        ("503@polls=1", 503, messages.FAULT_SERVICE_UNAVAILABLE),
        ("429=7@polls=1", 429, messages.FAULT_TOO_MANY_REQUESTS.format(seconds=7)),
    ],
)
def test_each_status_fault_has_its_status_and_message(
    client: FlaskClient, spec: str, status: int, error: str
) -> None:
    response = client.get(f"/api/reports/{created_id(client, spec)}", headers=KEY)
    assert (response.status_code, response.get_json()["error"]) == (status, error)


def test_an_injected_429_says_when_to_retry(client: FlaskClient) -> None:
    response = client.get(f"/api/reports/{created_id(client, '429=7@polls=1')}", headers=KEY)
    assert response.headers["Retry-After"] == "7"


def test_create_echoes_the_rules_in_their_text_form(client: FlaskClient) -> None:
    response = create(client, " 503@polls=4,3 ;latency=5 ")
    assert response.headers["X-Mock-Faults"] == "503@polls=3,4; latency=5@rate=1"


def test_a_bad_faults_header_is_a_400_that_creates_nothing(client: FlaskClient) -> None:
    response = create(client, "504@polls=1")
    problem = "Invalid fault rule '504@polls=1': " + messages.FAULT_UNKNOWN_KIND.format(
        kind="504", known=KINDS
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == messages.FAULT_HEADER_INVALID.format(problem=problem)
    listed = client.get("/api/reports?case_id=case_faults", headers=KEY).get_json()["data"]
    assert listed["total"] == 0


def test_a_truncated_answer_keeps_its_status_but_does_not_parse(client: FlaskClient) -> None:
    response = client.get(f"/api/reports/{created_id(client, 'truncate@polls=1')}", headers=KEY)
    assert response.status_code == 200 and response.headers["X-Mock-Fault"] == "truncate"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.get_data())


def test_a_non_json_answer_is_an_html_page(client: FlaskClient) -> None:
    response = client.get(f"/api/reports/{created_id(client, 'non_json@polls=1')}", headers=KEY)
    assert response.mimetype == "text/html" and response.get_data() == NON_JSON_BODY


def test_a_dropped_answer_never_arrives(client: FlaskClient) -> None:
    url = f"/api/reports/{created_id(client, 'drop@polls=1')}"
    with pytest.raises(ConnectionResetError):
        client.get(url, headers=KEY).get_data()


def test_latency_waits_that_long_before_answering(app: Flask, client: FlaskClient) -> None:
    waits: list[float] = []
    injector(app).sleep = waits.append
    report_id = created_id(client, "latency=250@polls=2")
    poll_statuses(client, report_id, 3)
    assert waits == [0.25]


def test_report_faults_strike_its_downloads(client: FlaskClient) -> None:
    report_id = created_id(client, "502@on=download")
    client.post("/_mock/clock/advance", json={"seconds": 3600})
    output = client.get(f"/api/reports/{report_id}", headers=KEY).get_json()["data"]["output"]
    path = urlsplit(output["pdf_url"])
    assert client.get(f"{path.path}?{path.query}").status_code == 502


def test_report_faults_strike_its_cancel(client: FlaskClient) -> None:
    report_id = created_id(client, "502@on=cancel")
    response = client.delete(f"/api/reports/{report_id}", headers=KEY)
    assert response.status_code == 502
    assert (
        client.get(f"/api/reports/{report_id}", headers=KEY).get_json()["data"]["status"]
        == "pending"
    )


def test_report_faults_spare_other_reports(client: FlaskClient) -> None:
    created_id(client, "503")
    other = created_id(client, case_id="case_other")
    assert poll_statuses(client, other, 3) == [200, 200, 200]


def test_report_faults_do_not_reach_another_tenant(client: FlaskClient) -> None:
    report_id = created_id(client, "503")
    response = client.get(f"/api/reports/{report_id}", headers=OTHER_KEY)
    assert response.status_code == 200 and response.get_json()["data"] is None


# --- server-wide: settings, CLI and the control API --------------------------------------------


def test_configured_faults_strike_every_report(app_factory: Any) -> None:
    client = app_factory(FAULTS="503@polls=2").test_client()
    first, second = created_id(client), created_id(client, case_id="case_two")
    assert poll_statuses(client, first, 3) == poll_statuses(client, second, 3) == [200, 503, 200]


def test_configured_faults_may_be_json(app_factory: Any) -> None:
    client = app_factory(FAULTS=[{"fault": "503", "polls": [1]}]).test_client()
    assert poll_statuses(client, created_id(client), 2) == [503, 200]


def test_bad_configured_faults_stop_the_server_naming_the_key(app_factory: Any) -> None:
    with pytest.raises(SettingsError, match=r"^FAULTS='nope': Invalid fault rule 'nope'"):
        app_factory(FAULTS="nope")


def test_the_cli_joins_repeated_faults() -> None:
    arguments = build_parser().parse_args(
        ["serve", "--fault", "503@polls=3", "--fault", "drop@rate=0.1"]
    )
    assert config_from_arguments(arguments)["FAULTS"] == "503@polls=3; drop@rate=0.1"


def test_faults_never_touch_the_control_api_or_health(app_factory: Any) -> None:
    client = app_factory(FAULTS="500").test_client()
    assert client.get("/api/reports/rpt_x", headers=KEY).status_code == 500
    assert client.get("/_mock/clock").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_a_status_fault_stops_the_request_before_it_takes_effect(app_factory: Any) -> None:
    client = app_factory(FAULTS="503@on=create").test_client()
    assert create(client).status_code == 503
    client.put("/_mock/faults", json={"rules": []})
    assert (
        client.get("/api/reports?case_id=case_faults", headers=KEY).get_json()["data"]["total"] == 0
    )


def test_a_spoiled_answer_comes_after_the_request_took_effect(app_factory: Any) -> None:
    client = app_factory(FAULTS="truncate@on=create").test_client()
    assert create(client).headers["X-Mock-Fault"] == "truncate"
    assert (
        client.get("/api/reports?case_id=case_faults", headers=KEY).get_json()["data"]["total"] == 1
    )


def test_the_control_api_shows_the_configured_plan(app_factory: Any) -> None:
    client = app_factory(FAULTS="503@polls=3,4", SEED=5).test_client()
    plan = client.get("/_mock/faults").get_json()["data"]
    assert plan["source"] == "configured" and plan["seed"] == 5
    assert plan["rules"] == [{"fault": "503", "polls": [3, 4]}]
    assert plan["spec"] == "503@polls=3,4"


def test_put_replaces_the_plan_at_run_time(client: FlaskClient) -> None:
    report_id = created_id(client)
    plan = client.put("/_mock/faults", json={"rules": ["502@polls=2"], "seed": 3}).get_json()[
        "data"
    ]
    assert (plan["source"], plan["seed"], plan["spec"]) == ("runtime", 3, "502@polls=2")
    assert poll_statuses(client, report_id, 3) == [200, 502, 200]


def test_poll_numbers_count_from_the_report_creation(client: FlaskClient) -> None:
    report_id = created_id(client)
    poll_statuses(client, report_id, 2)
    client.put("/_mock/faults", json={"rules": ["503@polls=3"]})
    assert poll_statuses(client, report_id, 2) == [503, 200]


def test_delete_goes_back_to_the_configured_plan(app_factory: Any) -> None:
    client = app_factory(FAULTS="503@polls=1").test_client()
    client.put("/_mock/faults", json={"rules": []})
    plan = client.delete("/_mock/faults").get_json()["data"]
    assert (plan["source"], plan["spec"]) == ("configured", "503@polls=1")


def test_reset_ends_run_time_faults(client: FlaskClient) -> None:
    client.put("/_mock/faults", json={"rules": ["500"]})
    client.post("/_mock/reset")
    assert client.get("/_mock/faults").get_json()["data"]["source"] == "configured"
    assert client.get("/api/reports/rpt_x", headers=KEY).status_code == 200


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (["500"], "the body must be a JSON object with a rules field"),
        ({"seed": 1}, "the body must be a JSON object with a rules field"),
        ({"rules": [], "extra": 1}, "unknown field 'extra'"),
        ({"rules": [], "seed": "7"}, messages.FAULT_BAD_SEED.format(value='"7"')),
        ({"rules": [], "seed": True}, messages.FAULT_BAD_SEED.format(value="true")),
        ({"rules": [], "seed": -1}, messages.FAULT_BAD_SEED.format(value="-1")),
        ({"rules": [], "seed": 2**63}, messages.FAULT_BAD_SEED.format(value=str(2**63))),
        ({"rules": ["504"]}, messages.FAULT_UNKNOWN_KIND.format(kind="504", known=KINDS)),
        ({"rules": {"fault": "503"}}, messages.FAULT_NOT_A_RULE.format(kind="an object")),
    ],
)
def test_a_bad_plan_is_a_400_that_keeps_the_old_one(
    client: FlaskClient, body: object, problem: str
) -> None:
    client.put("/_mock/faults", json={"rules": ["503@polls=9"]})
    response = client.put("/_mock/faults", json=body)
    assert response.status_code == 400
    assert problem in response.get_json()["error"]
    assert response.get_json()["error"].startswith("Invalid fault plan: ")
    assert client.get("/_mock/faults").get_json()["data"]["spec"] == "503@polls=9"


def test_a_rate_plan_repeats_exactly_with_the_same_seed(app_factory: Any) -> None:
    def statuses(seed: int) -> list[int]:
        client = app_factory().test_client()
        client.put("/_mock/faults", json={"rules": ["503@rate=0.5"], "seed": seed})
        return [client.get("/api/reports/rpt_x", headers=KEY).status_code for _ in range(40)]

    assert statuses(1) == statuses(1) != statuses(2)


def test_the_journal_names_each_injected_fault(client: FlaskClient) -> None:
    report_id = created_id(client, "503@polls=2; truncate@polls=3")
    poll_statuses(client, report_id, 3)
    assert [entry["fault"] for entry in journal(client)] == [None, None, "503", "truncate"]


# --- a real server: the connection really drops ------------------------------------------------


@pytest.fixture
def live_base_url(serve_on_loopback: Any) -> str:
    """A werkzeug server on loopback, as ``mockserver serve --server werkzeug`` runs it."""
    from mockserver import create_app

    app = create_app({"TIME_SCALE": 0, "FAULTS": "drop@polls=2", "VALIDATE_RESPONSES": "raise"})
    return str(serve_on_loopback(app))


def test_a_dropped_connection_is_a_connection_error_for_requests(live_base_url: str) -> None:
    with requests.Session() as session:
        created = session.post(f"{live_base_url}/api/reports", json=BODY, headers=KEY, timeout=5)
        url = f"{live_base_url}/api/reports/{created.json()['data']['id']}"
        assert session.get(url, headers=KEY, timeout=5).status_code == 200
        with pytest.raises(requests.ConnectionError):
            session.get(url, headers=KEY, timeout=5)
        assert session.get(url, headers=KEY, timeout=5).status_code == 200


def test_the_readme_fault_example_runs() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    match = re.search(r"<!-- tested: faults -->\n```python\n(.*?)```", readme, re.S)
    assert match, "README has no tested block 'faults'"
    exec(compile(match.group(1), "README.md", "exec"), {})
