"""Group commit: every item written once, each caller back only after its own was written."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mockserver.store.base import JournalEntry
from mockserver.store.group_commit import GroupCommit, LoopGroupCommit
from mockserver.store.sqlite import SQLiteStore

THREADS = 8
ITEMS_PER_THREAD = 200


def test_concurrent_items_are_written_once_each_and_before_their_caller_returns() -> None:
    written: list[int] = []
    batches: list[int] = []
    release = threading.Event()

    def write(batch: list[int]) -> None:
        release.wait(5)  # the first batch waits, so the others queue up behind it
        batches.append(len(batch))
        written.extend(batch)

    group = GroupCommit(write)
    returned_before_written: list[int] = []

    def submit_all(start: int) -> None:
        for item in range(start, start + ITEMS_PER_THREAD):
            group.submit(item)
            if item not in written:
                returned_before_written.append(item)

    threads = [
        threading.Thread(target=submit_all, args=(n * ITEMS_PER_THREAD,)) for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(30)
    assert sorted(written) == list(range(THREADS * ITEMS_PER_THREAD))
    assert returned_before_written == []
    assert max(batches) > 1  # some thread wrote its siblings' items too


def test_every_caller_of_a_failed_batch_gets_the_error_and_the_next_batch_goes_on() -> None:
    failing = [True]

    def write(batch: list[str]) -> None:
        if failing[0]:
            raise sqlite3.OperationalError("database is locked")

    group = GroupCommit(write)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        group.submit("a")
    failing[0] = False
    group.submit("b")


def test_sqlite_journal_entries_of_many_threads_all_arrive_and_count(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "journal.db", journal_size=THREADS * 50)
    entry = JournalEntry("GET", "/api/reports/rpt_1", "", 200, 1.0, "rpt_1", "happy")

    def poll() -> None:
        for _ in range(50):
            store.append_request(entry, count="polls")

    threads = [threading.Thread(target=poll) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    entries, total = store.requests(THREADS * 50)
    assert total == THREADS * 50 and entries == [entry] * (THREADS * 50)
    assert store.number("polls") == THREADS * 50
    store.close()


def test_loop_items_go_in_batches_each_awaited_until_written_and_errors_reach_all() -> None:
    written: list[int] = []
    batches: list[list[int]] = []

    def write(batch: list[int]) -> None:
        batches.append(batch)
        if 13 in batch:
            raise sqlite3.OperationalError("database is locked")
        written.extend(batch)

    group = LoopGroupCommit(write, ThreadPoolExecutor(max_workers=1))
    outcome: dict[int, str] = {}

    async def submit(item: int) -> None:
        try:
            await group.submit(item)
        except sqlite3.OperationalError as error:
            outcome[item] = str(error)
            return
        assert item in written  # back only once its own item was written
        outcome[item] = "written"

    async def many() -> None:
        await asyncio.gather(*(submit(item) for item in range(10)))
        await asyncio.gather(*(submit(item) for item in range(10, 20)))

    asyncio.run(many())
    # What is submitted before the writer runs goes in one batch: one thread hop for all.
    assert batches == [list(range(10)), list(range(10, 20))]
    failed = next(batch for batch in batches if 13 in batch)
    assert all(outcome[item] == "database is locked" for item in failed)
    assert all(outcome[item] == "written" for item in range(20) if item not in failed)
