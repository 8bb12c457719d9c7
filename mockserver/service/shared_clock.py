"""The virtual clock as every worker sees it: an anchor and an advanced offset in the store."""

from __future__ import annotations

import time
from collections.abc import Callable

from mockserver.core.clock import ClockAnchor
from mockserver.store.base import CACHE_VERSION_KEY, ReportStore

__all__ = ["SharedClock"]

_ANCHOR_KEY = "clock.anchor"
_ADVANCED_KEY = "clock.advanced_seconds"


class SharedClock:
    """Reads and moves the virtual clock kept in a store.

    The first process to open a store fixes the anchor; later ones (other workers, a
    restarted server) adopt it, so virtual time carries on. A configured time scale that
    differs from the stored one re-anchors without a jump.

    Each worker keeps the anchor and the advance it last read, with the store's cache
    version (:data:`~mockserver.store.base.CACHE_VERSION_KEY`) they were read at; whoever
    moves or rescales the clock adds 1 to that version, so the others read them again on
    their next request. Reading the clock thus costs one number, which a request reads
    together with its report (:meth:`now_at_version`).
    """

    def __init__(
        self,
        store: ReportStore,
        *,
        time_scale: float,
        start_time: float | None,
        real_time: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._real_time = real_time
        real_now = real_time()
        proposed = ClockAnchor(real_now, real_now if start_time is None else start_time, time_scale)
        self._anchor_text = store.value_or_default(_ANCHOR_KEY, proposed.to_json())
        self._anchor = ClockAnchor.from_json(self._anchor_text)
        self._advanced = store.number(_ADVANCED_KEY)
        self._version: float | None = None  # nothing cached yet: read at the first request
        if self._anchor.time_scale != time_scale:
            self.set_time_scale(time_scale)

    def _refresh(self, version: float) -> None:
        """Read the anchor and the advance again if the store's cache version moved."""
        if version == self._version:
            return
        text = self._store.value_or_default(_ANCHOR_KEY, self._anchor_text)
        if text != self._anchor_text:
            self._anchor_text, self._anchor = text, ClockAnchor.from_json(text)
        self._advanced = self._store.number(_ADVANCED_KEY)
        self._version = version

    @property
    def cached_version(self) -> float | None:
        """The store's cache version this worker's anchor and advance are as of (``None``
        before the first request)."""
        return self._version

    def anchor(self) -> ClockAnchor:
        """The shared anchor, as of the store's current cache version."""
        self._refresh(self._store.number(CACHE_VERSION_KEY))
        return self._anchor

    def now(self) -> float:
        """The virtual Unix time now."""
        return self.now_at_version(self._store.number(CACHE_VERSION_KEY))

    def now_at_version(self, version: float) -> float:
        """The virtual Unix time now, given the store's cache version the caller just read."""
        self._refresh(version)
        return self._anchor.virtual_time(self._real_time(), self._advanced)

    @property
    def time_scale(self) -> float:
        """Virtual seconds per real second (0: frozen)."""
        return self.anchor().time_scale

    def advanced_seconds(self) -> float:
        """How far the clock was moved by hand since it was anchored."""
        return self._store.number(_ADVANCED_KEY)

    def advance(self, seconds: float) -> float:
        """Move the clock forward; the new virtual time."""
        self._store.add_to_number(_ADVANCED_KEY, seconds)
        self._store.add_to_number(CACHE_VERSION_KEY, 1)
        return self.now()

    def set_time_scale(self, time_scale: float) -> None:
        """Run at ``time_scale`` from now on, without a jump."""
        advanced = self._store.number(_ADVANCED_KEY)
        self._anchor = self.anchor().rescaled(self._real_time(), advanced, time_scale)
        self._anchor_text = self._anchor.to_json()
        self._store.set_value(_ANCHOR_KEY, self._anchor_text)
        self._store.add_to_number(_ADVANCED_KEY, -advanced)
        self._store.add_to_number(CACHE_VERSION_KEY, 1)
