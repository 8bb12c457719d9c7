"""A stand-in for the kit's command clock, private to the tests of the syscall tracer and of
the clock-following detector: the protocol server (``HELLO``/``WAIT``/``ADVANCE``), the shared
clock file, and a tiny HTTP server that answers only when the clock settles it, so every test
is deterministic. The kit's real server is ``contract_tests/command_clock.py`` (another branch);
these tests exercise the tracer against the protocol, not against that implementation."""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["GO_CLIENTS", "LoopbackPoller", "StandInClock", "build_go_client", "served_clock"]

START_REALTIME_NS = 1_750_000_000 * 1_000_000_000
START_MONOTONIC_NS = 1_000 * 1_000_000_000


@dataclass
class StandInClock:
    """A ClockAuthority over integer nanoseconds, serving the command protocol."""

    directory: Path
    stop_after_ns: int | None = None
    on_settle: Callable[[], None] = lambda: None
    on_advance: Callable[[], None] = lambda: None
    realtime_ns: int = START_REALTIME_NS
    monotonic_ns: int = START_MONOTONIC_NS
    advances: list[int] = field(default_factory=list)
    waits: int = 0
    hellos: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.socket_path = self.directory / "clock.sock"
        self.shm_path = self.directory / "clock.shm"
        self._publish()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.socket_path))
        self._listener.listen(8)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def environment(self) -> dict[str, str]:
        return {"RMK_CLOCK_SOCKET": str(self.socket_path), "RMK_CLOCK_SHM": str(self.shm_path)}

    # ClockAuthority
    def now(self) -> float:
        return self.realtime_ns / 1e9

    def monotonic(self) -> float:
        return self.monotonic_ns / 1e9

    def settle(self) -> None:
        self.on_settle()

    def advance(self, seconds: float) -> bool:
        return self.advance_ns(round(seconds * 1e9))

    def advance_ns(self, step: int) -> bool:
        self.settle()
        with self.lock:
            elapsed = self.monotonic_ns + step - START_MONOTONIC_NS
            if self.stop_after_ns is not None and elapsed > self.stop_after_ns:
                return False
            self.advances.append(step)
            self.realtime_ns += step
            self.monotonic_ns += step
            self._publish()
        self.on_advance()
        return True

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _publish(self) -> None:
        data = struct.pack("<qq", self.realtime_ns, self.monotonic_ns)
        if not self.shm_path.exists():
            self.shm_path.write_bytes(data)
            return
        fd = os.open(self.shm_path, os.O_WRONLY)
        try:
            os.pwrite(fd, data, 0)
        finally:
            os.close(fd)

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rwb", buffering=0) as stream:
            for raw in stream:
                words = raw.decode().split()
                if words[:1] == ["HELLO"]:
                    self.hellos.append(int(words[1]))
                    reply = "OK"
                elif words == ["WAIT"]:
                    self.waits += 1
                    self.settle()
                    reply = "SETTLED"
                elif words[:1] == ["ADVANCE"]:
                    reply = "OK" if self.advance_ns(int(words[1])) else "STOP"
                else:
                    reply = "ERROR"
                stream.write(reply.encode() + b"\n")


@contextlib.contextmanager
def served_clock(directory: Path, **options: object) -> Iterator[StandInClock]:
    clock = StandInClock(directory, **options)  # type: ignore[arg-type]
    try:
        yield clock
    finally:
        clock.close()


class LoopbackPoller:
    """An HTTP server on loopback that answers only inside ``settle()``: ``GET /status`` says
    ``pending`` ``pending_polls`` times, then ``completed``; each request is recorded with the
    virtual monotonic time at which it was answered."""

    def __init__(
        self,
        clock: StandInClock,
        pending_polls: int,
        on_request: Callable[[], None] = lambda: None,
        on_response: Callable[[], None] = lambda: None,
    ) -> None:
        self.clock = clock
        self.on_request = on_request
        self.on_response = on_response
        self._serving = False
        self.pending_polls = pending_polls
        self.request_times_ns: list[int] = []
        self.request_real_times: list[float] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._buffers: dict[socket.socket, bytes] = {}
        clock.on_settle = self.settle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/status"

    def settle(self, wait: float = 0.0) -> None:
        """Answer until nothing is pending: no connection to accept, no request bytes unread.

        Called by the clock when the client is idle, so whatever it sent is already here."""
        while True:
            events = self._selector.select(timeout=wait)
            if not events:
                return
            for key, _ in events:
                if key.fileobj is self._listener:
                    with contextlib.suppress(BlockingIOError):
                        connection, _ = self._listener.accept()
                        self._selector.register(connection, selectors.EVENT_READ, None)
                        self._buffers[connection] = b""
                    continue
                self._read(key.fileobj)  # type: ignore[arg-type]

    def _read(self, connection: socket.socket) -> None:
        try:
            chunk = connection.recv(65536)
        except ConnectionError:
            chunk = b""
        if not chunk:
            self._selector.unregister(connection)
            del self._buffers[connection]
            connection.close()
            return
        buffer = self._buffers[connection] + chunk
        while b"\r\n\r\n" in buffer:
            _, buffer = buffer.split(b"\r\n\r\n", 1)
            self.on_request()
            self.request_times_ns.append(self.clock.monotonic_ns)
            self.request_real_times.append(time.monotonic())
            done = len(self.request_times_ns) > self.pending_polls
            body = b'{"status": "completed"}' if done else b'{"status": "pending"}'
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            self.on_response()
        self._buffers[connection] = buffer

    def serve_in_background(self) -> None:
        """Answer all the time, as a server that no clock drives (for a client under no tracer)."""
        self._serving = True
        self.clock.on_settle = lambda: None

        def loop() -> None:
            while self._serving:
                self.settle(wait=0.05)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._serving:
            self._serving = False
            self._thread.join(5)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()


GO_CLIENTS = Path(__file__).parent / "go_clients"


def build_go_client(name: str, output_dir: Path) -> Path:
    """Build ``go_clients/<name>`` with Debian's ``go``; the build cache is the user's (or
    ``$GOCACHE``), so a second build is quick; bounded to two minutes."""
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("`go` is not installed: run `make setup` (Debian package golang-go)")
    environment = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", CGO_ENABLED="0")
    environment.setdefault("GOCACHE", str(Path.home() / ".cache" / "go-build"))
    output = output_dir / name
    subprocess.run(
        [go, "build", "-o", str(output), "."],
        cwd=GO_CLIENTS / name,
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return output
