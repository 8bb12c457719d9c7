"""The kit's loopback server: work handed to it runs only while it serves."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from contract_tests.loopback import LoopbackServer


def _hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def _call_from_new_thread(server: LoopbackServer) -> object:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(server.call(lambda: "ran"))
        except RuntimeError as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return outcome[0]


def test_a_closed_server_refuses_work_from_every_thread() -> None:
    """A new thread may get the loop thread's old ident: it must not pass for the loop."""
    server = LoopbackServer(_hello, on_answer=lambda answer: None)
    assert _call_from_new_thread(server) == "ran"
    server.close()
    for _ in range(20):  # thread idents are reused at once on Linux
        refused = _call_from_new_thread(server)
        assert isinstance(refused, RuntimeError), refused
        assert "closed" in str(refused)


def test_work_runs_on_a_serving_server() -> None:
    server = LoopbackServer(_hello, on_answer=lambda answer: None)
    try:
        assert server.call(lambda: 41 + 1) == 42
    finally:
        server.close()
    with pytest.raises(RuntimeError, match="closed"):
        server.call(lambda: None)
