"""Clients that read the time or wait in the ways people write them, for the kit's time tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from datetime import datetime, timedelta
from time import monotonic, sleep
from typing import Any

import requests
import urllib3

GUIDE_TIMEOUT = timedelta(minutes=10)


def _raise_on_terminal(data: Any, report_id: str) -> Any:
    if data is None:
        raise LookupError(f"report {report_id} not found")
    if data["status"] in ("failed", "cancelled"):
        raise RuntimeError(
            f"Report {data['status']}: {(data.get('progress') or {}).get('message', '')}"
        )
    return data if data["status"] == "completed" else None


def datetime_deadline(report_id: str, *, base_url: str, api_key: str) -> Any:
    """A 10-minute ``datetime.now()`` deadline, a keep-alive ``requests.Session``, 5 s sleeps."""
    deadline = datetime.now() + GUIDE_TIMEOUT
    with requests.Session() as session:
        session.headers["X-API-Key"] = api_key
        while datetime.now() < deadline:
            data = session.get(f"{base_url}/api/reports/{report_id}", timeout=10).json()["data"]
            if _raise_on_terminal(data, report_id):
                return data
            sleep(5)
    raise TimeoutError("report not ready after 10 minutes")


def datetime_deadline_too_short(report_id: str, *, base_url: str, api_key: str) -> Any:
    """The same with a 60 s deadline: gives up before the documented timeout."""
    deadline = datetime.utcnow() + timedelta(seconds=60)
    while datetime.utcnow() < deadline:
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
        ).json()["data"]
        if _raise_on_terminal(data, report_id):
            return data
        sleep(5)
    raise TimeoutError("report not ready after a minute")


def event_wait_sleeps(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Sleeps with ``threading.Event.wait(5)`` and a ``queue.get(timeout=)``; monotonic deadline."""
    stop = threading.Event()
    inbox: queue.Queue[str] = queue.Queue()
    started = monotonic()
    while monotonic() - started < 600:
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
        ).json()["data"]
        if _raise_on_terminal(data, report_id):
            return data
        if stop.wait(3):
            break
        with contextlib.suppress(queue.Empty):
            inbox.get(timeout=2)
    raise TimeoutError("gave up")


def timeout_zero(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Passes ``timeout=0``: every real request raises."""
    while True:
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=0
        ).json()["data"]
        if _raise_on_terminal(data, report_id):
            return data
        sleep(5)


async def _get_json(base_url: str, path: str, api_key: str) -> Any:
    """One HTTP/1.1 GET over ``asyncio.open_connection``, with an ``asyncio.wait_for`` timeout."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 10)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {api_key}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    if status >= 500:
        raise ConnectionError(f"HTTP {status}")
    return json.loads(body)["data"]


async def asyncio_sleeps(report_id: str, *, base_url: str, api_key: str) -> Any:
    """``async def``: ``asyncio.sleep(5)`` between polls, ``asyncio.timeout`` of 10 minutes."""
    async with asyncio.timeout(600):
        while True:
            data = await _get_json(base_url, f"/api/reports/{report_id}", api_key)
            if _raise_on_terminal(data, report_id):
                return data
            await asyncio.sleep(5)


def sync_calling_asyncio_run(report_id: str, *, base_url: str, api_key: str) -> Any:
    """A sync client that runs its async poller with ``asyncio.run``."""
    try:
        return asyncio.run(asyncio_sleeps(report_id, base_url=base_url, api_key=api_key))
    except TimeoutError as error:
        raise TimeoutError("gave up after 10 minutes") from error


async def asyncio_to_thread(report_id: str, *, base_url: str, api_key: str) -> Any:
    """``async def`` that polls with ``requests`` in ``asyncio.to_thread`` and a monotonic deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 600
    while loop.time() < deadline:
        response = await asyncio.to_thread(
            requests.get,
            f"{base_url}/api/reports/{report_id}",
            headers={"X-API-Key": api_key},
            timeout=10,
        )
        data = response.json()["data"]
        if _raise_on_terminal(data, report_id):
            return data
        await asyncio.sleep(5)
    raise TimeoutError("gave up")


async def asyncio_never_gives_up(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Polls every 30 s of ``asyncio.sleep`` for ever."""
    while True:
        data = await _get_json(base_url, f"/api/reports/{report_id}", api_key)
        if _raise_on_terminal(data, report_id):
            return data
        await asyncio.sleep(30)


async def awaits_nothing(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Waits on an ``asyncio.Event`` that nothing will ever set."""
    await asyncio.Event().wait()


def returns_failed_reports(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Returns any terminal report's data, failed and cancelled included: breaks two rules at once."""
    for _ in range(200):
        data = requests.get(
            f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}, timeout=10
        ).json()["data"]
        if data is None:
            raise LookupError("not found")
        if data["status"] in ("completed", "failed", "cancelled"):
            return data
        sleep(5)
    raise TimeoutError("gave up")


def crashes_on_first_poll_fault(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Retries transient faults, except on its very first poll."""
    url, headers = f"{base_url}/api/reports/{report_id}", {"X-API-Key": api_key}
    first = requests.get(url, headers=headers, timeout=10)
    first.raise_for_status()
    data = first.json()["data"]
    started = monotonic()
    while monotonic() - started < 600:
        if _raise_on_terminal(data, report_id):
            return data
        sleep(5)
        try:
            response = requests.get(url, headers=headers, timeout=10)
            if response.status_code == 429:
                sleep(float(response.headers.get("Retry-After", "5")))
                continue
            response.raise_for_status()
            data = response.json()["data"]
        except (requests.RequestException, ValueError):
            continue
    raise TimeoutError("gave up")


def urllib3_retrying(report_id: str, *, base_url: str, api_key: str) -> Any:
    """A pooled ``urllib3`` client that retries faults after 5 s and honours Retry-After."""
    pool = urllib3.PoolManager(retries=False)
    started = monotonic()
    while monotonic() - started < 600:
        try:
            response = pool.request(
                "GET", f"{base_url}/api/reports/{report_id}", headers={"X-API-Key": api_key}
            )
        except urllib3.exceptions.HTTPError:
            sleep(5)
            continue
        if response.status == 429:
            sleep(max(5.0, float(response.headers.get("Retry-After", "5"))))
            continue
        try:
            data = json.loads(response.data)["data"] if response.status == 200 else ...
        except ValueError:
            data = ...
        if data is not ... and _raise_on_terminal(data, report_id):
            return data
        sleep(5)
    raise TimeoutError("gave up")


def deadlocks(report_id: str, *, base_url: str, api_key: str) -> Any:
    """Blocks for ever on a lock it already holds: no clock the kit can move."""
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()
