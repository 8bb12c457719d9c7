"""The live inspector under /_mock/: its pages, and the JSON they poll (Flask test client)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockserver.core.scenarios import SCENARIOS
from mockserver.web.inspector import DEFAULT_INSPECTOR_API_KEY

STEP = {"current_step": "delta_v_calculation", "steps_completed": [], "message": "Working"}
SECTIONS = [
    {
        "id": "sec_header",
        "type": "header",
        "title": "Report Header",
        "markdown": "Jane Smith, Esq.\n\n**Case:** Doe v. Miller <script>alert(1)</script>",
    },
    {
        "id": "sec_loading",
        "type": "biomechanics_loading_considerations",
        "title": "Loading Considerations",
        "markdown": "1. Walking\n2. Sneeze",
        "data": {
            "charts": [
                {
                    "chartType": "CERVICAL_COMPRESSION",
                    "title": "Cervical Compression — Crash vs ADL",
                    "labels": ["Walking", "Sneeze", "Subject crash"],
                    "datasets": [{"label": "Force (lbf)", "data": [22, 75, 215]}],
                    "ylabel": "Cervical Spine Loading (lbf)",
                }
            ]
        },
    },
    {"id": "sec_references", "type": "references", "title": "References", "markdown": "- SAE"},
]


def scripted(api_key: str = DEFAULT_INSPECTOR_API_KEY, **change: Any) -> dict[str, Any]:
    """A scripted report: pending, processing from 5 s, completed at 30 s with SECTIONS."""
    script: dict[str, Any] = {
        "api_key": api_key,
        "case_id": "case_page",
        "timeline": [
            {
                "after_seconds": 0,
                "status": "pending",
                "progress": {"message": "Starting analysis..."},
            },
            {"after_seconds": 5, "status": "processing", "progress": STEP},
            {"after_seconds": 30, "status": "completed", "progress": {**STEP, "message": "Done"}},
        ],
        "report": {"schema_version": "1.0", "sections": SECTIONS},
    }
    script.update(change)
    return script


def create_scripted(client: FlaskClient, **change: Any) -> str:
    response = client.post("/_mock/reports", json=scripted(**change))
    assert response.status_code == 200, response.get_json()
    report_id: str = response.get_json()["data"]["id"]
    return report_id


def listed(client: FlaskClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/_mock/reports{query}")
    assert response.status_code == 200, response.get_json()
    reports: list[dict[str, Any]] = response.get_json()["data"]["reports"]
    return reports


def page(client: FlaskClient, path: str) -> str:
    return client.get(path).get_data(as_text=True)


# --- the overview page ---------------------------------------------------------------------


def test_overview_page_offers_every_scenario(client: FlaskClient) -> None:
    offered = re.findall(r'<option value="(\w+)" data-description', page(client, "/_mock/"))
    assert offered == list(SCENARIOS)


def test_overview_page_creates_with_the_default_inspector_key(client: FlaskClient) -> None:
    assert 'data-api-key="sk-inspector"' in page(client, "/_mock/")


def test_inspector_key_is_configurable(app_factory: Any) -> None:
    client = app_factory(INSPECTOR_API_KEY="sk-demo-booth").test_client()
    assert 'data-api-key="sk-demo-booth"' in page(client, "/_mock/")


def test_overview_page_loads_its_script_and_styles_from_the_control_api(
    client: FlaskClient,
) -> None:
    served = page(client, "/_mock/")
    for path in re.findall(r'(?:src|href)="(/_mock/static/[^"]+)"', served):
        with client.get(path) as response:
            assert response.status_code == 200, path
    assert "/_mock/static/inspector.js" in served and "/_mock/static/inspector.css" in served


@pytest.mark.parametrize(
    "path",
    ["/_mock/", "/_mock/reports", "/_mock/reports/rpt_x", "/_mock/static/inspector.js"],
)
def test_inspector_is_off_with_the_control_api(app_factory: Any, path: str) -> None:
    client = app_factory(CONTROL_API=False).test_client()
    assert client.get(path).status_code == 404


def test_there_is_no_app_wide_static_route(client: FlaskClient) -> None:
    assert client.get("/static/inspector.js").status_code == 404


# --- GET /_mock/reports: what the overview page polls ----------------------------------------


def test_report_list_shows_every_owner_newest_first(
    client: FlaskClient, api: Any, other_tenant: Any
) -> None:
    first = api.create("case_one")
    api.advance(1)
    second = other_tenant.create("case_two")
    reports = listed(client)
    assert [r["id"] for r in reports] == [second["id"], first["id"]]
    assert reports[0]["owner"] != reports[1]["owner"]


def test_report_list_shows_scenario_step_and_outcome(client: FlaskClient, api: Any) -> None:
    api.create(scenario="fail_delta_v")
    api.advance(15)
    (report,) = listed(client)
    assert (report["scenario"], report["status"], report["current_step"], report["ends_with"]) == (
        "fail_delta_v",
        "processing",
        "delta_v_calculation",
        "failed",
    )


def test_time_left_counts_down_on_the_virtual_clock(client: FlaskClient, api: Any) -> None:
    api.create()
    before = listed(client)[0]["seconds_left"]
    api.advance(10)
    assert listed(client)[0]["seconds_left"] == pytest.approx(before - 10)


def test_time_left_of_a_new_report_is_its_whole_lifecycle(client: FlaskClient, api: Any) -> None:
    api.create(options={"use_demo_data": True})
    (report,) = listed(client)
    assert report["seconds_left"] == report["total_seconds"] == 55


def test_a_report_that_never_ends_has_no_time_left(client: FlaskClient, api: Any) -> None:
    api.create(scenario="stuck")
    (report,) = listed(client)
    assert (report["seconds_left"], report["total_seconds"], report["ends_with"]) == (
        None,
        None,
        None,
    )


def test_a_finished_report_has_no_time_left(client: FlaskClient, api: Any) -> None:
    api.create(options={"use_demo_data": True})
    api.advance(60)
    (report,) = listed(client)
    assert (report["status"], report["terminal"], report["seconds_left"]) == (
        "completed",
        True,
        None,
    )


def test_report_list_carries_the_virtual_clock(client: FlaskClient, api: Any) -> None:
    api.advance(42)
    assert client.get("/_mock/reports").get_json()["data"]["clock"]["advanced_seconds"] == 42


def test_report_list_honours_its_limit(client: FlaskClient, api: Any) -> None:
    for number in range(3):
        api.create(f"case_{number}")
        api.advance(1)
    assert [r["case_id"] for r in listed(client, "?limit=2")] == ["case_2", "case_1"]


@pytest.mark.parametrize("limit", ["0", "501", "ten", "-1"])
def test_report_list_rejects_a_bad_limit(client: FlaskClient, limit: str) -> None:
    response = client.get(f"/_mock/reports?limit={limit}")
    assert response.status_code == 400 and "limit must be" in response.get_json()["error"]


def test_one_report_overview_is_served_whoever_owns_it(client: FlaskClient) -> None:
    report_id = create_scripted(client, api_key="sk-someone-else")
    data = client.get(f"/_mock/reports/{report_id}/overview").get_json()["data"]
    assert data["report"]["id"] == report_id and "now" in data["clock"]


def test_overview_of_an_unknown_report_is_a_404(client: FlaskClient) -> None:
    response = client.get("/_mock/reports/rpt_nope/overview")
    assert response.status_code == 404 and response.get_json()["error"] == "Report not found"


# --- the report page -----------------------------------------------------------------------


def completed_report_page(client: FlaskClient, **change: Any) -> tuple[str, str]:
    report_id = create_scripted(client, **change)
    client.post("/_mock/clock/advance", json={"seconds": 30})
    return report_id, page(client, f"/_mock/reports/{report_id}")


def test_report_page_titles_every_section_in_order(client: FlaskClient) -> None:
    _, served = completed_report_page(client)
    titles = re.findall(
        r'<section class="report-section"[^>]*>\s*<header[^>]*>\s*<h2>(.*?)</h2>', served
    )
    assert [html.unescape(title) for title in titles] == [s["title"] for s in SECTIONS]


def test_report_page_draws_the_chart_from_its_data(client: FlaskClient) -> None:
    _, served = completed_report_page(client)
    assert re.findall(r'<rect class="bar"[^>]*data-value="([^"]+)"', served) == ["22", "75", "215"]


def test_report_page_renders_markdown_as_html(client: FlaskClient) -> None:
    _, served = completed_report_page(client)
    assert (
        "<strong>Case:</strong>" in served and "<ol><li>Walking</li><li>Sneeze</li></ol>" in served
    )


def test_report_page_escapes_html_in_the_markdown(client: FlaskClient) -> None:
    _, served = completed_report_page(client)
    assert "<script>alert(1)</script>" not in served and "&lt;script&gt;alert(1)" in served


def test_report_page_links_both_downloads(client: FlaskClient) -> None:
    report_id, served = completed_report_page(client)
    for extension in ("pdf", "docx"):
        assert f'href="/_mock/reports/{report_id}/download/{extension}"' in served


def test_download_link_redirects_to_a_freshly_signed_url(client: FlaskClient) -> None:
    report_id, _ = completed_report_page(client)
    response = client.get(f"/_mock/reports/{report_id}/download/pdf")
    assert response.status_code == 302
    assert re.search(
        rf"/storage/reports/{report_id}\.pdf\?expires=\d+&signature=", response.location
    )


def test_download_link_serves_the_document(client: FlaskClient) -> None:
    report_id, _ = completed_report_page(client)
    document = client.get(f"/_mock/reports/{report_id}/download/pdf", follow_redirects=True)
    assert document.status_code == 200 and document.data.startswith(b"%PDF")


def test_download_link_of_an_unfinished_report_is_a_404(client: FlaskClient) -> None:
    report_id = create_scripted(client)
    assert client.get(f"/_mock/reports/{report_id}/download/pdf").status_code == 404


def test_report_page_of_a_running_report_shows_its_step_and_no_downloads(
    client: FlaskClient,
) -> None:
    report_id = create_scripted(client)
    client.post("/_mock/clock/advance", json={"seconds": 6})
    served = page(client, f"/_mock/reports/{report_id}")
    assert '<dd id="report-step">delta_v_calculation</dd>' in served and "/download/" not in served


def test_report_page_offers_cancel_for_the_inspectors_own_running_report(
    client: FlaskClient,
) -> None:
    report_id = create_scripted(client)
    assert f'data-cancel="{report_id}"' in page(client, f"/_mock/reports/{report_id}")


def test_report_page_of_another_keys_report_is_read_only(client: FlaskClient) -> None:
    report_id = create_scripted(client, api_key="sk-someone-else")
    served = page(client, f"/_mock/reports/{report_id}")
    assert "read-only" in served and "data-cancel" not in served


def test_report_page_of_a_demo_report_shows_its_derived_sections(
    client: FlaskClient, api: Any
) -> None:
    created = api.create(options={"use_demo_data": True})
    api.advance(60)
    expected = [s["title"] for s in api.get(created["id"])["output"]["report"]["sections"]]
    served = page(client, f"/_mock/reports/{created['id']}")
    toc = re.findall(r'<li><a href="#section-[^"]*">(.*?)</a></li>', served)
    assert [html.unescape(title) for title in toc] == expected


def test_report_page_of_an_unknown_report_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/_mock/reports/rpt_nope")
    assert response.status_code == 404 and "No report rpt_nope" in response.get_data(as_text=True)
