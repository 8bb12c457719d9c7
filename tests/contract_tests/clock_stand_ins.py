"""Stand-ins for the kit's clock and mock, to test the command clock on its own.

``RecordingAuthority`` is a ClockAuthority that records every advance and refuses to go past
a limit (as the kit refuses past an hour). ``SlowLoopbackServer`` is an HTTP/1.0 server on
loopback that takes real time to answer and notes the virtual time of every request; its
``idle()`` is what the authority's ``settle()`` waits for: no connection waiting to be
accepted and no request being answered.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable

__all__ = ["START_MONOTONIC", "START_REALTIME", "RecordingAuthority", "SlowLoopbackServer"]

START_REALTIME = 1_768_473_000.0  # 2026-01-15T10:30:00Z, the kit's start time
START_MONOTONIC = 1_000.0


class RecordingAuthority:
    """A ClockAuthority on plain numbers: moves only when advanced, records each advance."""

    def __init__(self, *, limit: float = 3600.0) -> None:
        self.elapsed = 0.0
        self.limit = limit
        self.advances: list[float] = []
        self.settles = 0
        self.settle_hook: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def now(self) -> float:
        return START_REALTIME + self.elapsed

    def monotonic(self) -> float:
        return START_MONOTONIC + self.elapsed

    def settle(self) -> None:
        if self.settle_hook is not None:
            self.settle_hook()
        with self._lock:
            self.settles += 1

    def advance(self, seconds: float) -> bool:
        self.settle()
        with self._lock:
            if self.elapsed + seconds > self.limit:
                return False
            self.advances.append(seconds)
            self.elapsed += seconds
            return True


class SlowLoopbackServer:
    """Answers ``GET`` with ``ok`` after ``latency`` real seconds, one connection at a time."""

    def __init__(self, authority: RecordingAuthority, latency: float) -> None:
        self.authority = authority
        self.latency = latency
        self.request_times: list[float] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self._lock = threading.Lock()
        self._busy = False
        self._closing = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        authority.settle_hook = self.wait_until_idle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/"

    def idle(self) -> bool:
        with self._lock:
            waiting, _, _ = select.select([self._listener], [], [], 0)
            return not self._busy and not waiting

    def wait_until_idle(self) -> None:
        while not self.idle():
            time.sleep(0.0005)

    def close(self) -> None:
        self._closing = True
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._closing:
            waiting, _, _ = select.select([self._listener], [], [], 0.02)
            if not waiting:
                continue
            with self._lock:
                try:  # non-blocking: a connection reset before it is accepted leaves the queue
                    connection, _ = self._listener.accept()
                except BlockingIOError:
                    continue
                self._busy = True
            connection.settimeout(10)
            try:
                self._answer(connection)
            except OSError:
                pass  # the client went away; the next one is served
            finally:
                connection.close()
                with self._lock:
                    self._busy = False

    def _answer(self, connection: socket.socket) -> None:
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                return
            received += chunk
        self.request_times.append(self.authority.elapsed)
        time.sleep(self.latency)
        connection.sendall(
            b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\nok"
        )
