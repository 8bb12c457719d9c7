"""The pytest plugin in a fresh project, through pytester."""

from __future__ import annotations

import pytest

GOOD_CLIENT = """
import time, requests

def wait_for_report(report_id, *, base_url, api_key):
    deadline = time.time() + 600
    while time.time() < deadline:
        data = requests.get(f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}).json()["data"]
        if data is None:
            raise LookupError("not found")
        if data["status"] == "completed":
            return data
        if data["status"] in ("failed", "cancelled"):
            raise RuntimeError(f"Report {data['status']}: {(data.get('progress') or {}).get('message', '')}")
        time.sleep(5)
    raise TimeoutError("gave up")
"""


def test_plugin_passes_a_good_client_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(my_client=GOOD_CLIENT)
    pytester.makepyfile(
        test_mine="""
        import my_client

        def test_polling(contract_kit):
            contract_kit.check_client(my_client.wait_for_report)
        """
    )
    result = pytester.runpytest_subprocess("--contract-examples", "5", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_plugin_fails_a_bad_client_naming_the_rule(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest, requests

        def eager(report_id, *, base_url, api_key):
            return requests.get(f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}).json()["data"]

        @pytest.mark.contract_examples(3)
        def test_eager(contract_kit):
            contract_kit.check_client(eager)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*BROKEN  returns_only_completed_reports*"])


def test_reports_mock_fixture_serves_a_live_mock_with_a_controllable_clock(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_live="""
        import requests

        def test_lifecycle(reports_mock):
            report = reports_mock.create_report("case_1")
            reports_mock.advance(3600)
            data = requests.get(reports_mock.base_url + "/api/reports/" + report["id"],
                                headers={"X-API-Key": reports_mock.api_key}).json()["data"]
            assert data["status"] == "completed"
            assert [r["method"] for r in reports_mock.requests()] == ["POST", "GET"]

        def test_state_is_reset_between_tests(reports_mock):
            assert reports_mock.requests() == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_plugin_registers_its_options_and_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--contract-examples*", "*--contract-seed*"])
    markers = pytester.runpytest_subprocess("--markers")
    markers.stdout.fnmatch_lines(["*contract_examples(n)*"])
