"""The virtual clock: what time it is for the reports.

Virtual time is derived, never ticked: ``anchor.virtual_epoch + (real_now - anchor.real_epoch)
* anchor.time_scale + advanced_seconds``. Every worker that shares the anchor and the advanced
offset (both live in the store) computes the same time, and a restarted server picks up where
it left. A ``time_scale`` of 0 freezes the clock so that only ``advance`` moves it (what tests
want); 100 makes five minutes pass in three seconds.

Pure: no Flask, no I/O; the real time is passed in.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache

__all__ = ["ClockAnchor", "format_timestamp", "parse_timestamp"]


@dataclass(frozen=True)
class ClockAnchor:
    """The fixed point of a virtual clock: at ``real_epoch`` it read ``virtual_epoch``."""

    real_epoch: float
    virtual_epoch: float
    time_scale: float

    def __post_init__(self) -> None:
        if self.time_scale < 0:
            raise ValueError(f"time_scale={self.time_scale!r} must be 0 (frozen) or more")

    def virtual_time(self, real_now: float, advanced_seconds: float) -> float:
        """The virtual Unix time at real Unix time ``real_now``."""
        elapsed = max(0.0, real_now - self.real_epoch) * self.time_scale
        return self.virtual_epoch + elapsed + advanced_seconds

    def rescaled(self, real_now: float, advanced_seconds: float, time_scale: float) -> ClockAnchor:
        """A new anchor that runs at ``time_scale`` from now on without jumping.

        The advanced offset is folded into the new anchor, so the caller resets it to 0.
        """
        now = self.virtual_time(real_now, advanced_seconds)
        return ClockAnchor(real_epoch=real_now, virtual_epoch=now, time_scale=time_scale)

    def to_json(self) -> str:
        """Serialise for a store."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ClockAnchor:
        """The anchor that :meth:`to_json` wrote."""
        fields = json.loads(text)
        return cls(
            real_epoch=float(fields["real_epoch"]),
            virtual_epoch=float(fields["virtual_epoch"]),
            time_scale=float(fields["time_scale"]),
        )


@lru_cache(maxsize=4096)  # a poll formats the same few instants again and again
def format_timestamp(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second, as the reference shows
    (``2024-01-15T10:30:00Z``)."""
    return datetime.fromtimestamp(int(epoch_seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> float:
    """The Unix time of an ISO 8601 timestamp; a naive one is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
