"""Fixtures shared by the whole suite: a mock app on a frozen clock and a small API client."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver import create_app
from mockserver.core.clock import parse_timestamp

# pytester tests the kit's own pytest plugin in fresh projects.
pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "long_running: takes a minute or more on a loaded 2-core machine; run first, so that "
        "`make test -n auto` does not end on one worker while the other waits",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long-running tests first (a stable sort: the rest keep their order)."""
    items.sort(key=lambda item: item.get_closest_marker("long_running") is None)


#: ``REPORTS_MOCK_TEST_BUDGET=full``: the kit's checks with their full budgets (every profile,
#: every generated example). ``make test`` keeps the kit's explicit lifecycles, which hold an
#: example of each path and of each planted bug, and trims what only repeats them.
FULL_BUDGET = os.environ.get("REPORTS_MOCK_TEST_BUDGET", "") == "full"

START_TIME = "2026-01-15T10:30:00Z"
API_KEY = "sk-test-tenant-one"
OTHER_API_KEY = "sk-test-tenant-two"


def require_binary(*names: str, package: str) -> str:
    """The path of the first of ``names`` on ``PATH``, or a skip that names the Debian
    ``package`` (a failure under CI, ``CI`` set): ``scripts/install-system-deps.sh`` installs
    it."""
    for name in names:
        path = shutil.which(name)
        if path is not None:
            return path
    reason = f"{names[0]} is not installed: `bash scripts/install-system-deps.sh` adds {package}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def make_app(**overrides: Any) -> Flask:
    """A mock on a frozen clock at START_TIME that raises on any response breaking schemas/."""
    config: dict[str, Any] = {
        "TESTING": True,
        "TIME_SCALE": 0,
        "START_TIME": START_TIME,
        "VALIDATE_RESPONSES": "raise",
        "SIGNING_SECRET": "test-secret",
    }
    config.update(overrides)
    return create_app(config)


class ApiClient:
    """The Reports API through Flask's test client, as one tenant."""

    def __init__(self, client: FlaskClient, api_key: str = API_KEY) -> None:
        self.client = client
        self.api_key = api_key

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.api_key, **extra}

    def create(
        self, case_id: str = "case_abc123", *, scenario: str | None = None, **body: Any
    ) -> Any:
        payload = {"case_id": case_id, "type": "technical_report", **body}
        headers = self.headers(**({"X-Mock-Scenario": scenario} if scenario else {}))
        response = self.client.post("/api/reports", json=payload, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    def get(self, report_id: str) -> Any:
        response = self.client.get(f"/api/reports/{report_id}", headers=self.headers())
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    def advance(self, seconds: float) -> Any:
        response = self.client.post("/_mock/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    def now(self) -> float:
        return float(self.client.get("/_mock/clock").get_json()["data"]["epoch_seconds"])


@pytest.fixture
def app() -> Iterator[Flask]:
    yield make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def other_tenant(client: FlaskClient) -> ApiClient:
    return ApiClient(client, OTHER_API_KEY)


@pytest.fixture
def start_epoch() -> float:
    return parse_timestamp(START_TIME)


@pytest.fixture
def app_factory() -> Any:
    """``app_factory(**config)``: a mock like ``app`` with some settings changed."""
    return make_app


@pytest.fixture
def client_for() -> Any:
    """``client_for(flask_client, api_key)``: an :class:`ApiClient` as another tenant."""
    return ApiClient


@contextlib.contextmanager
def served_on_loopback(app: Flask) -> Iterator[str]:
    """The app on a free loopback port, answering in threads (werkzeug); its base URL. The
    server stops when the block ends."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def serve_on_loopback() -> Iterator[Any]:
    """``serve_on_loopback(app)``: :func:`served_on_loopback` for the test; its base URL.
    Every server started is stopped when the test ends."""
    with contextlib.ExitStack() as servers:
        yield lambda app: servers.enter_context(served_on_loopback(app))
