"""Group commit: the writes of one process's threads, made by one of them in one transaction.

SQLite has one write lock per database. When several threads of a worker each commit their
own journal entry they queue for that lock inside SQLite, whose busy handler sleeps (1 ms,
then 2, 5, 10 ... ms) instead of waking when the lock is free, and every commit pays its
own WAL frames. Here each thread queues its item and waits for the process's writer slot;
whichever thread gets the slot writes every item queued so far, in one transaction, and the
threads whose items it wrote find them done and return. Each caller still returns only once
its own item is committed, and gets the batch's error when the batch failed (a locked
store: every request in it answers the outage's 503), so nothing is lost or reported early.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

__all__ = ["GroupCommit", "LoopBatches", "LoopGroupCommit"]

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class _Pending(Generic[_Item]):
    __slots__ = ("done", "error", "item")

    def __init__(self, item: _Item) -> None:
        self.item = item
        self.done = False
        self.error: BaseException | None = None


class GroupCommit(Generic[_Item]):
    """Hands each batch of queued items to ``write_batch`` (one transaction), one at a time."""

    def __init__(self, write_batch: Callable[[list[_Item]], None]) -> None:
        self._write_batch = write_batch
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()
        self._queue: list[_Pending[_Item]] = []

    def submit(self, item: _Item) -> None:
        """Write ``item`` (with whatever else is queued); return once it is committed."""
        self.submit_all([item])

    def submit_all(self, items: list[_Item]) -> None:
        """Write ``items`` (with whatever else is queued); return once all are committed."""
        pending = [_Pending(item) for item in items]
        if not pending:
            return
        with self._queue_lock:
            self._queue.extend(pending)
        with self._writer:
            if not pending[-1].done:  # queued together, so written together
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                error: BaseException | None = None
                try:
                    self._write_batch([queued.item for queued in batch])
                except Exception as failed:
                    error = failed
                for queued in batch:
                    queued.error, queued.done = error, True
        if pending[-1].error is not None:
            raise _fresh(pending[-1].error)


class LoopBatches(Generic[_Item, _Result]):
    """Batches for an event loop: the items its requests submit, handed to ``run_batch`` on
    ``executor`` together, one batch at a time, each item answered with its own result.

    While a batch runs, the items submitted meanwhile wait and go together in the next one,
    so the loop hands work to a thread once per batch, not once per request (and a store
    makes one round trip or one transaction per batch). ``run_batch`` returns one result per
    item, in order, or an exception instance for an item that failed alone; if it raises,
    every item of the batch gets that error. Each ``submit`` returns once its batch has run.
    """

    def __init__(
        self,
        run_batch: Callable[[list[_Item]], Sequence[_Result | BaseException]],
        executor: Executor,
    ) -> None:
        self._run_batch = run_batch
        self._executor = executor
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: list[tuple[_Item, asyncio.Future[_Result]]] = []
        self._writing = False
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: _Item) -> _Result:
        """Run ``item`` (with the others queued on this loop); its result once run."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (a test's asyncio.run): a fresh queue
            self._loop, self._queue, self._writing = loop, [], False
        done: asyncio.Future[_Result] = loop.create_future()
        self._queue.append((item, done))
        if not self._writing:
            self._writing = True
            self._writer = loop.create_task(self._run_queued(loop))  # kept: not collected
        return await done

    async def _run_queued(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while self._queue and loop is self._loop:
                batch, self._queue = self._queue, []
                items = [item for item, _ in batch]
                try:
                    results = await loop.run_in_executor(self._executor, self._run_batch, items)
                except Exception as failed:
                    results = [failed] * len(batch)
                for (_, done), result in zip(batch, results, strict=True):
                    if done.done():  # its request was cancelled (the client went away)
                        continue
                    if isinstance(result, BaseException):
                        done.set_exception(_fresh(result))
                    else:
                        done.set_result(result)
        finally:
            if loop is self._loop:
                self._writing = False


class LoopGroupCommit(LoopBatches[_Item, None]):
    """Group commit for an event loop: the items its requests submit, written in batches by
    ``write_batch`` (one transaction) on ``executor``, one batch at a time. Each ``submit``
    returns once its own item is committed, or raises the batch's error."""

    def __init__(self, write_batch: Callable[[list[_Item]], None], executor: Executor) -> None:
        def run(items: list[_Item]) -> list[None]:
            write_batch(items)
            return [None] * len(items)

        super().__init__(run, executor)


def _fresh(error: BaseException) -> BaseException:
    """The batch's error for one caller (each thread raises its own exception object)."""
    try:
        copy = type(error)(*error.args)
    except Exception:  # an exception type that cannot be rebuilt from its arguments
        return error
    copy.__cause__ = error
    return copy
