"""The one interface between the kit's virtual clock and every way a client reads time or waits.

Time in a contract check is *discrete-event*: it moves only when the client waits (a sleep, a
timer, a timed wait) and then by exactly the length of the wait; real time spent computing or
on loopback I/O with the mock counts as no virtual time. Each way of running a client (Python
in-process, asyncio, a command under the preload library, a binary under the syscall tracer)
reads and moves the clock only through a :class:`ClockAuthority`.

The wire protocol that command clients speak to it is described in ``docs/virtual-time.md``.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["ClockAuthority"]


class ClockAuthority(Protocol):
    """The kit's clock, shared by the mock and the client under test."""

    def now(self) -> float:
        """Virtual wall-clock time, in Unix seconds."""
        ...

    def monotonic(self) -> float:
        """Virtual monotonic time, in seconds; one origin for every process of a run."""
        ...

    def settle(self) -> None:
        """Return once the mock has nothing pending: no connection waiting to be accepted, no
        unread request bytes on any connection, no request being answered."""
        ...

    def advance(self, seconds: float) -> bool:
        """Settle, then move the virtual clock (and the mock's) forward by ``seconds``.

        ``False`` means the kit is stopping the client instead (it waited too long, past an
        hour, or the run ended): the caller must not return to the client as if time passed.
        """
        ...
