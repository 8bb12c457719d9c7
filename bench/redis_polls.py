"""How a served worker should wait for Redis: three ways to make a poll's one round trip.

A served worker answers polls on its event loop; on Redis each poll needs one round trip
(the poll script, ``RedisStore.report_number_and_entry``). This measures, side by side in one
run against a ``redis-server`` of its own on loopback, 32 polls kept in flight on one event
loop (as a worker under ``wrk -c32`` sees them), each way in turn and for several rounds:

- ``thread per poll``: each poll's call handed to a pool thread (``run_in_executor``), which
  is what the served worker did before;
- ``redis.asyncio per poll``: the same script awaited through redis-py's asyncio client;
- ``batched pipeline``: :class:`~mockserver.store.redis_store.RedisPollBatches`, what the
  served worker does now: the polls in flight go as one pipeline, one round trip per batch,
  made by one thread.

It prints wall and CPU microseconds per poll (CPU is what a 2-core machine runs out of) and
each way's CPU against the batched pipeline's.

    .venv/bin/python bench/redis_polls.py [--polls 6400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import redis
import redis.asyncio

from mockserver import create_app
from mockserver.app import backend_of
from mockserver.core.lifecycle import ReportRecord
from mockserver.store.base import JournalEntry
from mockserver.store.redis_store import (
    _REPORT_NUMBER_AND_ENTRY,
    RedisPollBatches,
    RedisStore,
)

IN_FLIGHT = 32
KEY = "sk-bench"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_redis(port: int, workdir: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: run `make setup` first")
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.02)


def _report(url: str) -> ReportRecord:
    """A report created through the mock's API on that store, as a client would create it."""
    app = create_app({"STORE": url, "TIME_SCALE": 0})
    created = app.test_client().post(
        "/api/reports",
        json={"case_id": "case_bench", "type": "technical_report"},
        headers={"X-API-Key": KEY},
    )
    record = backend_of(app).state.store.get_report(created.get_json()["data"]["id"])
    assert record is not None
    backend_of(app).state.close()
    return record


async def _in_flight(polls: int, one: Callable[[], Awaitable[object]]) -> None:
    async def worker() -> None:
        for _ in range(polls // IN_FLIGHT):
            await one()

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--polls", type=int, default=6400)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = _start_redis(port, workdir)
        try:
            _measure(f"redis://127.0.0.1:{port}/0", arguments.polls, arguments.rounds)
        finally:
            server.terminate()
            server.wait(timeout=10)


def _measure(url: str, polls: int, rounds: int) -> None:
    store = RedisStore(url)
    record = _report(url)
    entry = JournalEntry("GET", f"/api/reports/{record.id}", "", 200, 0.0, record.id, None)
    pool = ThreadPoolExecutor(max_workers=4)
    batches = RedisPollBatches(store, ThreadPoolExecutor(max_workers=1))

    async def thread_per_poll() -> None:
        loop = asyncio.get_running_loop()

        def call() -> object:
            return store.report_number_and_entry(
                record.id, "version", owner=record.owner, expected=0.0, entry=entry, count="n"
            )

        await _in_flight(polls, lambda: loop.run_in_executor(pool, call))

    async def asyncio_per_poll() -> None:
        client = redis.asyncio.Redis.from_url(url, decode_responses=True)
        script = client.register_script(_REPORT_NUMBER_AND_ENTRY)
        keys, args = store._poll_keys_and_args(record.id, "version", record.owner, 0.0, entry, "n")
        try:
            await _in_flight(polls, lambda: script(keys=keys, args=args))
        finally:
            await client.aclose()

    async def batched_pipeline() -> None:
        await _in_flight(
            polls,
            lambda: batches.report_number_and_entry(
                record.id, "version", owner=record.owner, expected=0.0, entry=entry, count="n"
            ),
        )

    ways: dict[str, Callable[[], Awaitable[None]]] = {
        "thread per poll": thread_per_poll,
        "redis.asyncio per poll": asyncio_per_poll,
        "batched pipeline": batched_pipeline,
    }
    best: dict[str, tuple[float, float]] = {}
    for round_number in range(1, rounds + 1):
        for name, way in ways.items():
            started, cpu = time.perf_counter(), time.process_time()
            asyncio.run(way())
            wall_us = (time.perf_counter() - started) / polls * 1e6
            cpu_us = (time.process_time() - cpu) / polls * 1e6
            print(f"round {round_number}  {name:24s} wall {wall_us:7.1f} µs  cpu {cpu_us:7.1f} µs")
            if name not in best or cpu_us < best[name][1]:
                best[name] = (wall_us, cpu_us)
    baseline = best["batched pipeline"][1]
    print(f"\n{polls} polls, {IN_FLIGHT} in flight on one loop; best round of {rounds}:")
    print("| way | wall µs/poll | CPU µs/poll | CPU ÷ batched |")
    print("|---|---:|---:|---:|")
    for name, (wall_us, cpu_us) in best.items():
        print(f"| {name} | {wall_us:.1f} | {cpu_us:.1f} | {cpu_us / baseline:.1f}x |")
    store.close()


if __name__ == "__main__":
    main()
