"""The served mock (``mockserver serve``, granian) under impolite and broken clients.

Each test holds an attack open while it asks ``/healthz`` (or another client's poll) for an
answer, so none of them depends on a timing: before the fix the answer never came while the
attack lasted. How fast the answers come is measured in ``bench/resilience.py`` (figures in
``bench/NOTES.md``). Every attack is bounded in connections and seconds, on loopback only.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from .conftest import SERVE_COMMAND, LiveServer

KEY = {"X-API-Key": "sk-resilience"}
#: Long enough that no held attack times out on its own during a test.
ANSWER_WITHIN = 8.0


def _port(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _healthz(server: LiveServer) -> requests.Response:
    return requests.get(f"{server.url}/healthz", timeout=ANSWER_WITHIN)


@contextlib.contextmanager
def _held_connections(port: int, count: int, first_bytes: bytes) -> Iterator[list[socket.socket]]:
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            if first_bytes:
                connection.sendall(first_bytes)
            held.append(connection)
        yield held
    finally:
        for connection in held:
            connection.close()


STALLED_UPLOAD = (
    b"POST /api/reports HTTP/1.1\r\nHost: mock\r\nX-API-Key: sk-stall\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
)
SLOW_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: mock\r\nX-Slow: "


def test_sixteen_stalled_uploads_leave_healthz_and_other_clients_answered(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(env={"MOCKSERVER_BODY_TIMEOUT": "60"})
    with _held_connections(_port(server), 16, STALLED_UPLOAD):
        assert _healthz(server).status_code == 200
        created = requests.post(
            f"{server.url}/api/reports",
            json={"case_id": "case_polite", "type": "technical_report"},
            headers=KEY,
            timeout=ANSWER_WITHIN,
        )
        assert created.status_code == 200


def test_a_stalled_upload_is_answered_408_in_the_envelope_after_the_body_timeout(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server("--body-timeout", "0.5")
    with _held_connections(_port(server), 1, STALLED_UPLOAD) as (connection,):
        connection.settimeout(ANSWER_WITHIN)
        answer = connection.recv(4096)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert body.startswith(b'{"success": false, "error": "The request body did not arrive')


@pytest.fixture
def eleven_hundred_files() -> Iterator[None]:
    """Lets this test process hold 1,100 connections (and the server's limit is its own)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 1300:
        pytest.skip(f"this process may open only {hard} files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1300), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("eleven_hundred_files")
def test_eleven_hundred_idle_connections_leave_healthz_answered(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    with _held_connections(_port(server), 1100, b""):
        assert _healthz(server).status_code == 200


@pytest.mark.usefixtures("eleven_hundred_files")
def test_eleven_hundred_slow_header_senders_leave_healthz_answered(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(env={"MOCKSERVER_HEADER_TIMEOUT": "60"})
    with _held_connections(_port(server), 1100, SLOW_HEADERS) as held:
        for connection in held:
            connection.sendall(b"x")  # one more byte each, as a slowloris does
        assert _healthz(server).status_code == 200


def test_a_slow_header_sender_is_disconnected_after_the_header_timeout(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server("--header-timeout", "1")
    with _held_connections(_port(server), 1, SLOW_HEADERS) as (connection,):
        connection.settimeout(30)
        with contextlib.suppress(ConnectionResetError):
            while connection.recv(4096):
                pass  # granian may answer 408 first; then the connection closes


def test_a_latency_fault_on_one_report_delays_only_that_report(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    faulted = requests.post(
        f"{server.url}/api/reports",
        json={"case_id": "case_slow", "type": "technical_report"},
        headers={**KEY, "X-Mock-Faults": "latency=5000"},
        timeout=ANSWER_WITHIN,
    ).json()["data"]["id"]
    other = requests.post(
        f"{server.url}/api/reports",
        json={"case_id": "case_fast", "type": "technical_report"},
        headers={"X-API-Key": "sk-other-tenant"},
        timeout=ANSWER_WITHIN,
    ).json()["data"]["id"]
    slow_polls = [
        threading.Thread(
            target=requests.get,
            args=(f"{server.url}/api/reports/{faulted}",),
            kwargs={"headers": KEY, "timeout": 30},
        )
        for _ in range(4)
    ]
    for poll in slow_polls:
        poll.start()
    time.sleep(0.3)  # the four polls are waiting out their latency now
    assert _healthz(server).status_code == 200
    polled = requests.get(
        f"{server.url}/api/reports/{other}",
        headers={"X-API-Key": "sk-other-tenant"},
        timeout=ANSWER_WITHIN,
    )
    answered_while_slow_polls_wait = any(poll.is_alive() for poll in slow_polls)
    for poll in slow_polls:
        poll.join(timeout=30)
    assert polled.json()["data"]["id"] == other
    assert answered_while_slow_polls_wait


def test_polls_are_answered_while_documents_download_in_parallel(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    ids = [
        requests.post(
            f"{server.url}/api/reports",
            json={"case_id": f"case_doc_{n}", "type": "technical_report"},
            headers=KEY,
            timeout=ANSWER_WITHIN,
        ).json()["data"]["id"]
        for n in range(4)
    ]
    requests.post(f"{server.url}/_mock/clock/advance", json={"seconds": 3600}, timeout=5)
    urls = [
        requests.get(f"{server.url}/api/reports/{rid}", headers=KEY, timeout=5).json()["data"][
            "output"
        ][kind]
        for rid in ids
        for kind in ("pdf_url", "docx_url")
    ]
    documents: list[bytes] = []
    downloads = [
        threading.Thread(
            target=lambda url=url: documents.append(requests.get(url, timeout=60).content)
        )
        for url in urls
    ]
    for download in downloads:
        download.start()
    polls_during_downloads = 0
    while any(download.is_alive() for download in downloads):
        polled = requests.get(f"{server.url}/api/reports/{ids[0]}", headers=KEY, timeout=8)
        assert polled.json()["data"]["status"] == "completed"
        polls_during_downloads += 1
    assert polls_during_downloads >= 1
    assert sorted(document[:4] for document in documents) == [b"%PDF"] * 4 + [b"PK\x03\x04"] * 4


def test_a_document_renders_in_a_helper_process_when_asked() -> None:
    import multiprocessing

    from mockserver.render_pool import render_document, use_render_processes

    use_render_processes(1)
    try:
        pdf = render_document("pdf", None, "rpt_helper")
        helpers = multiprocessing.active_children()
    finally:
        use_render_processes(0)
    assert pdf.startswith(b"%PDF") and helpers


# --- the port and the processes -------------------------------------------------------------


def _serve_once(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVE_COMMAND, *options], capture_output=True, text=True, timeout=30)


def test_a_second_mock_on_a_busy_port_exits_2_with_one_line(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    second = _serve_once("--port", str(_port(server)))
    assert second.returncode == 2  # cannot start as asked, like a bad option
    assert second.stderr.count("\n") == 1 and "already in use" in second.stderr
    assert second.stdout == ""


def test_a_port_held_by_another_program_exits_2_with_one_line() -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        result = _serve_once("--port", str(other_program.getsockname()[1]))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def _worker_pids(server: LiveServer, tries: int = 40) -> set[int]:
    seen: set[int] = set()
    for _ in range(tries):
        answer = requests.get(f"{server.url}/healthz", timeout=5)
        seen.add(int(answer.headers["X-Mock-Worker"]))
    return seen


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_workers_do_not_outlive_a_killed_main_process(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = start_server("--workers", "2", "--store", f"sqlite:///{tmp_path}/mock.db")
    workers = _worker_pids(server)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    deadline = time.monotonic() + 20
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in workers), f"orphaned workers {workers} still run"
    port = str(_port(server))
    restarted = start_server(command=[*SERVE_COMMAND, "--port", port])
    assert _worker_pids(restarted, tries=10).isdisjoint(workers)


def test_a_crashed_worker_is_replaced(start_server: Callable[..., LiveServer]) -> None:
    server = start_server()
    (first,) = _worker_pids(server, tries=1)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 30
    replaced: set[int] = set()
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            replaced = _worker_pids(server, tries=1)
            if replaced and first not in replaced:
                break
        time.sleep(0.2)
    assert replaced and first not in replaced
    assert server.process.poll() is None


# --- what the front door answers itself ----------------------------------------------------


def _exchange(server: LiveServer, request: bytes) -> tuple[bytes, bytes]:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=ANSWER_WITHIN) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def test_a_chunked_body_over_the_limit_is_a_413_not_invalid_json(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"  # 1 MiB of JSON whitespace per chunk
    head, body = _exchange(
        server,
        b"POST /api/reports HTTP/1.1\r\nHost: mock\r\nX-API-Key: sk-chunked\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunk * 2
        + b"0\r\n\r\n",
    )
    assert head.startswith(b"HTTP/1.1 413")
    assert b"larger than the limit of 1048576 bytes" in body


def test_a_chunked_body_within_the_limit_is_read_whole(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    payload = b'{"case_id": "case_chunked", "type": "technical_report"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (payload[:10], payload[10:]))
    head, body = _exchange(
        server,
        b"POST /api/reports HTTP/1.1\r\nHost: mock\r\nX-API-Key: sk-chunked\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunks
        + b"0\r\n\r\n",
    )
    assert head.startswith(b"HTTP/1.1 200") and b'"case_id":"case_chunked"' in body


@pytest.mark.parametrize("header", [b"X-Mock-Scenario: st\xfcck", b"X-Mock-Faults: latency=5\xe9"])
def test_a_non_ascii_byte_in_a_mock_header_is_a_400_saying_so(
    start_server: Callable[..., LiveServer], header: bytes
) -> None:
    server = start_server()
    payload = b'{"case_id": "case_bytes", "type": "technical_report"}'
    head, body = _exchange(
        server,
        b"POST /api/reports HTTP/1.1\r\nHost: mock\r\nX-API-Key: sk-bytes\r\n"
        b"Content-Type: application/json\r\n" + header + b"\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload),
    )
    name = header.split(b":")[0]
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"The " + name + b" header has a byte outside ASCII" in body


def test_a_drop_fault_breaks_the_connection_mid_answer_not_a_500(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    report = requests.post(
        f"{server.url}/api/reports",
        json={"case_id": "case_drop", "type": "technical_report"},
        headers={**KEY, "X-Mock-Faults": "drop@polls=1"},
        timeout=ANSWER_WITHIN,
    ).json()["data"]["id"]
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(f"{server.url}/api/reports/{report}", headers=KEY, timeout=ANSWER_WITHIN)
    polled = requests.get(f"{server.url}/api/reports/{report}", headers=KEY, timeout=ANSWER_WITHIN)
    assert polled.json()["data"]["id"] == report
