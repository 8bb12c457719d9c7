"""The served front answers a memory:// poll on its event loop, and nothing else there."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from mockserver.asgi_front import BufferedWsgiFront, FrontLimits
from mockserver.serving import WORKER_HEADER, inline_polls

from ..conftest import make_app

KEY = "sk-front"


def serve(front: BufferedWsgiFront, method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    """One request through the ASGI front; its status, headers, body and answering thread."""
    headers = [(b"host", b"127.0.0.1:8080"), (b"x-api-key", KEY.encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8080),
    }
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(front(scope, receive, send))
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


def test_only_memory_polls_are_answered_inline(tmp_path: Any) -> None:
    app = make_app(STORE=f"sqlite:///{tmp_path}/front.db")
    assert inline_polls(app) is None
