"""Scenario files on the mock: `X-Mock-Scenario: file:NAME` replays a recorded lifecycle on the
virtual clock, in the recorded output's shape; `GET /_mock/requests?format=scenario` exports
the journal in the same format. (Served end to end, with `mockserver record`:
test_record_replay.py.)"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mockserver import create_app
from mockserver.core import messages
from mockserver.settings import SettingsError
from schemas.scenario_files import scenario_problems
from tests.conftest import ApiClient

EXTRA_STEP = {"current_step": "quality_check", "steps_completed": [], "message": "Checking photos"}
FAILED: dict[str, Any] = {
    "scenario_format": 1,
    "name": "prod_template_error",
    "timeline": [
        {"after_seconds": 0, "status": "pending", "progress": {"message": "Starting analysis..."}},
        {"after_seconds": 8.5, "status": "processing", "progress": EXTRA_STEP},
        {
            "after_seconds": 95,
            "status": "failed",
            "progress": {"message": "Report generation failed: template error"},
        },
    ],
    "extra_fields": {"region": "eu-west-1"},
    "outcome": {"status": "failed", "error": "Report generation failed: template error"},
}
REPORT = {
    "schema_version": "1.0",
    "sections": [{"id": "sec_header", "type": "header", "title": "Header", "markdown": "**Case**"}],
}
COMPLETED: dict[str, Any] = {
    "scenario_format": 1,
    "name": "completed_shapes",
    "timeline": [
        {"after_seconds": 0, "status": "pending", "progress": None},
        {"after_seconds": 60, "status": "completed", "progress": None},
    ],
    "outcome": {
        "status": "completed",
        "output": {
            "fields": ["docx_url", "expires_in", "pdf_url"],
            "extra_fields": {"expires_in": 3600},
            "documents": {"pdf": "missing", "docx": "available"},
        },
    },
}
WITH_REPORT = copy.deepcopy(COMPLETED)
WITH_REPORT["name"] = "with_report"
WITH_REPORT["outcome"]["output"] = {"fields": ["pdf_url", "docx_url", "report"], "report": REPORT}
UNFINISHED: dict[str, Any] = {
    "scenario_format": 1,
    "name": "never_ends",
    "timeline": [{"after_seconds": 0, "status": "pending"}],
    "outcome": {"status": "unfinished"},
}


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    for name, document in (
        ("incident-7", FAILED),
        ("completed_shapes", COMPLETED),
        ("with_report", WITH_REPORT),
        ("never_ends", UNFINISHED),
    ):
        (tmp_path / f"{name}.json").write_text(json.dumps(document))
    return tmp_path


@pytest.fixture
def api(app_factory: Any, client_for: Any, scenario_dir: Path) -> ApiClient:
    app = app_factory(SCENARIO_FILES=str(scenario_dir))
    client: ApiClient = client_for(app.test_client(), "sk-replay")
    return client


def test_a_failure_replays_its_states_at_their_times(api: ApiClient) -> None:
    created = api.create(scenario="file:prod_template_error")
    assert created["status"] == "pending" and created["region"] == "eu-west-1"
    assert api.advance(8)
    assert api.get(created["id"])["status"] == "pending"  # +8 s: not yet at +8.5 s
    api.advance(1)
    assert api.get(created["id"])["progress"] == EXTRA_STEP
    api.advance(86)
    failed = api.get(created["id"])
    assert failed["status"] == "failed"
    assert failed["progress"]["message"] == "Report generation failed: template error"
    assert failed["updated_at"] == "2026-01-15T10:31:35Z"  # created at 10:30:00, +95 s
    assert next(iter(failed)) == "region"  # extra fields first, as the mock serves them


def test_the_file_stem_chooses_it_too(api: ApiClient) -> None:
    assert api.create(scenario="file:incident-7")["status"] == "pending"


def test_a_completed_output_keeps_the_recorded_shape_and_missing_document(api: ApiClient) -> None:
    created = api.create(scenario="file:completed_shapes")
    api.advance(60)
    output = api.get(created["id"])["output"]
    assert list(output) == ["docx_url", "expires_in", "pdf_url"]  # no report, as recorded
    assert output["expires_in"] == 3600
    pdf = api.client.get(output["pdf_url"])
    assert pdf.status_code == 404
    assert pdf.get_json()["error"] == messages.DOWNLOAD_MISSING_IN_RECORDING.format(
        filename=f"{created['id']}.pdf", name="completed_shapes"
    )
    docx = api.client.get(output["docx_url"])
    assert docx.status_code == 200 and docx.data.startswith(b"PK")


def test_a_recorded_report_is_served_verbatim(api: ApiClient) -> None:
    created = api.create(scenario="file:with_report")
    api.advance(60)
    assert api.get(created["id"])["output"]["report"] == REPORT


def test_an_unfinished_recording_stays_in_its_last_state(api: ApiClient) -> None:
    created = api.create(scenario="file:never_ends")
    api.advance(86_400 - 1)
    assert api.get(created["id"])["status"] == "pending"


def test_an_unknown_file_is_a_400_listing_the_loaded_ones(api: ApiClient) -> None:
    answer = api.client.post(
        "/api/reports",
        json={"case_id": "case_x", "type": "technical_report"},
        headers=api.headers(**{"X-Mock-Scenario": "file:nope"}),
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"] == messages.UNKNOWN_SCENARIO_FILE.format(
        name="nope",
        known="file:completed_shapes, file:incident-7, file:never_ends, "
        "file:prod_template_error, file:with_report",
    )


def test_without_scenario_files_the_400_says_how_to_load_them(app_factory: Any) -> None:
    client = app_factory().test_client()
    answer = client.post(
        "/api/reports",
        json={"case_id": "case_x", "type": "technical_report"},
        headers={"X-API-Key": "sk-x", "X-Mock-Scenario": "file:x"},
    )
    assert answer.status_code == 400
    assert (
        "Loaded scenario files: none (start the mock with --scenario-file PATH)"
        in (answer.get_json()["error"])
    )


def test_the_scenario_list_names_each_file_once(api: ApiClient, scenario_dir: Path) -> None:
    listed = api.client.get("/_mock/scenarios").get_json()["data"]["scenarios"]
    files = {s["name"]: s for s in listed if s["name"].startswith("file:")}
    assert sorted(files) == [
        "file:completed_shapes",
        "file:never_ends",
        "file:prod_template_error",
        "file:with_report",
    ]
    assert files["file:never_ends"]["outcome"] == "never"
    assert str(scenario_dir / "incident-7.json") in files["file:prod_template_error"]["description"]


def test_the_option_comes_from_the_environment_too(
    monkeypatch: pytest.MonkeyPatch, scenario_dir: Path
) -> None:
    monkeypatch.setenv("MOCKSERVER_SCENARIO_FILES", f"{scenario_dir / 'incident-7.json'}; ")
    client = create_app({"TIME_SCALE": 0}).test_client()
    names = [s["name"] for s in client.get("/_mock/scenarios").get_json()["data"]["scenarios"]]
    assert [name for name in names if name.startswith("file:")] == ["file:prod_template_error"]
    created = client.post(
        "/api/reports",
        json={"case_id": "case_env", "type": "technical_report"},
        headers={"X-API-Key": "sk-env", "X-Mock-Scenario": "file:incident-7"},
    )
    assert created.status_code == 200


def test_create_app_takes_a_list_of_paths(scenario_dir: Path) -> None:
    paths = [str(scenario_dir / "never_ends.json"), str(scenario_dir / "with_report.json")]
    client = create_app({"SCENARIO_FILES": paths}).test_client()
    listed = client.get("/_mock/scenarios").get_json()["data"]["scenarios"]
    assert [s["name"] for s in listed if s["name"].startswith("file:")] == [
        "file:never_ends",
        "file:with_report",
    ]


def test_a_malformed_file_is_a_settings_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**UNFINISHED, "outcome": {"status": "completed"}}))
    with pytest.raises(SettingsError) as raised:
        create_app({"SCENARIO_FILES": str(bad)})
    assert str(raised.value) == (f"scenario file {bad}: $.outcome: 'output' is a required property")


# --- the journal, exported -------------------------------------------------------------------


def export(api: ApiClient, query: str = "") -> Any:
    answer = api.client.get(f"/_mock/requests?format=scenario{query}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["data"]


def test_the_export_is_what_the_client_saw(api: ApiClient) -> None:
    created = api.create(scenario="fail_timeout", options={"include_biomechanics": False})
    for _ in range(3):
        api.get(created["id"])
        api.advance(60)
    cancelled = api.create("case_cancel")
    assert (
        api.client.delete(f"/api/reports/{cancelled['id']}", headers=api.headers()).status_code
        == 200
    )
    failing, cancelling = export(api)["scenarios"]
    assert [scenario_problems(s) for s in (failing, cancelling)] == [[], []]
    steps = [(e["status"], (e["progress"] or {}).get("current_step")) for e in failing["timeline"]]
    assert steps == [  # each state at the second its phase began, not when it was polled
        ("pending", None),
        ("processing", "delta_v_calculation"),
        ("processing", "report_generation"),
    ]
    assert [e["after_seconds"] for e in failing["timeline"]] == [0, 10, 110]
    assert failing["request"] == {
        "type": "technical_report",
        "options": {"use_demo_data": False, "include_biomechanics": False},
    }
    assert failing["outcome"] == {"status": "unfinished"}  # seen up to +120 s: still processing
    assert failing["recorded"]["requests"] == 4  # the create and three polls
    assert cancelling["outcome"] == {"status": "cancelled", "cancelled_by": "client"}
    assert export(api, f"&report_id={cancelled['id']}") == cancelling


def test_a_poll_hit_by_a_fault_saw_nothing(api: ApiClient) -> None:
    created = api.create(scenario="happy", **{})
    api.client.put("/_mock/faults", json={"rules": ["503@polls=1"]})
    api.advance(30)
    assert api.client.get(f"/api/reports/{created['id']}", headers=api.headers()).status_code == 503
    (scenario,) = export(api)["scenarios"]
    assert [e["status"] for e in scenario["timeline"]] == ["pending"]


def test_export_errors_say_what_to_ask_instead(api: ApiClient) -> None:
    wrong = api.client.get("/_mock/requests?format=har")
    assert wrong.status_code == 400
    assert wrong.get_json()["error"] == messages.JOURNAL_BAD_FORMAT.format(format="har")
    unknown = api.client.get("/_mock/requests?format=scenario&report_id=rpt_nope")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"] == messages.JOURNAL_REPORT_NOT_SEEN.format(
        report_id="rpt_nope"
    )
    assert export(api) == {"scenarios": []}


def test_the_inspector_shows_a_replayed_report(api: ApiClient) -> None:
    created = api.create(scenario="file:never_ends")
    overviews = api.client.get("/_mock/reports").get_json()["data"]["reports"]
    assert [(o["id"], o["scenario"]) for o in overviews] == [(created["id"], "file:never_ends")]
    page = api.client.get(f"/_mock/reports/{created['id']}")
    assert page.status_code == 200
