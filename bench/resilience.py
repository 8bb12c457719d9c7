"""How fast the served mock answers other clients while impolite ones attack it.

For each attack of issue 12 a fresh ``mockserver serve`` (granian, one worker, ``memory://``
unless ``--store`` says otherwise) is started on loopback, the attack is held open, and
``/healthz`` plus another tenant's poll are timed ``--samples`` times; the figures are
printed as a Markdown table (median and worst, in milliseconds) next to the same
measurement with no attack. Bounded: at most 1,100 connections and a few seconds per
attack; every server is stopped at the end. Not part of the test suite (timings).

    .venv/bin/python bench/resilience.py [--store sqlite:///tmp/r.db --workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

KEY = {"X-API-Key": "sk-bench"}
OTHER = {"X-API-Key": "sk-bench-other"}
STALLED_UPLOAD = (
    b"POST /api/reports HTTP/1.1\r\nHost: b\r\nX-API-Key: sk-s\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
)
SLOW_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: b\r\nX-Slow: "


@contextlib.contextmanager
def served(options: list[str]) -> Iterator[int]:
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    banner = process.stdout.readline()
    match = re.search(r"listening on http://[^:/]+:(\d+)", banner)
    try:
        if match is None:
            raise SystemExit(f"the mock did not start: {banner}{process.stdout.read()}")
        yield int(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=15)
        process.stdout.close()


def request(port: int, method: str, path: str, body: bytes | None = None, **headers: str) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def create(port: int, key: dict[str, str], **extra: str) -> str:
    import json

    body = json.dumps({"case_id": "case_bench", "type": "technical_report"}).encode()
    status, answer = request(
        port, "POST", "/api/reports", body, **key, **extra, **{"Content-Type": "application/json"}
    )
    assert status == 200, answer
    report_id: str = json.loads(answer)["data"]["id"]
    return report_id


def timed(action: Callable[[], object], samples: int) -> list[float]:
    took = []
    for _ in range(samples):
        start = time.perf_counter()
        action()
        took.append((time.perf_counter() - start) * 1000)
        time.sleep(0.02)
    return took


@contextlib.contextmanager
def held(port: int, count: int, first: bytes) -> Iterator[None]:
    sockets = []
    try:
        for _ in range(count):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            if first:
                connection.sendall(first)
            sockets.append(connection)
        time.sleep(0.3)
        yield
    finally:
        for connection in sockets:
            connection.close()


@contextlib.contextmanager
def latency_fault(port: int) -> Iterator[None]:
    report = create(port, KEY, **{"X-Mock-Faults": "latency=5000"})
    polls = [
        threading.Thread(target=request, args=(port, "GET", f"/api/reports/{report}"), kwargs=KEY)
        for _ in range(4)
    ]
    for poll in polls:
        poll.start()
    time.sleep(0.2)
    yield
    for poll in polls:
        poll.join()


@contextlib.contextmanager
def downloads(port: int) -> Iterator[None]:
    import json

    ids = [create(port, KEY) for _ in range(6)]
    request(
        port,
        "POST",
        "/_mock/clock/advance",
        b'{"seconds": 3600}',
        **{"Content-Type": "application/json"},
    )
    urls = []
    for report in ids:
        _, answer = request(port, "GET", f"/api/reports/{report}", **KEY)
        output = json.loads(answer)["data"]["output"]
        urls += [output["pdf_url"], output["docx_url"]]
    paths = [url.split(str(port), 1)[1] for url in urls]
    threads = [
        threading.Thread(target=lambda chunk=paths[i::2]: [request(port, "GET", p) for p in chunk])
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    yield
    for thread in threads:
        thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--store", default="memory://")
    parser.add_argument("--workers", default="1")
    arguments = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4096), hard), hard))
    attacks: dict[str, Callable[[int], contextlib.AbstractContextManager[None]]] = {
        "none": lambda port: contextlib.nullcontext(),
        "16 stalled uploads": lambda port: held(port, 16, STALLED_UPLOAD),
        "1,100 idle connections": lambda port: held(port, 1100, b""),
        "1,100 slow header senders": lambda port: held(port, 1100, SLOW_HEADERS),
        "latency=5000 on one report (4 polls)": latency_fault,
        "12 PDF/DOCX downloads, 2 at a time": downloads,
    }
    options = ["--store", arguments.store, "--workers", arguments.workers]
    print(f"store {arguments.store}, {arguments.workers} worker(s), {os.cpu_count()} cores\n")
    print("| attack | /healthz median | /healthz worst | other poll median | other poll worst |")
    print("|---|---:|---:|---:|---:|")
    for name, attack in attacks.items():
        with served(options) as port:
            other = create(port, OTHER)
            with attack(port):
                health = timed(lambda: request(port, "GET", "/healthz"), arguments.samples)
                poll = timed(
                    lambda other=other: request(port, "GET", f"/api/reports/{other}", **OTHER),
                    arguments.samples,
                )
        print(
            f"| {name} | {statistics.median(health):.1f} ms | {max(health):.1f} ms "
            f"| {statistics.median(poll):.1f} ms | {max(poll):.1f} ms |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
