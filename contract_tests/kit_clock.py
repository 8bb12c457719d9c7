"""The kit's :class:`~contract_tests.clock_authority.ClockAuthority`: the mock's clock, moved
only in the loopback server's loop.

With a frozen mock (time scale 0, every Python client) the clock is discrete-event: it moves
only through :meth:`KitClock.advance`, which runs in the server's loop once the server is
settled, so the mock's state and its clock are touched by one thread and a sleep always comes
after every request sent before it. Safe to call from any thread (the client's, the kit's,
the command-clock server's).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from contract_tests.loopback import LoopbackServer

__all__ = ["MONOTONIC_START", "KitClock"]

#: What ``monotonic()`` reads when a run's clock starts, the same for every process of a run.
MONOTONIC_START = 10_000.0


class KitClock:
    """Virtual time of one check: ``now()`` is the mock's clock, ``advance`` moves both."""

    def __init__(
        self,
        server: LoopbackServer,
        read_mock: Callable[[], float],
        advance_mock: Callable[[float], float],
        *,
        frozen: bool,
    ) -> None:
        self._server = server
        self._read_mock = read_mock
        self._advance_mock = advance_mock
        self.frozen = frozen
        self._epoch = server.call(read_mock)
        self._start = self._epoch
        #: Decides, in the loop thread, whether a wait of so many seconds may happen now;
        #: the harness sets it to its observer (``False``: the client is being stopped).
        self.gate: Callable[[float], bool] = lambda seconds: True

    def now(self) -> float:
        """Virtual wall-clock time, in Unix seconds."""
        if self.frozen:
            return self._epoch
        return self._server.call(self._read_mock)

    def monotonic(self) -> float:
        """Virtual monotonic time: :data:`MONOTONIC_START` when the check's clock started."""
        return MONOTONIC_START + self.now() - self._start

    def settle(self) -> None:
        """Return once every request sent to the mock so far has been answered."""
        self._server.settle()

    def advance(self, seconds: float) -> bool:
        """Settle, then move the virtual clock and the mock's by ``seconds``.

        ``False`` when the kit is stopping the client instead (see ``ClockAuthority``).
        """
        length = float(seconds)
        if not math.isfinite(length) or length < 0:
            raise ValueError(f"advance({seconds!r}): pass a finite number of seconds, 0 or more")
        return self._server.call(lambda: self._advance_in_loop(length))

    def resync(self) -> None:
        """Read the mock's clock again (after the kit moved it directly)."""
        self._epoch = self._server.call(self._read_mock)

    def _advance_in_loop(self, seconds: float) -> bool:
        if not self.gate(seconds):
            return False
        if seconds > 0 and self.frozen:
            self._epoch = self._advance_mock(seconds)
        return True
