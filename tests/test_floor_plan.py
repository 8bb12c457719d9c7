"""The floor plan holds: the core is pure, the kit's pytest plugin is light, every option is
declared once. (``lint-imports`` checks the other layer rules: see pyproject.toml.)"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mockserver.cli import build_parser
from mockserver.options import DEFAULTS, OPTIONS, SERVE_DEFAULTS, config_from_arguments
from mockserver.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "mockserver" / "core"
#: What installing the package must not make every pytest session import.
HEAVY = ("werkzeug", "flask", "responses", "mockserver", "contract_tests.harness")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", sorted(CORE.glob("*.py")), ids=lambda path: path.stem)
def test_the_core_imports_only_the_core_and_the_standard_library(module: Path) -> None:
    outside = sorted(
        name
        for name in _imported_modules(module)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not (name == "mockserver.core" or name.startswith("mockserver.core."))
    )
    assert outside == [], f"{module.name} imports {outside}: the core must stay pure"


def _modules_after(code: str, cwd: Path) -> list[str]:
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {(*HEAVY, 'hypothesis')!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return list(ast.literal_eval(result.stdout.strip().splitlines()[-1]))


def test_loading_the_pytest_plugin_imports_nothing_heavy(tmp_path: Path) -> None:
    assert _modules_after("import contract_tests.pytest_plugin", tmp_path) == []


def test_a_pytest_session_that_uses_no_fixture_of_the_kit_does_not_import_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_plain.py").write_text(
        textwrap.dedent(
            f"""
            import sys

            def test_plain():
                loaded = [m for m in {HEAVY!r} if m in sys.modules]
                assert "contract_tests.pytest_plugin" in sys.modules  # the plugin is installed
                assert loaded == []
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_plain.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kit_still_exports_its_names_on_first_use(tmp_path: Path) -> None:
    loaded = _modules_after("from contract_tests import check_client, RULES", tmp_path)
    assert "contract_tests.harness" in loaded or "hypothesis" in loaded


def test_every_settings_field_comes_from_the_table_of_options() -> None:
    fields = {field.name for field in dataclasses.fields(Settings)}
    declared = {option.field for option in OPTIONS if option.field is not None}
    assert fields == declared


def test_defaults_environment_variables_and_flags_come_from_the_table() -> None:
    assert set(DEFAULTS) | set(SERVE_DEFAULTS) == {option.key for option in OPTIONS}
    serve = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ).choices["serve"]
    helps = {flag: action.help for action in serve._actions for flag in action.option_strings}
    for option in OPTIONS:
        if option.flag is not None:
            assert option.variable in (helps[option.flag] or ""), option.key
            assert option.variable == f"MOCKSERVER_{option.key}"


def test_an_option_given_on_the_command_line_lands_under_its_config_key() -> None:
    arguments = build_parser().parse_args(
        ["serve", "--time-scale", "5", "--no-control-api", "--fault", "503@polls=1", "--port", "0"]
    )
    assert config_from_arguments(arguments) == {
        "TIME_SCALE": 5.0,
        "CONTROL_API": False,
        "FAULTS": "503@polls=1",
        "PORT": 0,
    }


def test_the_body_limit_setting_is_what_the_server_enforces() -> None:
    from mockserver import create_app

    client = create_app({"TIME_SCALE": 0, "MAX_CONTENT_LENGTH": 64}).test_client()
    response = client.post(
        "/api/reports",
        data=b"{" + b" " * 100 + b"}",
        headers={"X-API-Key": "sk-test", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["success"] is False
    assert "64" in response.get_json()["error"]


def _counting_store_calls(app: object) -> Counter[str]:
    """Count every call the app makes to its store from now on."""
    from mockserver.app import backend_of

    store = backend_of(app).state.store  # type: ignore[arg-type]
    counts: Counter[str] = Counter()

    def counting(name: str, call: Any) -> Any:
        def counted(*args: object, **options: object) -> Any:
            counts[name] += 1
            return call(*args, **options)

        return counted

    for name in dir(type(store)):
        if not name.startswith("_") and callable(getattr(store, name)):
            setattr(store, name, counting(name, getattr(store, name)))
    return counts


@pytest.mark.parametrize("scenario", ["stuck", "happy"])
def test_a_poll_looks_its_report_up_once_and_reads_the_clock_once(scenario: str) -> None:
    from mockserver import create_app

    app = create_app({"TIME_SCALE": 0})
    client = app.test_client()
    key = {"X-API-Key": "sk-floor-plan"}
    created = client.post(
        "/api/reports",
        json={"case_id": "case_plan", "type": "technical_report"},
        headers={**key, "X-Mock-Scenario": scenario},
    ).get_json()["data"]
    client.post("/_mock/clock/advance", json={"seconds": 900})
    counts = _counting_store_calls(app)
    poll = client.get(f"/api/reports/{created['id']}", headers=key).get_json()["data"]
    assert poll["status"] == ("processing" if scenario == "stuck" else "completed")
    # The gateway, the route and the journal share the request's lookup and clock reading:
    # the report and the cache version come in one read (the clock is computed from them).
    assert counts["report_and_number"] == 1 and counts["get_report"] == 0, counts
    assert counts["value_or_default"] == 0, counts  # the clock's anchor is cached
    assert counts["append_request"] == 1, counts
    counts.clear()  # the first poll after the advance read the fault rules again; now nothing
    client.get(f"/api/reports/{created['id']}", headers=key)
    # One call with the journal entry guessed from the caches; on memory:// (as on SQLite)
    # it is made of the read and the write (on Redis it is one script).
    expected = {"report_number_and_entry": 1, "report_and_number": 1, "append_request": 1}
    assert counts == expected, counts


def test_every_api_and_storage_view_is_tagged_with_its_gateway_route() -> None:
    from mockserver import create_app
    from mockserver.web import route_of_view

    app = create_app({"TIME_SCALE": 0})
    untagged = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api", "/storage"))
        and route_of_view(app.view_functions[rule.endpoint])[0] == "other"
    ]
    assert untagged == [], "tag these views with @gateway_route so fault rules reach them"
