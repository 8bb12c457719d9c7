"""The served front answers a memory:// poll on its event loop, and nothing else there; a
sqlite:// poll is read there too and sent once its journal entry is written in a batch; a
redis:// poll awaits its one round trip there."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask

from mockserver.app import backend_of
from mockserver.asgi_front import BufferedWsgiFront, FrontLimits
from mockserver.serving import WORKER_HEADER, inline_polls
from mockserver.store.redis_store import RedisStore
from mockserver.store.sqlite import SQLiteStore

from ..conftest import make_app
from .conftest import free_port

KEY = "sk-front"


def _scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8080"), (b"x-api-key", KEY.encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8080),
    }


def serve_together(
    front: BufferedWsgiFront,
    paths: list[str],
    on_start: Callable[[], object] = lambda: None,
) -> list[dict[str, Any]]:
    """GET requests of ``paths`` through the ASGI front, all in flight on one loop at once;
    ``on_start`` is called as each answer starts to go out."""

    async def one(path: str) -> dict[str, Any]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                on_start()
            sent.append(message)

        await front(_scope("GET", path, b""), receive, send)
        return _answer_of(sent)

    async def all_of() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(one(path) for path in paths)))

    return asyncio.run(all_of())


def serve(front: BufferedWsgiFront, method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    """One request through the ASGI front; its status, headers and body."""
    scope = _scope(method, path, body)
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(front(scope, receive, send))
    return _answer_of(sent)


def _answer_of(sent: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": sent[0]["status"],
        "headers": dict(sent[0]["headers"]),
        "body": json.loads(sent[1]["body"]),
    }


def test_a_memory_poll_is_answered_on_the_loop_and_a_create_in_the_pool() -> None:
    app = make_app()
    threads: list[str] = []
    flask_wsgi = app.wsgi_app

    def noting_thread(environ: Any, start_response: Any) -> Any:
        threads.append(threading.current_thread().name)
        return flask_wsgi(environ, start_response)

    inline = inline_polls(app)
    assert inline is not None
    front = BufferedWsgiFront(noting_thread, FrontLimits(threads=1), inline=inline)
    created = serve(
        front,
        "POST",
        "/api/reports",
        json.dumps({"case_id": "c", "type": "technical_report"}).encode(),
    )
    assert created["status"] == 200 and len(threads) == 1 and threads[0].startswith("mock")
    report_id = created["body"]["data"]["id"]
    polled = serve(front, "GET", f"/api/reports/{report_id}")
    assert polled["status"] == 200 and polled["body"]["data"]["id"] == report_id
    assert polled["headers"][WORKER_HEADER.lower().encode()].isdigit()
    assert len(threads) == 1  # the poll never reached the pool
    assert serve(front, "GET", f"/api/reports/{report_id}/")["status"] == 404
    assert len(threads) == 2


def _front_and_report(app: Flask, threads: list[str]) -> tuple[BufferedWsgiFront, str]:
    """The served front of ``app`` noting the pool threads it uses, and a report made there."""
    flask_wsgi = app.wsgi_app

    def noting_thread(environ: Any, start_response: Any) -> Any:
        threads.append(threading.current_thread().name)
        return flask_wsgi(environ, start_response)

    inline = inline_polls(app)
    assert inline is not None
    front = BufferedWsgiFront(noting_thread, FrontLimits(threads=1), inline=inline)
    body = json.dumps({"case_id": "c", "type": "technical_report"}).encode()
    created = serve(front, "POST", "/api/reports", body)
    assert created["status"] == 200 and threads == ["mock_0"]
    return front, str(created["body"]["data"]["id"])


def _polls_journaled(app: Flask, report_id: str) -> tuple[int, float]:
    """The journal's polls of ``report_id`` (status 200) and the report's poll count."""
    state = backend_of(app).state
    entries, _ = state.store.requests(1000)
    polls = [e for e in entries if e.method == "GET" and e.report_id == report_id]
    assert all(e.status == 200 for e in polls)
    count = state.store.number(backend_of(app).gateway.faults.poll_count_key(report_id))
    return len(polls), count


def _sqlite_app(tmp_path: Any) -> tuple[Flask, SQLiteStore]:
    """A mock on a fresh SQLite file, and its store."""
    app = make_app(STORE=f"sqlite:///{tmp_path}/front.db")
    store = backend_of(app).state.store
    assert isinstance(store, SQLiteStore)
    return app, store


def test_sqlite_polls_are_answered_on_the_loop_after_their_batched_journal_entries(
    tmp_path: Any,
) -> None:
    app, store = _sqlite_app(tmp_path)
    batches: list[int] = []
    append_requests = store.append_requests

    def noting_batch(entries: list[Any]) -> None:
        batches.append(len(entries))
        append_requests(entries)

    store.append_requests = noting_batch  # type: ignore[method-assign]
    threads: list[str] = []
    front, report_id = _front_and_report(app, threads)
    polled = serve(front, "GET", f"/api/reports/{report_id}")
    assert polled["status"] == 200 and polled["body"]["data"]["id"] == report_id
    assert polled["headers"][WORKER_HEADER.lower().encode()].isdigit()
    assert _polls_journaled(app, report_id) == (1, 1.0)  # written before the answer came
    # Eight polls in flight together: one answer each, every entry and count written.
    started: list[int] = []

    def journaled_before_the_answer() -> None:
        started.append(1)
        assert _polls_journaled(app, report_id)[0] >= 1 + len(started)

    paths = [f"/api/reports/{report_id}"] * 8
    answers = serve_together(front, paths, on_start=journaled_before_the_answer)
    assert [answer["status"] for answer in answers] == [200] * 8
    assert _polls_journaled(app, report_id) == (9, 9.0)
    assert len(threads) == 1  # no poll reached the pool
    assert sum(batches) == 9 and max(batches) > 1  # the loop's polls went in batches
    backend_of(app).state.close()


def test_a_sqlite_poll_whose_batched_write_the_store_refuses_is_a_503(tmp_path: Any) -> None:
    app, store = _sqlite_app(tmp_path)
    append_requests = store.append_requests
    lock = threading.Event()
    lock.set()

    def locked(entries: list[Any]) -> None:
        if lock.is_set():
            raise sqlite3.OperationalError("database is locked")
        append_requests(entries)

    store.append_requests = locked  # type: ignore[method-assign]
    threads: list[str] = []
    front, report_id = _front_and_report(app, threads)
    refused = serve(front, "GET", f"/api/reports/{report_id}")
    assert refused["status"] == 503 and refused["headers"][b"retry-after"] == b"1"
    assert refused["body"]["success"] is False and "locked" in refused["body"]["error"]
    assert len(threads) == 1 and _polls_journaled(app, report_id) == (0, 0.0)
    lock.clear()  # the store is back: the next poll is written and answered
    assert serve(front, "GET", f"/api/reports/{report_id}")["status"] == 200
    assert _polls_journaled(app, report_id) == (1, 1.0)
    backend_of(app).state.close()


def test_a_sqlite_poll_whose_batched_write_fails_otherwise_is_served_by_the_pool(
    tmp_path: Any,
) -> None:
    app, store = _sqlite_app(tmp_path)

    def broken(entries: list[Any]) -> None:
        raise RuntimeError("a bug in the batch")

    store.append_requests = broken  # type: ignore[method-assign]
    threads: list[str] = []
    front, report_id = _front_and_report(app, threads)
    polled = serve(front, "GET", f"/api/reports/{report_id}")
    # The pool tried again (its own write got through): one answer, one entry, one count.
    assert polled["status"] == 200 and len(threads) == 2
    assert _polls_journaled(app, report_id) == (1, 1.0)
    backend_of(app).state.close()


def test_a_sqlite_poll_the_loop_cannot_read_at_once_is_served_by_the_pool(
    tmp_path: Any,
) -> None:
    app, store = _sqlite_app(tmp_path)
    threads: list[str] = []
    front, report_id = _front_and_report(app, threads)
    loop_thread = threading.get_ident()  # serve() runs the loop in this thread
    read = store.report_and_number

    def locked_on_the_loop(report: str | None, key: str) -> Any:
        if threading.get_ident() == loop_thread:
            # The loop's connection does not wait for a lock: it fails at once, like this.
            timeout = store._connection().execute("PRAGMA busy_timeout").fetchone()[0]
            assert timeout == 0
            raise sqlite3.OperationalError("database is locked")
        return read(report, key)

    store.report_and_number = locked_on_the_loop  # type: ignore[method-assign]
    polled = serve(front, "GET", f"/api/reports/{report_id}")
    assert polled["status"] == 200 and len(threads) == 2
    assert _polls_journaled(app, report_id) == (1, 1.0)
    backend_of(app).state.close()


def _store_calls(store: Any) -> list[tuple[str, str]]:
    """``(method, thread)`` of each call of ``store``'s methods from now on (each still
    does its work)."""
    calls: list[tuple[str, str]] = []
    for name in dir(store):
        method = getattr(store, name)
        if name.startswith("_") or not callable(method):
            continue

        def noting(*args: Any, _name: str = name, _method: Any = method, **kwargs: Any) -> Any:
            calls.append((_name, threading.current_thread().name))
            return _method(*args, **kwargs)

        setattr(store, name, noting)
    return calls


def test_redis_polls_are_answered_on_the_loop_in_one_round_trip_per_batch(
    new_store_url: Callable[[str], str],
) -> None:
    app = make_app(STORE=new_store_url("redis"))
    calls = _store_calls(backend_of(app).state.store)
    threads: list[str] = []
    front, report_id = _front_and_report(app, threads)
    calls.clear()
    paths = [f"/api/reports/{report_id}"] * 8
    answers = serve_together(front, paths)
    assert [answer["status"] for answer in answers] == [200] * 8
    assert {answer["body"]["data"]["id"] for answer in answers} == {report_id}
    assert all(answer["headers"][WORKER_HEADER.lower().encode()].isdigit() for answer in answers)
    assert len(threads) == 1  # no poll reached the pool
    # The loop made no store call itself: the polls in flight went in batches, each one
    # pipeline (one round trip) made by the worker's Redis thread.
    assert set(calls) == {("report_numbers_and_entries", "mock-redis_0")}
    assert len(calls) < len(paths)
    assert _polls_journaled(app, report_id) == (8, 8.0)
    # A poll the caches cannot answer (an unknown id: maybe a case id) goes to the pool.
    unknown = serve_together(front, ["/api/reports/rpt_unknown"])
    assert unknown[0]["status"] == 200 and unknown[0]["body"] == {"success": True, "data": None}
    assert len(threads) == 2
    # Completed (signed URLs, the structured report): the same, once a poll through the
    # pool has brought the caches up to the advanced clock.
    advanced = serve(front, "POST", "/_mock/clock/advance", json.dumps({"seconds": 900}).encode())
    assert advanced["status"] == 200
    assert serve_together(front, paths[:1])[0]["status"] == 200
    calls.clear()
    threads.clear()
    completed = serve_together(front, paths[:4])
    assert {answer["body"]["data"]["status"] for answer in completed} == {"completed"}
    assert all(answer["body"]["data"]["output"]["pdf_url"] for answer in completed)
    assert {call[0] for call in calls} == {"report_numbers_and_entries"} and threads == []
    backend_of(app).state.close()


def test_a_redis_poll_on_the_loop_during_an_outage_is_a_503_at_once(
    new_store_url: Callable[[str], str],
) -> None:
    app = make_app(STORE=new_store_url("redis"))
    threads: list[str] = []
    front, report_id = _front_and_report(app, threads)
    store = backend_of(app).state.store
    assert isinstance(store, RedisStore)
    reachable = store._redis
    store._redis = redis.Redis(port=free_port())  # nothing listens there: Redis is down
    refused = serve_together(front, [f"/api/reports/{report_id}"])[0]
    assert refused["status"] == 503 and refused["headers"][b"retry-after"] == b"1"
    assert (
        refused["body"]["success"] is False
        and "redis store is unavailable" in refused["body"]["error"]
    )
    assert len(threads) == 1  # answered on the loop: the store was not asked twice
    store._redis = reachable  # Redis is back: the next poll is written and answered
    answered = serve_together(front, [f"/api/reports/{report_id}"])[0]
    assert answered["status"] == 200 and _polls_journaled(app, report_id) == (1, 1.0)
    backend_of(app).state.close()
