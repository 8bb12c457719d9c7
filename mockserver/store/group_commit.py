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

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

_Item = TypeVar("_Item")


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
        pending = _Pending(item)
        with self._queue_lock:
            self._queue.append(pending)
        with self._writer:
            if not pending.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                error: BaseException | None = None
                try:
                    self._write_batch([queued.item for queued in batch])
                except Exception as failed:
                    error = failed
                for queued in batch:
                    queued.error, queued.done = error, True
        if pending.error is not None:
            raise _fresh(pending.error)


def _fresh(error: BaseException) -> BaseException:
    """The batch's error for one caller (each thread raises its own exception object)."""
    try:
        copy = type(error)(*error.args)
    except Exception:  # an exception type that cannot be rebuilt from its arguments
        return error
    copy.__cause__ = error
    return copy
