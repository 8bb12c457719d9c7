"""An asyncio event loop on the kit's clock, for ``async def`` clients and ``asyncio.run`` inside.

The loop's ``time()`` is the authority's monotonic clock, so every timer (``asyncio.sleep``,
``wait_for``, ``asyncio.timeout``, ``call_later``, aiohttp's and httpx's timeouts) is on
virtual time. When the loop would block with a timeout, its selector first settles the mock
(every request sent has been answered), polls with timeout 0 and, if nothing is ready, moves
virtual time to the next timer instead of waiting. Work handed to threads (``run_in_executor``,
``to_thread``, ``getaddrinfo``) is waited for in real time, with the clock still. A loop with
nothing to wait for and no timer would wait for ever: the kit stops the client and says so.

While a run is active, :func:`virtual_loops` installs an event-loop policy whose new loops are
virtual in the client's threads, so a sync client that calls ``asyncio.run`` gets one too.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from contract_tests.clock_authority import ClockAuthority
from contract_tests.errors import ClientStopped
from contract_tests.virtual_time import is_virtual_thread

__all__ = ["VirtualTimeLoop", "virtual_loops"]

#: Real seconds the loop blocks at a time while work runs in a thread.
_THREAD_WORK_POLL_SECONDS = 0.05


class _SettlingSelector(selectors.BaseSelector):
    """A selector whose blocking select moves virtual time instead of waiting."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._inner = selectors.DefaultSelector()
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout == 0:
            return ready
        loop = self._loop
        loop.authority.settle()
        ready = self._inner.select(0)
        if ready:
            return ready
        if loop.thread_work:
            wait = (
                _THREAD_WORK_POLL_SECONDS
                if timeout is None
                else min(timeout, _THREAD_WORK_POLL_SECONDS)
            )
            return self._inner.select(wait)
        if timeout is None:
            loop.on_wait_forever()
            raise ClientStopped("the client waits for ever: no timer, no I/O, nothing running")
        if not loop.authority.advance(max(timeout, 0.0)):
            raise ClientStopped("the kit is stopping the client")
        return self._inner.select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock is the kit's."""

    def __init__(self, authority: ClockAuthority, on_wait_forever: Callable[[], None]) -> None:
        self.authority = authority
        self.on_wait_forever = on_wait_forever
        self.thread_work = 0
        super().__init__(_SettlingSelector(self))

    def time(self) -> float:
        return self.authority.monotonic()

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., Any], *args: Any
    ) -> asyncio.Future[Any]:
        future = super().run_in_executor(executor, func, *args)
        self.thread_work += 1

        def done(_future: asyncio.Future[Any] | Future[Any]) -> None:
            self.thread_work -= 1

        future.add_done_callback(done)
        return future


class _VirtualPolicy(asyncio.DefaultEventLoopPolicy):
    def __init__(self, authority: ClockAuthority, on_wait_forever: Callable[[], None]) -> None:
        super().__init__()
        self._authority = authority
        self._on_wait_forever = on_wait_forever

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        if is_virtual_thread():
            return VirtualTimeLoop(self._authority, self._on_wait_forever)
        return super().new_event_loop()


@contextmanager
def virtual_loops(authority: ClockAuthority, on_wait_forever: Callable[[], None]) -> Iterator[None]:
    """While active, ``asyncio.new_event_loop()`` (and ``asyncio.run``) in a client's thread
    makes a :class:`VirtualTimeLoop`."""
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(_VirtualPolicy(authority, on_wait_forever))
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(previous)
