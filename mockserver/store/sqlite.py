"""The SQLite store: several worker processes on one host, and state that survives a restart.

Opened as ``sqlite:///absolute/path.db`` or ``sqlite://relative/path.db``. The database
runs in WAL mode, so readers never wait for the one writer, and every operation that must be
atomic across processes is one SQL statement (``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`` for the counters, a conditional ``UPDATE`` for cancellation, ``INSERT OR IGNORE``
for shared values). Each process and thread gets its own connection, so a server that forks
its workers after opening the store never shares a connection across processes.

Reports are stored as :mod:`mockserver.store.codec` text, with the columns the queries need
(owner, case id, creation and cancellation time) beside it; the journal is a ring of
``journal_size`` slots, each append one statement that overwrites the oldest slot (and, for
a poll, one more adding to the report's poll counter, in the same transaction). A worker's
threads append together (:mod:`mockserver.store.group_commit`): one transaction per batch,
and the served front's event loop hands over its polls' entries in batches
(:meth:`SQLiteStore.append_requests`), its reads failing at once rather than waiting for a
lock (:meth:`SQLiteStore.wait_for_no_lock_in_this_thread`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

from mockserver.core.lifecycle import ReportRecord
from mockserver.store.base import JournalEntry, StoreError, journal_if_current
from mockserver.store.codec import entry_from_json, entry_to_json, record_from_json, record_to_json
from mockserver.store.group_commit import GroupCommit

__all__ = ["SQLiteStore", "sqlite_path_from_url"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    case_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    cancelled_at REAL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_case ON reports (owner, case_id, created_at, id);
CREATE INDEX IF NOT EXISTS reports_by_age ON reports (created_at, id);
CREATE TABLE IF NOT EXISTS shared_values (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shared_numbers (key TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS expiring_numbers (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    slot INTEGER PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    entry TEXT NOT NULL
);
"""
_BUSY_TIMEOUT_SECONDS = 10.0
#: Connections a forked child inherited from its parent: never used and never closed in the
#: child, since closing SQLite's file descriptors there would drop the child's own locks.
_INHERITED_ACROSS_FORK: list[sqlite3.Connection] = []
_SEQUENCE_KEY = "report_sequence"
#: Lapsed expiring numbers are deleted once every so many additions (per process).
_EXPIRING_SWEEP_EVERY = 1000


def sqlite_path_from_url(url: str) -> Path:
    """The file a SQLite store URL names.

    Read like a ``file://`` URL: ``sqlite:///tmp/mock.db`` is ``/tmp/mock.db`` (SQLAlchemy's
    ``sqlite:////tmp/mock.db`` means the same), and ``sqlite://data/mock.db`` is relative to
    the working directory.
    """
    prefix = "sqlite://"
    path = url[len(prefix) :] if url.startswith(prefix) else ""
    if not path.strip("/"):
        raise StoreError(
            f"Store URL {url!r} names no file: use sqlite:///absolute/path.db "
            "or sqlite://relative/path.db"
        )
    return Path("/" + path.lstrip("/")) if path.startswith("/") else Path(path)


class SQLiteStore:
    """Reports, shared values and the journal in one SQLite file."""

    kind = "sqlite"

    def __init__(self, path: str | os.PathLike[str], *, journal_size: int = 1000) -> None:
        self.path = Path(path)
        self.journal_size = journal_size
        self._local = threading.local()
        self._all_connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._owner_pid = os.getpid()
        self._additions_since_sweep = 0
        self._journal_writer = GroupCommit(self._append_batch)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._create_schema()
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"Cannot open the SQLite store at {self.path}: {error}") from error

    # --- connections ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This process's and thread's connection (a forked worker opens its own)."""
        pid = os.getpid()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != pid:
            connection = sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT_SECONDS,
                isolation_level=None,  # autocommit: each statement is its own transaction
                check_same_thread=False,
            )
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints
            self._local.connection, self._local.pid = connection, pid
            with self._connections_lock:
                if self._owner_pid != pid:
                    _INHERITED_ACROSS_FORK.extend(self._all_connections)
                    self._all_connections, self._owner_pid = [], pid
                self._all_connections.append(connection)
        return connection

    def _create_schema(self) -> None:
        connection = self._connection()
        deadline = time.monotonic() + _BUSY_TIMEOUT_SECONDS
        while True:  # switching to WAL can meet a lock held by a worker starting alongside
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    # --- reports --------------------------------------------------------------------------

    def add_report(self, record: ReportRecord) -> None:
        self._connection().execute(
            "INSERT INTO reports (id, owner, case_id, created_at, cancelled_at, body)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.owner,
                record.case_id,
                record.created_at,
                record.cancelled_at,
                record_to_json(record),
            ),
        )

    def get_report(self, report_id: str) -> ReportRecord | None:
        row = (
            self._connection()
            .execute("SELECT body, cancelled_at FROM reports WHERE id = ?", (report_id,))
            .fetchone()
        )
        return None if row is None else _record_from_row(row)

    def report_and_number(
        self, report_id: str | None, key: str
    ) -> tuple[ReportRecord | None, float]:
        # One statement: the number, and the report's columns (NULL when there is none).
        row = (
            self._connection()
            .execute(
                "SELECT (SELECT value FROM shared_numbers WHERE key = ?), r.body, r.cancelled_at"
                " FROM (SELECT 1) LEFT JOIN reports AS r ON r.id = ?",
                (key, report_id or ""),
            )
            .fetchone()
        )
        number = 0.0 if row[0] is None else float(row[0])
        return (None if row[1] is None else _record_from_row(row[1:])), number

    def report_number_and_entry(
        self,
        report_id: str,
        key: str,
        *,
        owner: str,
        expected: float,
        entry: JournalEntry,
        count: str,
    ) -> tuple[ReportRecord | None, float, bool]:
        return journal_if_current(
            self, report_id, key, owner=owner, expected=expected, entry=entry, count=count
        )

    def reports_for_case(self, owner: str, case_id: str) -> list[ReportRecord]:
        rows = (
            self._connection()
            .execute(
                "SELECT body, cancelled_at FROM reports WHERE owner = ? AND case_id = ?"
                " ORDER BY created_at DESC, id DESC",
                (owner, case_id),
            )
            .fetchall()
        )
        return [_record_from_row(row) for row in rows]

    def recent_reports(self, limit: int) -> list[ReportRecord]:
        rows = (
            self._connection()
            .execute(
                "SELECT body, cancelled_at FROM reports ORDER BY created_at DESC, id DESC LIMIT ?",
                (limit,),
            )
            .fetchall()
        )
        return [_record_from_row(row) for row in rows]

    def mark_cancelled(self, report_id: str, at: float) -> ReportRecord | None:
        connection = self._connection()
        connection.execute(
            "UPDATE reports SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL",
            (at, report_id),
        )
        return self.get_report(report_id)

    def remove_all_reports(self) -> int:
        return self._connection().execute("DELETE FROM reports").rowcount

    def remove_reports_created_before(self, cutoff: float) -> int:
        return (
            self._connection()
            .execute("DELETE FROM reports WHERE created_at < ?", (cutoff,))
            .rowcount
        )

    def report_count(self) -> int:
        row = self._connection().execute("SELECT count(*) FROM reports").fetchone()
        return int(row[0])

    # --- shared values --------------------------------------------------------------------

    def next_sequence(self) -> int:
        row = (
            self._connection()
            .execute(
                "INSERT INTO counters (key, value) VALUES (?, 1)"
                " ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value",
                (_SEQUENCE_KEY,),
            )
            .fetchone()
        )
        return int(row[0])

    def value_or_default(self, key: str, default: str) -> str:
        connection = self._connection()
        select = "SELECT value FROM shared_values WHERE key = ?"
        row = connection.execute(select, (key,)).fetchone()
        if row is None:  # first caller anywhere stores it; every caller reads the winner
            connection.execute(
                "INSERT OR IGNORE INTO shared_values (key, value) VALUES (?, ?)", (key, default)
            )
            row = connection.execute(select, (key,)).fetchone()
        return str(row[0])

    def set_value(self, key: str, value: str) -> None:
        self._connection().execute(
            "INSERT INTO shared_values (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def add_to_number(self, key: str, amount: float) -> float:
        row = (
            self._connection()
            .execute(
                "INSERT INTO shared_numbers (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = value + excluded.value"
                " RETURNING value",
                (key, amount),
            )
            .fetchone()
        )
        return float(row[0])

    def number(self, key: str) -> float:
        row = (
            self._connection()
            .execute("SELECT value FROM shared_numbers WHERE key = ?", (key,))
            .fetchone()
        )
        return 0.0 if row is None else float(row[0])

    def value(self, key: str) -> str | None:
        row = (
            self._connection()
            .execute("SELECT value FROM shared_values WHERE key = ?", (key,))
            .fetchone()
        )
        return None if row is None else str(row[0])

    def add_to_expiring_number(
        self, key: str, amount: float, *, now: float, expires_at: float
    ) -> float:
        connection = self._connection()
        row = connection.execute(
            "INSERT INTO expiring_numbers (key, value, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET"
            "  value = CASE WHEN expires_at <= ? THEN excluded.value"
            "          ELSE value + excluded.value END,"
            "  expires_at = excluded.expires_at"
            " RETURNING value",
            (key, amount, expires_at, now),
        ).fetchone()
        self._additions_since_sweep += 1
        if self._additions_since_sweep >= _EXPIRING_SWEEP_EVERY:
            self._additions_since_sweep = 0
            connection.execute("DELETE FROM expiring_numbers WHERE expires_at <= ?", (now,))
        return float(row[0])

    # --- journal --------------------------------------------------------------------------

    def append_request(self, entry: JournalEntry, *, count: str | None = None) -> None:
        # The entries of this process's threads are written together (group commit): one
        # thread writes all that are queued in one transaction, so the write lock is taken
        # once per batch and no thread sleeps in SQLite's busy handler behind its siblings.
        if count is None and self.journal_size <= 0:
            return
        self._journal_writer.submit((entry_to_json(entry), count))

    def append_requests(self, entries: list[tuple[JournalEntry, str | None]]) -> None:
        """Append several entries (each with the number it counts, if any) in one
        transaction, with whatever this process's threads have queued; return once they are
        committed. The served front's event loop hands its polls' entries over this way."""
        self._journal_writer.submit_all([(entry_to_json(entry), count) for entry, count in entries])

    def wait_for_no_lock_in_this_thread(self) -> None:
        """Make this thread's reads fail at once (``database is locked``) instead of
        sleeping in the busy handler: for the event loop, which must never wait."""
        self._connection().execute("PRAGMA busy_timeout = 0")

    def _append_batch(self, batch: list[tuple[str, str | None]]) -> None:
        connection = self._connection()
        if len(batch) == 1 and batch[0][1] is None:  # one statement is its own transaction
            self._append_one(connection, batch[0][0])
            return
        counts: dict[str, int] = {}
        for _, count in batch:
            if count is not None:
                counts[count] = counts.get(count, 0) + 1
        connection.execute("BEGIN IMMEDIATE")  # the write lock, once for the whole batch
        try:
            if len(batch) == 1:
                self._append_one(connection, batch[0][0])
            elif self.journal_size > 0:  # the ring's next positions, read once under the lock
                last = int(
                    connection.execute("SELECT coalesce(max(position), 0) FROM journal").fetchone()[
                        0
                    ]
                )
                connection.executemany(
                    "INSERT OR REPLACE INTO journal (slot, position, entry) VALUES (?, ?, ?)",
                    [
                        ((last + n) % self.journal_size, last + n, text)
                        for n, (text, _) in enumerate(batch, start=1)
                    ],
                )
            # A report polled several times in the batch: its count goes up once, by as many.
            connection.executemany(
                "INSERT INTO shared_numbers (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
                list(counts.items()),
            )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _append_one(self, connection: sqlite3.Connection, text: str) -> None:
        # The next position goes into slot position % size, replacing the entry that was
        # there (the oldest one).
        if self.journal_size > 0:
            connection.execute(
                "INSERT OR REPLACE INTO journal (slot, position, entry)"
                " SELECT (last + 1) % ?, last + 1, ?"
                " FROM (SELECT coalesce(max(position), 0) AS last FROM journal)",
                (self.journal_size, text),
            )

    def requests(self, limit: int) -> tuple[list[JournalEntry], int]:
        connection = self._connection()
        # A store opened with a smaller journal_size than another process's: count only
        # the newest journal_size entries.
        total = int(
            connection.execute(
                "SELECT count(*) FROM (SELECT 1 FROM journal ORDER BY position DESC LIMIT ?)",
                (max(self.journal_size, 0),),
            ).fetchone()[0]
        )
        if not limit:
            return [], total
        rows = connection.execute(
            "SELECT entry FROM journal ORDER BY position DESC LIMIT ?",
            (min(limit, total),),
        ).fetchall()
        return [entry_from_json(row[0]) for row in reversed(rows)], total

    def clear_requests(self) -> None:
        self._connection().execute("DELETE FROM journal")

    def close(self) -> None:
        with self._connections_lock:
            connections, self._all_connections = self._all_connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()


def _record_from_row(row: tuple[str, float | None]) -> ReportRecord:
    body, cancelled_at = row
    record = record_from_json(body)
    if cancelled_at is not None and record.cancelled_at != cancelled_at:
        record = replace(record, cancelled_at=cancelled_at)
    return record
