"""The poll's lean path answers exactly as Flask would, and hands over whatever it does not do.

The whole suite runs through the lean path (it is the app's ``wsgi_app``); these tests prove
that it is the one answering polls, that its answer and journal entry are Flask's byte for
byte, and that it stands aside whenever Flask has work it does not reproduce.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from mockserver.app import backend_of
from mockserver.web.fast_poll import FastPoll

from ..conftest import make_app

KEY = {"X-API-Key": "sk-lean-path"}
BODY = {"case_id": "case_lean", "type": "technical_report"}


@pytest.fixture
def lean_app(
    store_backend: str, new_store_url: Callable[[str], str]
) -> Iterator[Callable[..., Flask]]:
    """``lean_app(**settings)``: one app (one worker) on a fresh store of each backend."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = make_app(STORE=new_store_url(store_backend), **settings)
        made.append(app)
        return app

    yield make
    for app in made:
        backend_of(app).state.close()


def lean_path(app: Flask) -> FastPoll:
    fast = app.wsgi_app
    assert isinstance(fast, FastPoll)
    return fast


class FlaskCalls:
    """Wraps the Flask app behind the lean path and counts what reaches it."""

    def __init__(self, fast: FastPoll) -> None:
        self.paths: list[str] = []
        self._flask = fast._flask
        fast._flask = self

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.paths.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return self._flask(environ, start_response)  # type: ignore[arg-type]


def create(app: Flask, scenario: str, **headers: str) -> str:
    created = app.test_client().post(
        "/api/reports", json=BODY, headers={**KEY, "X-Mock-Scenario": scenario, **headers}
    )
    assert created.status_code == 200, created.get_json()
    report_id: str = created.get_json()["data"]["id"]
    return report_id


def test_the_lean_path_answers_a_poll_byte_for_byte_as_flask_does(
    lean_app: Callable[..., Flask],
) -> None:
    app = lean_app()
    fast = lean_path(app)
    assert fast.disabled_because is None
    processing, completed = create(app, "stuck"), create(app, "happy")
    client = app.test_client()
    client.post("/_mock/clock/advance", json={"seconds": 900})
    client.delete("/_mock/requests")
    flask_only = Client(fast._flask)
    for target in (processing, completed, "rpt_missing", "case_lean"):
        path = f"/api/reports/{target}?seen=1"
        lean = client.get(path, headers=KEY)
        plain = flask_only.get(path, headers=KEY)
        assert lean.status == plain.status == "200 OK"
        assert lean.get_data() == plain.get_data()
        assert sorted(lean.headers.items()) == sorted(plain.headers.items())
    entries = client.get("/_mock/requests").get_json()["data"]["requests"]
    assert len(entries) == 8
    for lean_entry, plain_entry in zip(entries[::2], entries[1::2], strict=True):
        assert lean_entry == plain_entry
        assert lean_entry["status"] == 200 and lean_entry["query"] == "seen=1"


def test_polls_never_reach_flask_and_everything_else_does(
    lean_app: Callable[..., Flask],
) -> None:
    app = lean_app()
    report_id = create(app, "stuck")
    flask = FlaskCalls(lean_path(app))
    client = app.test_client()
    for _ in range(3):
        assert client.get(f"/api/reports/{report_id}", headers=KEY).status_code == 200
    assert flask.paths == []
    assert client.get(f"/api/reports/{report_id}").status_code == 401
    assert client.get(f"/api/reports/{report_id}", headers={"X-API-Key": "nope"}).status_code == 401
    assert client.post(f"/api/reports/{report_id}", headers=KEY).status_code == 405
    assert client.get(f"/api/reports/{report_id}/", headers=KEY).status_code == 404
    assert client.get("/api/reports?case_id=case_lean", headers=KEY).status_code == 200
    assert flask.paths == [
        f"GET /api/reports/{report_id}",
        f"GET /api/reports/{report_id}",
        f"POST /api/reports/{report_id}",
        f"GET /api/reports/{report_id}/",
        "GET /api/reports",
    ]


def test_a_poll_a_fault_rule_may_strike_goes_to_flask_without_a_second_read(
    lean_app: Callable[..., Flask],
) -> None:
    app = lean_app()
    report_id = create(app, "stuck", **{"X-Mock-Faults": "503@polls=2"})
    flask = FlaskCalls(lean_path(app))
    store = backend_of(app).state.store
    reads: list[str | None] = []
    inside: list[bool] = []  # memory and SQLite make one read of the other
    for name in ("report_and_number", "report_number_and_entry"):
        read = getattr(store, name)

        def counted(report_id: str | None, *args: Any, read: Any = read, **kwargs: Any) -> Any:
            if not inside:
                reads.append(report_id)
            inside.append(True)
            try:
                return read(report_id, *args, **kwargs)
            finally:
                inside.pop()

        setattr(store, name, counted)
    client = app.test_client()
    statuses = [client.get(f"/api/reports/{report_id}", headers=KEY).status_code for _ in range(3)]
    assert statuses == [200, 503, 200]
    assert reads == [report_id] * 3  # the scope made by the lean path is Flask's
    assert len(flask.paths) == 3


def test_the_lean_path_stands_aside_for_the_rate_limit_and_for_hooks_it_does_not_know(
    lean_app: Callable[..., Flask],
) -> None:
    limited = lean_path(lean_app(RATE_LIMIT=True))
    assert limited.disabled_because is not None and "rate limit" in limited.disabled_because
    app = lean_app()

    @app.after_request
    def stamp(response: Any) -> Any:
        response.headers["X-Stamp"] = "1"
        return response

    guarded = FastPoll(app, lean_path(app)._flask)
    assert guarded.disabled_because is not None and "stamp" in guarded.disabled_because
    report_id = create(app, "stuck")
    answer = Client(guarded).get(f"/api/reports/{report_id}", headers=KEY)
    assert answer.headers["X-Stamp"] == "1"
    assert json.loads(answer.get_data())["data"]["id"] == report_id


def test_a_poll_journaled_before_its_answer_failed_to_build_is_still_one_entry(
    lean_app: Callable[..., Flask],
) -> None:
    """When the lean path wrote a poll's entry with its read and then could not build the
    answer, Flask answers the poll, and writes no second entry or count for it."""
    app = lean_app()
    report_id = create(app, "stuck")
    client = app.test_client()
    client.get(f"/api/reports/{report_id}", headers=KEY)  # the worker's caches are current
    client.delete("/_mock/requests")
    flask = FlaskCalls(lean_path(app))
    reports = backend_of(app).reports
    get = reports.get
    failures = [RuntimeError("the answer could not be built")]

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return get(*args, **kwargs)

    reports.get = failing_once  # type: ignore[method-assign]
    polled = client.get(f"/api/reports/{report_id}", headers=KEY)
    assert polled.status_code == 200 and polled.get_json()["data"]["id"] == report_id
    assert flask.paths == [f"GET /api/reports/{report_id}"] and not failures
    entries = client.get("/_mock/requests").get_json()["data"]["requests"]
    assert [(entry["method"], entry["status"]) for entry in entries] == [("GET", 200)]
    count_key = backend_of(app).gateway.faults.poll_count_key(report_id)
    assert backend_of(app).state.store.number(count_key) == 2  # the earlier poll, and this


def test_a_poll_during_a_store_outage_asks_the_store_once(
    lean_app: Callable[..., Flask],
) -> None:
    """A store that is down (or hung: each ask waits for its timeout) is asked once per
    poll: the lean path answers the outage's 503 itself instead of handing it to Flask."""
    import redis

    app = lean_app()
    report_id = create(app, "stuck")
    client = app.test_client()
    client.get(f"/api/reports/{report_id}", headers=KEY)  # the worker's caches are current
    flask = FlaskCalls(lean_path(app))
    store = backend_of(app).state.store
    asked: list[str] = []
    for name in ("report_and_number", "report_number_and_entry", "get_report", "number"):

        def down(*args: Any, _name: str = name, **kwargs: Any) -> Any:
            asked.append(_name)
            raise redis.ConnectionError("Connection refused")

        setattr(store, name, down)
    refused = client.get(f"/api/reports/{report_id}", headers=KEY)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert refused.get_json()["success"] is False
    assert "store is unavailable" in refused.get_json()["error"]
    assert len(asked) == 1 and flask.paths == []
