"""Virtual time for Python clients: every clock and every wait of the client's threads is the kit's.

While a run is active (:func:`virtual_time`), these are patched at the C level, the way
``time-machine`` patches ``datetime``: the function pointer inside the built-in's method
definition is swapped, so every reference to the built-in sees it, including names bound at
import (``from time import monotonic`` in ``queue``, ``threading``, tenacity, backoff...):

- ``time.time``, ``time_ns``, ``monotonic``, ``monotonic_ns``, ``perf_counter``,
  ``perf_counter_ns``, ``sleep``; ``datetime.datetime.now`` and ``utcnow`` (``date.today`` and
  ``datetime.today`` read ``time.time``);
- timed waits people use as sleeps, patched in Python: ``threading.Condition.wait(timeout)``,
  and through it ``threading.Event.wait``, ``Semaphore.acquire`` and ``queue.Queue.get``/``put``
  with a timeout.

The patched functions answer from the kit's :class:`ClockAuthority` only in *virtual* threads:
the client's thread and every thread it starts; the kit's and the loopback server's threads
keep real time. A sleep (or a timed wait that nothing ends at once) is one
``authority.advance(seconds)``; when the kit refuses (the client is being stopped), the client
gets a :class:`~contract_tests.errors.ClientStopped`.

Not covered (they read real time in every thread): ``time.localtime()``, ``gmtime()``,
``ctime()`` and ``strftime()`` without a time argument, ``time.clock_gettime``,
``Thread.join(timeout)`` and ``Lock.acquire(timeout=)`` (C-level waits), and timers of C
extensions. A timed wait is exact for one client thread; when several client threads wait on
each other, the waiting thread moves the clock at once (see README, "How time is
virtualised").
"""

from __future__ import annotations

import ctypes
import datetime
import gc
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from contract_tests.clock_authority import ClockAuthority
from contract_tests.errors import ClientStopped, KitError

__all__ = ["VirtualTimeHooks", "enter_virtual_thread", "is_virtual_thread", "virtual_time"]

_METH_VARARGS_KEYWORDS = 0x1 | 0x2


class _MethodDef(ctypes.Structure):
    _fields_ = (
        ("ml_name", ctypes.c_char_p),
        ("ml_meth", ctypes.c_void_p),
        ("ml_flags", ctypes.c_int),
        ("ml_doc", ctypes.c_char_p),
    )


class _CFunction(ctypes.Structure):  # PyCFunctionObject (CPython 3.8+)
    _fields_ = (
        ("ob_refcnt", ctypes.c_ssize_t),
        ("ob_type", ctypes.c_void_p),
        ("m_ml", ctypes.POINTER(_MethodDef)),
        ("m_self", ctypes.c_void_p),
        ("m_module", ctypes.c_void_p),
        ("m_weakreflist", ctypes.c_void_p),
        ("vectorcall", ctypes.c_void_p),
    )


_new_cfunction = ctypes.pythonapi.PyCFunction_NewEx
_new_cfunction.argtypes = (ctypes.c_void_p, ctypes.py_object, ctypes.py_object)
_new_cfunction.restype = ctypes.py_object
_type_modified = ctypes.pythonapi.PyType_Modified
_type_modified.argtypes = (ctypes.py_object,)
_type_modified.restype = None
#: ``PyObject_Call(callable, args, kwargs)``: the C function a patched built-in points at.
_PYOBJECT_CALL = ctypes.cast(ctypes.pythonapi.PyObject_Call, ctypes.c_void_p).value

_virtual_threads: set[int] = set()


class VirtualTimeHooks:
    """What the patched functions read and call: the authority, and the kit's observer."""

    def __init__(
        self,
        authority: ClockAuthority,
        on_clock_read: Callable[[], None] = lambda: None,
    ) -> None:
        self.authority = authority
        self.on_clock_read = on_clock_read

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass for the calling client thread."""
        if not self.authority.advance(seconds):
            raise ClientStopped("the kit is stopping the client")


_hooks: VirtualTimeHooks | None = None


def is_virtual_thread() -> bool:
    """Whether the calling thread is on the kit's clock (a client's thread, during a run)."""
    return _hooks is not None and threading.get_ident() in _virtual_threads


def enter_virtual_thread() -> None:
    """Put the calling thread (and every thread it starts from now on) on the kit's clock."""
    _virtual_threads.add(threading.get_ident())


def _leave_virtual_thread() -> None:
    _virtual_threads.discard(threading.get_ident())


def _active_hooks() -> VirtualTimeHooks | None:
    hooks = _hooks
    return hooks if hooks is not None and threading.get_ident() in _virtual_threads else None


class _BuiltinPatch:
    """Points one built-in function of ``time`` at a Python function, for every reference.

    The built-in keeps its identity; its method definition is made ``METH_VARARGS |
    METH_KEYWORDS`` with ``PyObject_Call`` as its C function and the replacement as its
    ``self``, so a call becomes ``PyObject_Call(replacement, args, kwargs)`` and exceptions
    propagate as from any Python function. ``real`` is an untouched copy of the original.
    """

    def __init__(self, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        self.function = getattr(time, name)
        self.object = _CFunction.from_address(id(self.function))
        definition = self.object.m_ml.contents
        self.copy = _MethodDef()
        ctypes.memmove(
            ctypes.addressof(self.copy), ctypes.addressof(definition), ctypes.sizeof(_MethodDef)
        )
        self.real = _new_cfunction(ctypes.addressof(self.copy), time, "time")
        self.replacement = make(self.real)
        self.saved = (
            definition.ml_meth,
            definition.ml_flags,
            self.object.m_self,
            self.object.vectorcall,
        )

    def apply(self) -> None:
        definition = self.object.m_ml.contents
        self.object.m_self = id(self.replacement)  # kept alive by self.replacement
        self.object.vectorcall = None
        definition.ml_flags = _METH_VARARGS_KEYWORDS
        definition.ml_meth = _PYOBJECT_CALL

    def undo(self) -> None:
        definition = self.object.m_ml.contents
        meth, flags, m_self, vectorcall = self.saved
        definition.ml_meth = meth
        definition.ml_flags = flags
        self.object.m_self = m_self
        self.object.vectorcall = vectorcall


def _clock(
    virtual: Callable[[VirtualTimeHooks], object],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(real: Callable[..., Any]) -> Callable[..., Any]:
        def read() -> object:
            hooks = _active_hooks()
            if hooks is None:
                return real()
            hooks.on_clock_read()
            return virtual(hooks)

        return read

    return make


def _make_sleep(real: Callable[..., Any]) -> Callable[..., Any]:
    def sleep(seconds: float, /) -> None:
        hooks = _active_hooks()
        if hooks is None:
            real(seconds)
            return
        length = float(seconds)
        if length < 0:
            raise ValueError("sleep length must be non-negative")
        hooks.wait(length)

    return sleep


def _monotonic(hooks: VirtualTimeHooks) -> float:
    return hooks.authority.monotonic()


def _nanoseconds(seconds: float) -> int:
    return round(seconds * 1e9)


_BUILTIN_PATCHES = [
    _BuiltinPatch("time", _clock(lambda hooks: hooks.authority.now())),
    _BuiltinPatch("time_ns", _clock(lambda hooks: _nanoseconds(hooks.authority.now()))),
    _BuiltinPatch("monotonic", _clock(_monotonic)),
    _BuiltinPatch("monotonic_ns", _clock(lambda hooks: _nanoseconds(hooks.authority.monotonic()))),
    _BuiltinPatch("perf_counter", _clock(_monotonic)),
    _BuiltinPatch(
        "perf_counter_ns", _clock(lambda hooks: _nanoseconds(hooks.authority.monotonic()))
    ),
    _BuiltinPatch("sleep", _make_sleep),
]

# ``datetime.now``/``utcnow`` read the system clock in C; they are replaced in the type's own
# dict (``date.today`` and ``datetime.today`` call ``time.time``, patched above).
_DATETIME_DICT: dict[str, Any] = gc.get_referents(datetime.datetime.__dict__)[0]
_REAL_NOW = _DATETIME_DICT["now"]
_REAL_UTCNOW = _DATETIME_DICT["utcnow"]


def _now(cls: type[datetime.datetime], tz: datetime.tzinfo | None = None) -> datetime.datetime:
    hooks = _active_hooks()
    if hooks is None:
        return _REAL_NOW.__get__(None, cls)(tz)  # type: ignore[no-any-return]
    hooks.on_clock_read()
    return cls.fromtimestamp(hooks.authority.now(), tz)


def _utcnow(cls: type[datetime.datetime]) -> datetime.datetime:
    hooks = _active_hooks()
    if hooks is None:
        return _REAL_UTCNOW.__get__(None, cls)()  # type: ignore[no-any-return]
    hooks.on_clock_read()
    return cls.fromtimestamp(hooks.authority.now(), datetime.UTC).replace(tzinfo=None)


def _patch_datetime(now: Any, utcnow: Any) -> None:
    _DATETIME_DICT["now"], _DATETIME_DICT["utcnow"] = now, utcnow
    _type_modified(datetime.datetime)


_real_condition_wait = threading.Condition.wait
_real_thread_start = threading.Thread.start


def _condition_wait(self: threading.Condition, timeout: float | None = None) -> bool:
    """``Condition.wait``: a virtual thread's timed wait that nothing ends at once is a sleep."""
    hooks = _hooks
    if timeout is None or hooks is None or threading.get_ident() not in _virtual_threads:
        return _real_condition_wait(self, timeout)
    if _real_condition_wait(self, 0):
        return True
    hooks.wait(max(float(timeout), 0.0))
    return _real_condition_wait(self, 0)


def _thread_start(self: threading.Thread) -> None:
    """``Thread.start``: a thread started by a virtual thread is virtual too."""
    if threading.get_ident() in _virtual_threads:
        run = self.run

        def virtual_run() -> None:
            enter_virtual_thread()
            try:
                run()
            finally:
                _leave_virtual_thread()

        self.run = virtual_run  # type: ignore[method-assign]
    _real_thread_start(self)


@contextmanager
def virtual_time(hooks: VirtualTimeHooks) -> Iterator[None]:
    """Patch every clock and wait for the duration; only virtual threads see the kit's clock."""
    global _hooks
    if _hooks is not None:
        raise KitError("virtual time is already active: run one contract check at a time")
    _hooks = hooks
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)  # no other thread runs while a built-in is half patched
    try:
        for patch in _BUILTIN_PATCHES:
            patch.apply()
        _patch_datetime(classmethod(_now), classmethod(_utcnow))
    finally:
        sys.setswitchinterval(switch_interval)
    threading.Condition.wait = _condition_wait  # type: ignore[method-assign]
    threading.Thread.start = _thread_start  # type: ignore[method-assign]
    try:
        yield
    finally:
        threading.Thread.start = _real_thread_start  # type: ignore[method-assign]
        threading.Condition.wait = _real_condition_wait  # type: ignore[method-assign]
        sys.setswitchinterval(1000.0)
        try:
            for patch in _BUILTIN_PATCHES:
                patch.undo()
            _patch_datetime(_REAL_NOW, _REAL_UTCNOW)
        finally:
            sys.setswitchinterval(switch_interval)
        _hooks = None
        _virtual_threads.clear()
