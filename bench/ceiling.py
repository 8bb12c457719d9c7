"""The mock's routes against the static Flask ceiling under the same server, store by store.

For each configuration the README recommends (1 worker on ``memory://``, 2 workers on
``sqlite://``, 2 workers on ``redis://``) this starts the mock and a static Flask route under
the same granian configuration, and runs wrk against poll (a processing report), create,
cancel and download, and against the static route, in turn and in one run; then prints each
route's throughput and p99 as a ratio of the static route's, and the store operations of one
poll measured in-process (``bench/profile_poll.py``). Every wrk run is bounded.

    .venv/bin/python bench/ceiling.py [--duration 4] [--stores memory,sqlite,redis] \
        [--output bench/RESULTS-ceiling.md]
    .venv/bin/python bench/ceiling.py --mock-source /path/to/other/checkout   # before/after

``--mock-source`` serves the mock from another checkout of the repository (its directory
goes first on the mock's ``PYTHONPATH``), so two versions can be compared on one machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from run import (
    BENCH,
    KEY,
    WORK,
    Load,
    Server,
    free_port,
    granian_stub,
    http_get,
    http_post,
    machine_summary,
    mock_command,
    prepare_reports,
    running,
    start,
    wrk,
)

__all__ = ["main"]

CONNECTIONS = 32
#: Reports made for the cancel run: more than it can cancel in its duration (on a quiet
#: machine one worker cancelled ~2,000 a second, and ran out of 1,500 a second).
CANCEL_POOL_PER_SECOND = 3000
CONFIGURATIONS = {"memory": (1, "memory://"), "sqlite": (2, ""), "redis": (2, "")}


def start_mock_from(source: Path | None, workers: int, store: str, name: str) -> Server:
    port = free_port()
    env = {"PYTHONPATH": str(source)} if source is not None else None
    return start(name, mock_command(port, workers, store), port, "/healthz", env=env)


def cancel_script(port: int, count: int) -> Path:
    """A wrk script that cancels ``count`` fresh reports, one per request (then wraps: a
    repeat is a 409, which the errors column shows as non-2xx; wrk's rate is over its whole
    duration, so a script that stopped early would understate it)."""

    def create(index: int) -> str:
        body = {"case_id": f"case_cancel_{index}", "type": "technical_report"}
        headers = {"X-API-Key": KEY, "X-Mock-Scenario": "stuck"}
        report_id: str = json.loads(http_post(port, "/api/reports", body, headers))["data"]["id"]
        return report_id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(create, range(count)))
    script = WORK / f"cancel-{port}.lua"
    script.write_text(
        "ids = {" + ",".join(f'"{i}"' for i in ids) + "}\n"
        "n = 0\n"
        'wrk.method = "DELETE"\n'
        'wrk.headers["X-API-Key"] = "' + KEY + '"\n'
        "request = function()\n"
        "  n = n % #ids + 1\n"
        '  return wrk.format(nil, "/api/reports/" .. ids[n])\n'
        "end\n"
    )
    return script


def store_operations(store: str, source: Path | None) -> str:
    """The store operations of one poll, as ``bench/profile_poll.py`` counts them."""
    if store.startswith("memory"):
        url = store
    elif store.startswith("sqlite"):
        url = f"sqlite:///{WORK}/profile.db"
    else:
        url = store.rsplit("/", 1)[0] + "/9"
    output = subprocess.run(
        [sys.executable, str(BENCH / "profile_poll.py"), "--store", url, "--count", "200"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "PYTHONPATH": str(source)} if source is not None else None,
    ).stdout
    lines = [line.split(":", 1)[1].strip() for line in output.splitlines() if "store op" in line]
    return lines[0] if lines else "?"


def measure(name: str, mock: Server, stub: Server, duration: int) -> list[tuple[str, Load]]:
    reports = prepare_reports(mock.port)
    base = f"http://127.0.0.1:{mock.port}"
    headers = {"X-API-Key": KEY}
    _, body = http_get(mock.port, f"/api/reports/{reports.completed_id}", headers)
    pdf_url = json.loads(body)["data"]["output"]["pdf_url"]
    static_url = f"http://127.0.0.1:{stub.port}/stub/processing"
    # Each worker renders the PDF once (in a helper process it starts), then caches it: wait
    # for that here, or the render eats the CPU of the rows measured after the warm-up.
    for _ in range(8):
        http_get(mock.port, pdf_url.split(str(mock.port), 1)[1], timeout=120)
    wrk(name, "warm-up", pdf_url, 32, 2)
    wrk(name, "warm-up", f"{base}/api/reports/{reports.processing_id}", 32, 2, headers=headers)
    wrk("static", "warm-up", static_url, 32, 2)
    runs: list[tuple[str, Callable[[], Load]]] = [
        ("static", lambda: wrk(f"{name} static", "static", static_url, CONNECTIONS, duration)),
        (
            "poll",
            lambda: wrk(
                name,
                "poll",
                f"{base}/api/reports/{reports.processing_id}",
                CONNECTIONS,
                duration,
                headers=headers,
            ),
        ),
        (
            "create",
            lambda: wrk(
                name,
                "create",
                f"{base}/api/reports",
                CONNECTIONS,
                duration,
                script=BENCH / "create_report.lua",
            ),
        ),
        (
            "cancel",  # its reports are made just before, so the other rows run without them
            lambda: wrk(
                name,
                "cancel",
                base,
                CONNECTIONS,
                duration,
                script=cancel_script(mock.port, CANCEL_POOL_PER_SECOND * duration),
            ),
        ),
        ("download", lambda: wrk(name, "download", pdf_url, CONNECTIONS, duration)),
        (
            "poll, again",  # the same poll last: how much the order and the machine moved it
            lambda: wrk(
                name,
                "poll again",
                f"{base}/api/reports/{reports.processing_id}",
                CONNECTIONS,
                duration,
                headers=headers,
            ),
        ),
        ("static", lambda: wrk(f"{name} static", "static", static_url, CONNECTIONS, duration)),
    ]
    return [(route, run()) for route, run in runs]


def summary(name: str, operations: str, loads: list[tuple[str, Load]]) -> list[str]:
    statics = [load for route, load in loads if route == "static"]
    ceiling = sum(load.requests_per_second for load in statics) / len(statics)
    p99 = sum(load.p99_ms for load in statics) / len(statics)
    lines = [
        f"| {name} | static Flask | {ceiling:,.0f} | 100 % | {p99:.1f} | 1.0x | |",
    ]
    for route, load in loads:
        if route == "static":
            continue
        lines.append(
            f"| {name} | {route} | {load.requests_per_second:,.0f} "
            f"| {100 * load.requests_per_second / ceiling:.0f} % | {load.p99_ms:.1f} "
            f"| {load.p99_ms / p99:.1f}x | {load.errors} |"
        )
    lines.append(f"| {name} | store operations per poll | {operations} | | | | |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--stores", default="memory,sqlite,redis")
    parser.add_argument("--mock-source", type=Path, help="serve the mock from this checkout")
    parser.add_argument("--output", type=Path, help="also write the table to this Markdown file")
    arguments = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is missing (scripts/install-system-deps.sh)", file=sys.stderr)
        return 2
    WORK.mkdir(exist_ok=True)
    table = [
        "| configuration | route | req/s | ÷ static Flask | p99 ms | p99 ÷ static | errors |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for kind in arguments.stores.split(","):
        workers, store = CONFIGURATIONS[kind]
        name = f"{workers} worker{'s' if workers > 1 else ''}, {kind}://"
        with contextlib.ExitStack() as servers:
            if kind == "sqlite":
                (WORK / "ceiling.db").unlink(missing_ok=True)
                store = f"sqlite:///{WORK}/ceiling.db"
            elif kind == "redis":
                redis_port = free_port()
                redis = subprocess.Popen(
                    ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                    stdout=subprocess.DEVNULL,
                )
                servers.callback(redis.wait)
                servers.callback(redis.terminate)
                store = f"redis://127.0.0.1:{redis_port}/0"
            print(name, flush=True)
            mock = servers.enter_context(
                running(start_mock_from(arguments.mock_source, workers, store, name))
            )
            (WORK / "stubs").mkdir(exist_ok=True)
            reports = prepare_reports(mock.port)
            (WORK / "stubs" / "processing.json").write_bytes(reports.bodies["processing"])
            stub = servers.enter_context(
                running(granian_stub("stub_apps:flask_app", workers, "static Flask"))
            )
            loads = measure(name, mock, stub, arguments.duration)
            table += summary(name, store_operations(store, arguments.mock_source), loads)
    print("\n".join(table))
    if arguments.output is not None:
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        arguments.output.write_text(
            "# The mock's routes against the static Flask route (`bench/ceiling.py`)\n\n"
            f"Run {started} on {machine_summary()}: `wrk -t1 -c{CONNECTIONS} "
            f"-d{arguments.duration}s` per row against 127.0.0.1, the mock and a static Flask "
            "route under the same granian configuration, in turn; the static route is measured "
            "first and last and its mean is the ceiling. Poll is a processing report; cancel "
            "cancels a fresh report per request; download fetches a signed PDF URL. The store "
            "operations per poll are counted in-process (`bench/profile_poll.py`).\n\n"
            + "\n".join(table)
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
