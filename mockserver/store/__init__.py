"""Storage backends behind one interface, opened from a URL."""

from __future__ import annotations

from mockserver.store.base import JournalEntry, ReportStore, StoreError
from mockserver.store.memory import MemoryStore

__all__ = ["JournalEntry", "MemoryStore", "ReportStore", "StoreError", "open_store"]


def open_store(url: str, *, journal_size: int = 1000) -> ReportStore:
    """The store a URL names: ``memory://`` (the default)."""
    scheme = url.split("://", 1)[0] if "://" in url else url
    if scheme == "memory":
        return MemoryStore(journal_size=journal_size)
    raise StoreError(f"Unknown store URL {url!r}: use memory://")
