"""``mockserver record`` in front of an upstream that drops connections: the client gets the
proxy's own 502 in the API's error envelope, saying which upstream, what happened and what to
do, and nothing recorded so far is lost or spoilt.

Two real upstreams drop: ``mockserver serve`` with a ``drop`` fault, under granian (the status
line and headers, then the connection closes with the body missing) and under Werkzeug (closed
before any answer); and a bare socket server that cuts a body short, for the exact shapes.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from mockserver.recording import recording_proxy
from mockserver.recording.proxy import upstream_failure
from schemas.scenario_files import scenario_problems

from .conftest import LiveServer

KEY = {"X-API-Key": "sk-record-drop"}
BODY = {"case_id": "case_dropped", "type": "technical_report"}
KEPT = (
    "The proxy answered this 502 in its place and recorded nothing of it; the scenario files "
    "recorded so far are kept."
)


def _record_command(upstream: str, out: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "mockserver", "record", "--upstream", upstream),
        *("--out", str(out), "--port", "0", "--no-fetch-documents"),
    ]


@pytest.mark.parametrize(
    ("server", "what"),
    [
        ("granian", "closed the connection part-way through its answer to GET {path} "
         "(status 200, the body incomplete)"),
        ("werkzeug", "closed the connection without answering GET {path}"),
    ],
)  # fmt: skip
def test_a_dropped_poll_is_a_502_in_the_envelope_and_the_recording_goes_on(
    start_server: Callable[..., LiveServer], tmp_path: Path, server: str, what: str
) -> None:
    upstream = start_server(
        "--time-scale", "0", "--start-time", "2026-01-15T10:00:00Z", "--server", server
    )  # fmt: skip
    out = tmp_path / "recorded"
    proxy = start_server(command=_record_command(upstream.url, out))
    assert proxy.process.stdout is not None
    proxy.process.stdout.readline()  # the second line of the banner
    headers = {**KEY, "X-Mock-Scenario": "fail_delta_v", "X-Mock-Faults": "drop@polls=2"}
    created = requests.post(f"{proxy.url}/api/reports", json=BODY, headers=headers, timeout=10)
    path = f"/api/reports/{created.json()['data']['id']}"
    assert requests.get(proxy.url + path, headers=KEY, timeout=10).status_code == 200  # poll 1
    written = out / f"{created.json()['data']['id']}.json"
    before = written.read_text()

    requests.post(f"{upstream.url}/_mock/clock/advance", json={"seconds": 30}, timeout=10)
    dropped = requests.get(proxy.url + path, headers=KEY, timeout=10)  # poll 2: dropped
    assert dropped.status_code == 502
    assert dropped.headers["Content-Type"] == "application/json"
    assert dropped.json() == {
        "success": False,
        "error": f"Recording proxy: the upstream {upstream.url} {what.format(path=path)}; "
        f"retry it, or look at the upstream's logs. {KEPT}",
    }
    assert written.read_text() == before  # untouched, and still a whole file

    retried = requests.get(proxy.url + path, headers=KEY, timeout=10)  # the proxy serves on
    assert retried.status_code == 200
    requests.post(f"{upstream.url}/_mock/clock/advance", json={"seconds": 600}, timeout=10)
    ended = requests.get(proxy.url + path, headers=KEY, timeout=10).json()["data"]
    assert ended["status"] == "failed"

    proxy.process.send_signal(signal.SIGINT)
    printed = proxy.process.communicate(timeout=30)[0]
    assert proxy.process.returncode == 0
    assert "Recorded 1 scenario file(s)" in printed
    assert "recorder:" not in printed and "Traceback" not in printed
    document = json.loads(written.read_text())
    assert scenario_problems(document) == []
    assert document["timeline"][0]["status"] == "pending"
    assert document["outcome"] == {"status": "failed", "error": ended["progress"]["message"]}


# --- the exact shapes, from a bare socket server ---------------------------------------------

_WHOLE = b'{"success": true, "data": []}'
_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
_COMPLETE = _HEAD % len(_WHOLE) + _WHOLE


@pytest.fixture
def cutting_upstream() -> Iterator[Callable[[list[bytes]], str]]:
    """``start(answers)``: a server that reads each connection's request, sends the next of
    ``answers`` (raw bytes) and closes the connection; its base URL."""
    listeners: list[socket.socket] = []

    def start(answers: list[bytes]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(30)
        listeners.append(listener)

        def answer_each() -> None:
            for answer in answers:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                with connection:
                    connection.recv(65536)
                    connection.sendall(answer)

        threading.Thread(target=answer_each, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()


def test_an_answer_cut_short_is_a_502_and_a_create_may_have_taken_effect(
    cutting_upstream: Callable[[list[bytes]], str], tmp_path: Path
) -> None:
    cut = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"
    upstream = cutting_upstream([cut, _COMPLETE])
    with recording_proxy(upstream, tmp_path) as proxy:
        created = requests.post(f"{proxy.base_url}/api/reports", json=BODY, headers=KEY, timeout=10)
        listed = requests.get(f"{proxy.base_url}/api/reports?case_id=x", headers=KEY, timeout=10)
    assert created.status_code == 502
    assert created.json() == {
        "success": False,
        "error": f"Recording proxy: the upstream {upstream} closed the connection part-way "
        "through its answer to POST /api/reports (status 201, the body incomplete); it may have "
        "taken effect there: check before you retry (retry it, or look at the upstream's logs). "
        f"{KEPT}",
    }
    assert (listed.status_code, listed.content) == (200, _WHOLE)  # the next one passes through
    assert list(tmp_path.iterdir()) == []  # nothing of the cut answer was recorded


def test_a_chunked_answer_cut_short_is_a_502_not_a_500(
    cutting_upstream: Callable[[list[bytes]], str], tmp_path: Path
) -> None:
    cut = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"success": tr'
    upstream = cutting_upstream([cut])
    with recording_proxy(upstream, tmp_path) as proxy:
        answer = requests.get(f"{proxy.base_url}/api/reports/rpt_1", headers=KEY, timeout=10)
    assert answer.status_code == 502
    assert (
        "closed the connection part-way through its answer to GET /api/reports/rpt_1"
        in (answer.json()["error"])
    )


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (requests.ConnectTimeout(), "did not accept a connection within 10 s for GET /x: check"),
        (requests.ReadTimeout(), "did not answer GET /x within 120 s; retry it"),
        (requests.exceptions.SSLError(), "failed the TLS handshake for GET /x: check --upstream"),
        (requests.ConnectionError(socket.gaierror(-2, "Name or service not known")),
         "has a host name that does not resolve (GET /x): check --upstream"),
        (ValueError("odd"), "did not answer GET /x (ValueError: odd); retry it"),
    ],
)  # fmt: skip
def test_each_failure_says_what_happened(error: Exception, said: str) -> None:
    message = upstream_failure("https://api.example.com", "GET", "/x", error)
    assert message.startswith(f"Recording proxy: the upstream https://api.example.com {said}")
    assert message.endswith(KEPT)
