"""Storage backends behind one interface, opened from a URL."""

from __future__ import annotations

from mockserver.store.base import CACHE_VERSION_KEY, JournalEntry, ReportStore, StoreError
from mockserver.store.memory import MemoryStore

__all__ = [
    "CACHE_VERSION_KEY",
    "JournalEntry",
    "MemoryStore",
    "ReportStore",
    "StoreError",
    "open_store",
]


def open_store(url: str, *, journal_size: int = 1000) -> ReportStore:
    """The store a URL names.

    ``memory://`` (the default: one process), ``sqlite:///path.db`` (several workers on one
    host; survives a restart), ``redis://host:port/db`` (several replicas; ``?prefix=NAME``
    namespaces the keys). The SQLite and Redis modules are imported only when named.
    """
    scheme = url.split("://", 1)[0] if "://" in url else url
    if scheme == "memory":
        return MemoryStore(journal_size=journal_size)
    if scheme == "sqlite":
        from mockserver.store.sqlite import SQLiteStore, sqlite_path_from_url

        return SQLiteStore(sqlite_path_from_url(url), journal_size=journal_size)
    if scheme in ("redis", "rediss", "unix"):
        from mockserver.store.redis_store import RedisStore

        return RedisStore(url, journal_size=journal_size)
    raise StoreError(
        f"Unknown store URL {url!r}: use memory://, sqlite:///path/to/file.db "
        "or redis://host:6379/0"
    )
