"""Side-by-side benchmarks of the mock, run by ``make bench`` (never by the test suite).

Everything runs on this machine, on loopback, in one run, so the ratios compare like with
like: wrk against the mock's poll route (a processing and a completed report) under its
production server, against a static Flask route and a bare WSGI function under the same
server, and against WireMock and Stoplight Prism serving the same JSON; then create
throughput, startup time to a healthy ``/healthz`` and memory after 100,000 reports.
Every wrk run is bounded (``--duration`` seconds); every server is stopped at the end.

    .venv/bin/python bench/run.py --output bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
VENV_BIN = Path(sys.executable).parent
KEY = "sk-bench"
WIREMOCK_VERSION = "3.13.2"
PRISM_VERSION = "5.14.2"
CONNECTIONS = (32, 256)
MEMORY_REPORTS = 100_000
STARTUP_RUNS = 5


# --- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(
    port: int, path: str, headers: dict[str, str] | None = None, *, timeout: float = 10
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def http_post(port: int, path: str, body: object, headers: dict[str, str] | None = None) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        payload = json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request("POST", path, body=payload, headers=all_headers)
        return connection.getresponse().read()
    finally:
        connection.close()


@dataclass
class Server:
    """A server process under test, its port, and how long it took to answer ``ready_path``."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    startup_seconds: float

    def pids(self) -> list[int]:
        """The process and all its descendants."""
        found = [self.process.pid]
        index = 0
        while index < len(found):
            children = Path(f"/proc/{found[index]}/task/{found[index]}/children")
            with contextlib.suppress(OSError):
                found += [int(pid) for pid in children.read_text().split()]
            index += 1
        return found

    def rss_mib(self) -> float:
        """Resident memory of the process tree, MiB."""
        total_kib = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                match = re.search(r"VmRSS:\s+(\d+) kB", status)
                total_kib += int(match.group(1)) if match else 0
        return total_kib / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    name: str,
    argv: Sequence[str],
    port: int,
    ready_path: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Server:
    """Start ``argv`` and wait until ``GET ready_path`` answers below 500."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv),
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=WORK,
        start_new_session=True,
    )
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}: {' '.join(argv)}")
        try:
            status, _ = http_get(port, ready_path)
            if status < 500:
                return Server(name, process, port, time.perf_counter() - started)
        except OSError:
            time.sleep(0.002)
    process.kill()
    raise RuntimeError(f"{name} did not answer {ready_path} within {timeout} s")


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


def mock_command(port: int, workers: int, store: str) -> list[str]:
    return [
        str(VENV_BIN / "mockserver"),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--store",
        store,
        "--time-scale",
        "0",
    ]


def start_mock(workers: int, store: str, name: str) -> Server:
    port = free_port()
    return start(name, mock_command(port, workers, store), port, "/healthz")


# --- wrk ---------------------------------------------------------------------------------


@dataclass
class Load:
    """One wrk run."""

    server: str
    route: str
    connections: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: str = ""


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    server: str,
    route: str,
    url: str,
    connections: int,
    duration: int,
    *,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> Load:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if script is not None:
        argv += ["-s", str(script)]
    output = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=duration + 30, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    problems = []
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        problems.append(f"{match.group(1)} non-2xx")
    if match := re.search(r"Socket errors: (.*)", output):
        problems.append(f"socket errors: {match.group(1)}")
    load = Load(server, route, connections, rate, p50, p99, "; ".join(problems))
    print(
        f"  {server:<34} {route:<11} c={connections:<4} {rate:>9.0f} req/s"
        f"  p50 {p50:7.2f} ms  p99 {p99:8.2f} ms  {load.errors}",
        flush=True,
    )
    return load


# --- the workloads -----------------------------------------------------------------------


@dataclass
class MockReports:
    """Ids of a processing and a completed report, and the JSON the mock serves for each."""

    processing_id: str
    completed_id: str
    bodies: dict[str, bytes] = field(default_factory=dict)


def prepare_reports(port: int) -> MockReports:
    """A report stuck in processing and one completed, on the mock's frozen clock."""
    headers = {"X-API-Key": KEY}
    stuck = json.loads(
        http_post(
            port,
            "/api/reports",
            {"case_id": "case_processing", "type": "technical_report"},
            {**headers, "X-Mock-Scenario": "stuck"},
        )
    )["data"]["id"]
    done = json.loads(
        http_post(
            port,
            "/api/reports",
            {"case_id": "case_completed", "type": "technical_report"},
            {**headers, "X-Mock-Scenario": "happy"},
        )
    )["data"]["id"]
    http_post(port, "/_mock/clock/advance", {"seconds": 900})
    reports = MockReports(stuck, done)
    for route, report_id in (("processing", stuck), ("completed", done)):
        status, body = http_get(port, f"/api/reports/{report_id}", headers)
        expected = {"processing": "processing", "completed": "completed"}[route]
        if status != 200 or json.loads(body)["data"]["status"] != expected:
            raise RuntimeError(f"the {route} report is not {expected}: {body[:200]!r}")
        reports.bodies[route] = body
    return reports


MOCK_MEMORY = "mock, 1 worker, memory://"
MOCK_SQLITE = "mock, 2 workers, sqlite://"
MOCK_REDIS = "mock, 2 workers, redis://"
FLASK = "static Flask route"
BARE = "bare WSGI function"
WIREMOCK = "WireMock (defaults)"
WIREMOCK_TUNED = "WireMock (--no-request-journal)"
PRISM = "Prism"


@dataclass
class Target:
    """A running server and where its processing and completed answers are."""

    server: Server
    report_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def mock(cls, server: Server, reports: MockReports) -> Target:
        ids = {"processing": reports.processing_id, "completed": reports.completed_id}
        return cls(server, ids)

    @classmethod
    def stub(cls, server: Server) -> Target:
        return cls(server)

    def url(self, route: str) -> str:
        base = f"http://127.0.0.1:{self.server.port}"
        if self.report_ids:
            return f"{base}/api/reports/{self.report_ids[route]}"
        return f"{base}/stub/{route}"


def side_by_side(targets: list[Target], duration: int) -> list[Load]:
    """Every target for each (route, connections) in turn, after a warm-up of each, so that
    whatever else the machine does touches all of them alike (and the JVM has compiled)."""
    headers = {"X-API-Key": KEY}
    for target in targets:
        warm_up = 8 if target.server.name.startswith("WireMock") else 2  # the JIT needs longer
        wrk(target.server.name, "warm-up", target.url("processing"), 32, warm_up, headers=headers)
    loads = []
    for route in ("processing", "completed"):
        for connections in CONNECTIONS:
            for target in targets:
                url = target.url(route)
                loads.append(
                    wrk(target.server.name, route, url, connections, duration, headers=headers)
                )
    return loads


def granian_stub(target: str, workers: int, name: str) -> Server:
    from mockserver.serving import THREADS_PER_WORKER

    port = free_port()
    argv = [
        str(VENV_BIN / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(THREADS_PER_WORKER["memory" if workers == 1 else "sqlite"]),
        "--no-ws",
        "--log-level",
        "warning",
        target,
    ]
    env = {"BENCH_STUB_DIR": str(WORK / "stubs"), "PYTHONPATH": str(BENCH)}
    return start(name, argv, port, "/stub/processing", env=env)


def install_node_tools() -> None:
    """WireMock and Prism from the npm registry, into bench/node_modules (gitignored)."""
    wanted = {"wiremock": WIREMOCK_VERSION, "@stoplight/prism-cli": PRISM_VERSION}
    installed = {}
    for package in wanted:
        manifest = BENCH / "node_modules" / package / "package.json"
        if manifest.exists():
            installed[package] = json.loads(manifest.read_text())["version"]
    if installed == wanted:
        return
    specs = [f"{package}@{version}" for package, version in wanted.items()]
    print(f"npm install {' '.join(specs)} into bench/node_modules", flush=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(BENCH), "--no-save", "--no-audit", "--no-fund", *specs],
        check=True,
        timeout=600,
    )


def write_wiremock_stubs(reports: MockReports) -> Path:
    root = WORK / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    for route, body in reports.bodies.items():
        mapping = {
            "request": {"method": "GET", "urlPath": f"/stub/{route}"},
            "response": {
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": body.decode(),
            },
        }
        (root / "mappings" / f"{route}.json").write_text(json.dumps(mapping))
    return root


def write_prism_document(reports: MockReports) -> Path:
    paths = {}
    for route, body in reports.bodies.items():
        paths[f"/stub/{route}"] = {
            "get": {
                "responses": {
                    "200": {
                        "description": "the mock's answer",
                        "content": {"application/json": {"example": json.loads(body)}},
                    }
                }
            }
        }
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Reports API stub", "version": "1.0"},
        "paths": paths,
    }
    path = WORK / "prism-openapi.json"
    path.write_text(json.dumps(document))
    return path


def start_wiremock(root: Path, *, tuned: bool) -> Server:
    """WireMock's standalone jar from the npm package, as its ``wiremock`` command runs it;
    ``tuned`` turns off the request journal, which otherwise records every request."""
    jar = BENCH / "node_modules/wiremock/build" / f"wiremock-standalone-{WIREMOCK_VERSION}.jar"
    port = free_port()
    argv = [
        "java",
        "-jar",
        str(jar),
        "--port",
        str(port),
        "--bind-address",
        "127.0.0.1",
        "--root-dir",
        str(root),
        "--disable-banner",
        *(["--no-request-journal"] if tuned else []),
    ]
    return start(WIREMOCK_TUNED if tuned else WIREMOCK, argv, port, "/stub/processing")


def start_prism(document: Path) -> Server:
    port = free_port()
    argv = [
        str(BENCH / "node_modules/.bin/prism"),
        "mock",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        str(document),
    ]
    return start(PRISM, argv, port, "/stub/processing")


def create_runs(name: str, server: Server, duration: int) -> list[Load]:
    url = f"http://127.0.0.1:{server.port}/api/reports"
    return [
        wrk(name, "create", url, connections, duration, script=BENCH / "create_report.lua")
        for connections in (32,)
    ]


def startup_times(workers: int, store_for_run: str) -> list[float]:
    times = []
    for run in range(STARTUP_RUNS):
        store = store_for_run.format(run=run)
        server = start_mock(workers, store, "startup")
        times.append(server.startup_seconds)
        server.stop()
    return times


def memory_after_reports(count: int) -> tuple[float, float, float]:
    """(RSS at start, RSS after ``count`` creates, seconds the creates took), memory store."""
    server = start_mock(1, "memory://", "memory")
    with running(server):
        time.sleep(0.5)
        before = server.rss_mib()
        started = time.perf_counter()
        threads = 4
        per_thread = count // threads

        def create_many() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            body = json.dumps({"case_id": "case_memory", "type": "technical_report"}).encode()
            headers = {"Content-Type": "application/json", "X-API-Key": KEY}
            for n in range(per_thread):
                payload = body.replace(b"case_memory", f"case_{n % 5000}".encode())
                connection.request("POST", "/api/reports", body=payload, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"create failed with {response.status}")
            connection.close()

        workers = [threading.Thread(target=create_many) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        return before, server.rss_mib(), elapsed


# --- the report --------------------------------------------------------------------------


def find(loads: list[Load], server: str, route: str, connections: int) -> Load:
    for load in loads:
        if (load.server, load.route, load.connections) == (server, route, connections):
            return load
    raise KeyError((server, route, connections))


def machine_summary() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def write_results(
    output: Path,
    memory_reports: int,
    duration: int,
    loads: list[Load],
    startups: dict[str, list[float]],
    memory: tuple[float, float, float],
    others_startup: dict[str, float],
    others_rss: dict[str, float],
    in_process: list[str],
) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine_summary()}, Python "
        f"{platform.python_version()}, by",
        "",
        "```sh",
        "make bench    # = .venv/bin/python bench/run.py --output bench/RESULTS.md",
        "```",
        "",
        f"Every row is one `wrk -t1 -c<N> -d{duration}s --latency` run against 127.0.0.1 (wrk "
        "shares the 2 cores with the server). The servers of a group (1 worker, then 2 workers) "
        "run at the same time and each (route, connections) is measured on each of them in "
        "turn, after a warm-up of each (2 s; 8 s for WireMock's JIT), so that the ratios compare runs made "
        "moments apart. The mock runs `mockserver serve --time-scale 0` under granian; "
        "`processing` polls a report in the `stuck` scenario, `completed` a completed report, "
        "whose two download URLs are signed on every request. The stubs serve the exact bytes "
        "the mock answered for each route.",
        "",
        "| server | route | connections | req/s | p50 ms | p99 ms | notes |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for load in loads:
        lines.append(
            f"| {load.server} | {load.route} | {load.connections} | "
            f"{load.requests_per_second:,.0f} | {load.p50_ms:.2f} | {load.p99_ms:.2f} | "
            f"{load.errors} |"
        )
    lines += ["", "## Ratios (same run)", ""]
    goals: list[str] = []
    lines += [
        "| mock configuration | route | c | mock req/s | ÷ WireMock | ÷ WireMock, no journal "
        "| ÷ Prism | ÷ static Flask (same workers) | bare WSGI req/s (same workers) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    mock_configs = [
        (MOCK_MEMORY, "1 worker"),
        (MOCK_SQLITE, "2 workers"),
        (MOCK_REDIS, "2 workers"),
    ]
    for mock_name, workers in mock_configs:
        for route in ("processing", "completed"):
            for connections in CONNECTIONS:
                try:
                    mock = find(loads, mock_name, route, connections)
                except KeyError:
                    continue
                wiremock = find(loads, WIREMOCK, route, connections)
                tuned = find(loads, WIREMOCK_TUNED, route, connections)
                prism = find(loads, PRISM, route, connections)
                flask = find(loads, f"{FLASK}, {workers}", route, connections)
                bare = find(loads, f"{BARE}, {workers}", route, connections)
                rate = mock.requests_per_second
                lines.append(
                    f"| {mock_name} | {route} | {connections} | {rate:,.0f} | "
                    f"{rate / wiremock.requests_per_second:.1f}x | "
                    f"{rate / tuned.requests_per_second:.1f}x | "
                    f"{rate / prism.requests_per_second:.1f}x | "
                    f"{rate / flask.requests_per_second:.0%} | "
                    f"{bare.requests_per_second:,.0f} |"
                )
                if connections == 32 and mock_name == MOCK_MEMORY:  # the goals: the default
                    goals.append(
                        f"| {mock_name}, {route}: ≥ 2x WireMock | "
                        f"{rate / wiremock.requests_per_second:.1f}x | "
                        f"{verdict(rate >= 2 * wiremock.requests_per_second)} |"
                    )
                    goals.append(
                        f"| {mock_name}, {route}: ≥ 5x Prism | "
                        f"{rate / prism.requests_per_second:.1f}x | "
                        f"{verdict(rate >= 5 * prism.requests_per_second)} |"
                    )
                    goals.append(
                        f"| {mock_name}, {route}: ≥ 80 % of static Flask | "
                        f"{rate / flask.requests_per_second:.0%} | "
                        f"{verdict(rate >= 0.8 * flask.requests_per_second)} |"
                    )
                    goals.append(
                        f"| {mock_name}, {route}: p99 < 25 ms at 32 connections | "
                        f"{mock.p99_ms:.1f} ms | {verdict(mock.p99_ms < 25)} |"
                    )
    lines += ["", "## Startup, create throughput, memory", ""]
    lines += ["| measure | value |", "|---|---|"]
    for name, times in startups.items():
        median = statistics.median(times)
        lines.append(
            f"| startup to a healthy `/healthz`, {name} (median of {len(times)}) | "
            f"{median * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) |"
        )
        goals.append(
            f"| startup < 0.5 s, {name} | {median * 1000:.0f} ms | {verdict(median < 0.5)} |"
        )
    for name, seconds in others_startup.items():
        lines.append(f"| startup to answering, {name} | {seconds * 1000:.0f} ms |")
    for load in loads:
        if load.route == "create":
            lines.append(
                f"| create throughput, {load.server}, c={load.connections} | "
                f"{load.requests_per_second:,.0f} req/s (p99 {load.p99_ms:.1f} ms) |"
            )
    before, after, seconds = memory
    lines.append(
        f"| RSS of the 1-worker mock (memory://): at start → after {memory_reports:,} creates | "
        f"{before:.0f} MiB → {after:.0f} MiB ({memory_reports / seconds:,.0f} creates/s "
        "from 4 keep-alive clients) |"
    )
    goals.append(
        f"| memory < 200 MB after {memory_reports:,} reports | {after * 1.048576:.0f} MB | "
        f"{verdict(after * 1.048576 < 200)} |"
    )
    for name, rss in others_rss.items():
        lines.append(f"| RSS after its runs, {name} | {rss:.0f} MiB |")
    lines += ["", "## Goals of issue 5", "", "| goal | measured | verdict |", "|---|---|---|"]
    lines += goals
    lines += [
        "",
        "## One poll inside the process (`bench/profile_poll.py`, CPU µs, memory://)",
        "",
        "The same WSGI call without a server or network; `static Flask` is a route returning "
        "the same bytes, so the difference is the mock's own work. Before: "
        "`--without-poll-caches`, the poll path as it was before profiling.",
        "",
        "```",
        *in_process,
        "```",
    ]
    notes = BENCH / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    output.write_text("\n".join(lines) + "\n")
    print(f"wrote {output}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--memory-reports", type=int, default=MEMORY_REPORTS, help="creates before reading RSS"
    )
    arguments = parser.parse_args(argv)
    for tool in ("wrk", "java", "npm"):
        if shutil.which(tool) is None:
            print(f"bench: {tool} is missing (scripts/install-system-deps.sh)", file=sys.stderr)
            return 2
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "stubs").mkdir(parents=True)
    install_node_tools()
    duration = arguments.duration
    loads: list[Load] = []
    others_startup: dict[str, float] = {}
    others_rss: dict[str, float] = {}

    with contextlib.ExitStack() as servers:
        print("1 worker: the mock, the ceilings under the same server, WireMock, Prism")
        mock = servers.enter_context(running(start_mock(1, "memory://", MOCK_MEMORY)))
        reports = prepare_reports(mock.port)
        for route, body in reports.bodies.items():
            (WORK / "stubs" / f"{route}.json").write_bytes(body)
        targets = [Target.mock(mock, reports)]
        for name, app in ((FLASK, "stub_apps:flask_app"), (BARE, "stub_apps:bare_app")):
            stub = servers.enter_context(running(granian_stub(app, 1, f"{name}, 1 worker")))
            targets.append(Target.stub(stub))
        stubs = write_wiremock_stubs(reports)
        others = [
            servers.enter_context(running(start_wiremock(stubs, tuned=False))),
            servers.enter_context(running(start_wiremock(stubs, tuned=True))),
            servers.enter_context(running(start_prism(write_prism_document(reports)))),
        ]
        targets += [Target.stub(other) for other in others]
        for other in others:
            others_startup[other.name] = other.startup_seconds
        loads += side_by_side(targets, duration)
        for other in others:
            others_rss[other.name] = other.rss_mib()
        loads += create_runs(mock.name, mock, duration)

    with contextlib.ExitStack() as servers:
        print("2 workers: the mock on SQLite and on Redis, the ceilings under the same server")
        targets = []
        mock = servers.enter_context(
            running(start_mock(2, f"sqlite:///{WORK}/bench.db", MOCK_SQLITE))
        )
        targets.append(Target.mock(mock, prepare_reports(mock.port)))
        if shutil.which("redis-server"):
            redis_port = free_port()
            redis = subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                cwd=WORK,
            )
            servers.callback(redis.wait)
            servers.callback(redis.terminate)
            time.sleep(0.3)
            store = f"redis://127.0.0.1:{redis_port}/0"
            redis_mock = servers.enter_context(running(start_mock(2, store, MOCK_REDIS)))
            targets.append(Target.mock(redis_mock, prepare_reports(redis_mock.port)))
        for name, app in ((FLASK, "stub_apps:flask_app"), (BARE, "stub_apps:bare_app")):
            stub = servers.enter_context(running(granian_stub(app, 2, f"{name}, 2 workers")))
            targets.append(Target.stub(stub))
        loads += side_by_side(targets, duration)
        for target in targets:
            if target.report_ids:
                loads += create_runs(target.server.name, target.server, duration)

    print("startup and memory", flush=True)
    startups = {
        "1 worker, memory://": startup_times(1, "memory://"),
        "2 workers, sqlite://": startup_times(2, f"sqlite:///{WORK}/startup-{{run}}.db"),
    }
    print(f"  startup: { {k: [round(t, 3) for t in v] for k, v in startups.items()} }")
    memory = memory_after_reports(arguments.memory_reports)
    print(f"  memory: {memory}", flush=True)
    in_process = []
    for label, extra in (("before:", ["--without-poll-caches"]), ("after: ", [])):
        profile = subprocess.run(
            [sys.executable, str(BENCH / "profile_poll.py"), *extra],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        in_process += [f"{label} {line}" for line in profile.stdout.splitlines()]
    print("\n".join(in_process), flush=True)
    write_results(
        arguments.output,
        arguments.memory_reports,
        duration,
        loads,
        startups,
        memory,
        others_startup,
        others_rss,
        in_process,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
