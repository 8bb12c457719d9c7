"""Virtual time for Python clients: ``time.sleep`` advances the mock's clock instead of waiting.

While a client runs, ``time.sleep``, ``time.time``, ``time.monotonic`` (and their ``_ns`` and
``perf_counter`` variants) are replaced in the ``time`` module and in the client's own module
(for ``from time import sleep``). The clock is a mirror of the mock's frozen clock: it moves
only when the client sleeps, and each sleep advances the mock by the same amount.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from types import ModuleType
from typing import Any
from unittest import mock

__all__ = ["VirtualClock", "modules_of", "patched_time"]

_MONOTONIC_ORIGIN = 10_000.0


class VirtualClock:
    """The client's view of time, kept equal to the mock's frozen clock."""

    def __init__(self, start_epoch: float, advance_mock: Callable[[float], None]) -> None:
        self.epoch = start_epoch
        self._start = start_epoch
        self._advance_mock = advance_mock
        self.before_sleep: Callable[[float], None] = lambda seconds: None
        self.on_time_read: Callable[[], None] = lambda: None

    def time(self) -> float:
        self.on_time_read()
        return self.epoch

    def monotonic(self) -> float:
        self.on_time_read()
        return _MONOTONIC_ORIGIN + self.epoch - self._start

    def time_ns(self) -> int:
        return int(self.time() * 1e9)

    def monotonic_ns(self) -> int:
        return int(self.monotonic() * 1e9)

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.before_sleep(float(seconds))
        if seconds:
            self._advance_mock(float(seconds))
            self.epoch += float(seconds)


@contextmanager
def patched_time(
    clock: VirtualClock,
    client_modules: list[ModuleType],
    client_functions: list[Callable[..., Any]] | None = None,
) -> Iterator[None]:
    """Route the ``time`` functions the client can reach to ``clock``: the ``time`` module's,
    the client module's own names (``from time import sleep``) and the client function's
    default arguments (``def poll(..., sleep=time.sleep)``)."""
    replacements: dict[str, Any] = {
        "sleep": clock.sleep,
        "time": clock.time,
        "monotonic": clock.monotonic,
        "perf_counter": clock.monotonic,
        "time_ns": clock.time_ns,
        "monotonic_ns": clock.monotonic_ns,
        "perf_counter_ns": clock.monotonic_ns,
    }
    originals = {getattr(time, name): name for name in replacements}
    with ExitStack() as stack:
        for name, fake in replacements.items():
            stack.enter_context(mock.patch.object(time, name, fake))
        for module in client_modules:
            for attribute, value in list(vars(module).items()):
                original_name = originals.get(value) if callable(value) else None
                if original_name is not None:
                    replacement = replacements[original_name]
                    stack.enter_context(mock.patch.object(module, attribute, replacement))
        for function in client_functions or []:
            keyword_defaults = getattr(function, "__kwdefaults__", None)
            if keyword_defaults:
                patched = {
                    k: replacements.get(originals.get(v, ""), v) if callable(v) else v
                    for k, v in keyword_defaults.items()
                }
                stack.enter_context(mock.patch.object(function, "__kwdefaults__", patched))
            positional_defaults = getattr(function, "__defaults__", None)
            if positional_defaults:
                swapped = tuple(
                    replacements.get(originals.get(v, ""), v) if callable(v) else v
                    for v in positional_defaults
                )
                stack.enter_context(mock.patch.object(function, "__defaults__", swapped))
        yield


def modules_of(function: Callable[..., Any]) -> list[ModuleType]:
    """The module a client function was defined in (where ``from time import sleep`` lands)."""
    module = sys.modules.get(getattr(function, "__module__", "") or "")
    return [module] if module is not None else []
