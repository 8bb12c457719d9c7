"""The kit's one loopback server: the mock's WSGI app behind a single-threaded selector loop.

Every client (in-process Python, asyncio, a command) talks to the mock over real sockets, so
what a client does on the wire (``timeout=0``, bad URLs, bodies, keep-alive) behaves as it
really does. One thread owns the app: it accepts, reads, answers, and runs the kit's own work
(:meth:`LoopbackServer.call`: control requests, clock advances) only when the server is
*settled*: no connection waiting to be accepted, no connection with unread bytes (a select
with timeout 0) and no request being answered. A caller that finds the server settled runs
its work at once in its own thread, holding the app's lock (measured: it saves two thread
switches per sleep, which dominate on a loaded machine); otherwise the loop runs it. So a client's sleep, which settles first,
always comes after every request the client sent before it, and the mock's state is only
ever touched by this one thread.

HTTP/1.1 is parsed by ``h11``; each answered request is reported to ``on_answer`` in the loop
thread, where the mock answered and before a fault spoils the answer (a ``drop`` closes the
connection instead of writing it).
"""

from __future__ import annotations

import _thread
import collections
import contextlib
import io
import selectors
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import unquote_to_bytes, urlsplit

import h11

__all__ = ["Answer", "LoopbackServer"]

T = TypeVar("T")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: Real seconds the loop waits for a client to take a large answer before dropping it.
_SEND_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Answer:
    """A request the mock answered: ``status`` 0 and ``dropped`` when a fault closed it."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes
    dropped: bool = False


class _Work(Generic[T]):
    """A function to run in the loop thread once settled; the caller waits on a raw lock (a
    ``_thread`` lock is never virtualised, whichever thread waits on it)."""

    def __init__(self, function: Callable[[], T]) -> None:
        self.function = function
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.result: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.function()
        except BaseException as error:  # handed back to the calling thread
            self.error = error
        finally:
            self.done.release()


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.protocol = h11.Connection(h11.SERVER)
        self.request: h11.Request | None = None
        self.body: list[bytes] = []


class LoopbackServer:
    """Serves ``app`` on ``127.0.0.1`` from one thread; see the module docstring."""

    def __init__(self, app: WsgiApp, on_answer: Callable[[Answer], None]) -> None:
        self._app = app
        self._on_answer = on_answer
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._work: collections.deque[_Work[Any]] = collections.deque()
        #: Held by whichever thread uses the app: the loop while it answers, or a caller of
        #: :meth:`call` that found the server settled.
        self._owner = _thread.allocate_lock()
        self._closing = False
        self._thread = threading.Thread(
            target=self._serve, name="contract-kit-loopback", daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        """Where clients reach the mock."""
        return f"http://127.0.0.1:{self.port}"

    def call(self, function: Callable[[], T]) -> T:
        """Run ``function`` once the server is settled, with the app to itself; its result.

        Safe from any thread. When the server is already settled (the usual case: a client
        sleeps after reading its last answer), ``function`` runs at once in the calling
        thread, holding the app's lock, so a sleep costs no thread switch; otherwise it is
        handed to the loop, which runs it when settled.
        """
        if threading.current_thread() is self._thread:  # the ident alone is reused after close
            return function()
        if self._closing:
            raise RuntimeError("the kit's loopback server is closed")
        if not self._work and self._owner.acquire(blocking=False):
            try:
                if self._settled():
                    return function()
            finally:
                self._owner.release()
        work = _Work(function)
        self._work.append(work)
        self._wake_writer.send(b"\0")
        work.done.acquire()
        if work.error is not None:
            raise work.error
        return work.result  # type: ignore[return-value]

    def _settled(self) -> bool:
        """Nothing to accept, nothing unread (checked with the app's lock held)."""
        return all(key.fileobj is self._wake_reader for key, _ in self._selector.select(0))

    def settle(self) -> None:
        """Return once every request sent so far has been answered."""
        self.call(lambda: None)

    def close(self) -> None:
        """Stop the loop and close every socket."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")
        self._thread.join(5)
        for key in list(self._selector.get_map().values()):
            with contextlib.suppress(OSError):
                key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()
        self._wake_writer.close()

    # --- the loop -------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._closing:
            events = self._selector.select(timeout=0 if self._work else None)
            with self._owner:
                for key, _mask in events:
                    if key.fileobj is self._listener:
                        self._accept()
                    elif key.fileobj is self._wake_reader:
                        with contextlib.suppress(BlockingIOError):
                            self._wake_reader.recv(4096)
                    else:
                        self._read(key.data)
                if not events and self._work:
                    # Settled: nothing to accept, nothing unread, nothing being answered.
                    self._work.popleft().run()
        for work in list(self._work):
            work.error = RuntimeError("the kit's loopback server closed")
            work.done.release()

    def _accept(self) -> None:
        while True:
            try:
                sock, _address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._selector.register(sock, selectors.EVENT_READ, _Connection(sock))

    def _close(self, connection: _Connection) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        with contextlib.suppress(OSError):
            connection.sock.close()

    def _read(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(connection)
            return
        connection.protocol.receive_data(data)
        self._drive(connection)

    def _drive(self, connection: _Connection) -> None:
        protocol = connection.protocol
        while True:
            try:
                event = protocol.next_event()
            except h11.RemoteProtocolError as error:
                self._refuse(connection, error)
                return
            if event is h11.NEED_DATA:
                if protocol.they_are_waiting_for_100_continue:
                    self._send(
                        connection,
                        protocol.send(h11.InformationalResponse(status_code=100, headers=[])),
                    )
                return
            if isinstance(event, h11.Request):
                connection.request, connection.body = event, []
            elif isinstance(event, h11.Data):
                connection.body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                if not self._answer(connection):
                    return
                if protocol.our_state is h11.MUST_CLOSE or protocol.their_state is h11.MUST_CLOSE:
                    self._close(connection)
                    return
                try:
                    protocol.start_next_cycle()
                except h11.LocalProtocolError:
                    self._close(connection)
                    return
            else:  # ConnectionClosed, or PAUSED
                self._close(connection)
                return

    def _refuse(self, connection: _Connection, error: h11.RemoteProtocolError) -> None:
        """A request that is not HTTP/1.1: 400 when the protocol still allows an answer."""
        body = (
            b'{"success": false, "error": "malformed HTTP request: '
            + str(error).encode("ascii", "replace").replace(b'"', b"'")
            + b'"}'
        )
        with contextlib.suppress(h11.LocalProtocolError):
            protocol = connection.protocol
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            status = error.error_status_hint
            self._send(
                connection,
                protocol.send(h11.Response(status_code=status, headers=headers))
                + (protocol.send(h11.Data(data=body)) or b"")
                + (protocol.send(h11.EndOfMessage()) or b""),
            )
        self._close(connection)

    def _send(self, connection: _Connection, data: bytes | None) -> bool:
        if not data:
            return True
        sock = connection.sock
        try:
            sock.settimeout(_SEND_TIMEOUT_SECONDS)
            sock.sendall(data)
            sock.setblocking(False)
        except OSError:
            self._close(connection)
            return False
        return True

    def _answer(self, connection: _Connection) -> bool:
        """Run the app on the request; report it; write the answer. False: connection closed."""
        request = connection.request
        assert request is not None
        environ = self._environ(connection, request, b"".join(connection.body))
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [(status, headers)]
            return lambda _data: None

        iterable = self._app(environ, start_response)
        try:
            body = b"".join(bytes(chunk) for chunk in iterable)
        except OSError:  # the mock dropped the connection (an injected fault)
            self._on_answer(Answer(method, path, 0, {}, b"", dropped=True))
            self._drop_after_status_line(connection, started)
            return False
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        status_line, headers = started[0]
        status = int(status_line.split()[0])
        self._on_answer(
            Answer(method, path, status, {name.lower(): value for name, value in headers}, body)
        )
        protocol = connection.protocol
        try:
            head = protocol.send(
                h11.Response(
                    status_code=status,
                    headers=headers,
                    reason=status_line.partition(" ")[2].encode("latin-1"),
                )
            )
            payload = (head or b"") + (protocol.send(h11.Data(data=body)) if body else b"") or b""
            payload += protocol.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError:
            self._close(connection)
            return False
        return self._send(connection, payload)

    def _drop_after_status_line(
        self, connection: _Connection, started: list[tuple[str, list[tuple[str, str]]]]
    ) -> None:
        """Close the connection once the status line and headers are out, as the served mock
        (granian) does: the client sees a response cut short, never a connection closed
        before any answer, which HTTP libraries (aiohttp, Go's net/http) silently re-send."""
        if started:
            status_line, headers = started[0]
            with contextlib.suppress(h11.LocalProtocolError):
                head = connection.protocol.send(
                    h11.Response(
                        status_code=int(status_line.split()[0]),
                        headers=headers,
                        reason=status_line.partition(" ")[2].encode("latin-1"),
                    )
                )
                if head:
                    with contextlib.suppress(OSError):
                        connection.sock.sendall(head)
        self._close(connection)

    def _environ(
        self, connection: _Connection, request: h11.Request, body: bytes
    ) -> dict[str, Any]:
        target = request.target.decode("latin-1")
        parts = urlsplit(target)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method.decode("ascii"),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": "HTTP/" + request.http_version.decode("ascii"),
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            # No "werkzeug.socket": the mock's ``drop`` fault then cannot shut the connection
            # before its status line, and the kit cuts the answer after the headers, as the
            # served mock (granian) does (see _drop_after_status_line).
        }
        for raw_name, raw_value in request.headers:
            name, value = (
                raw_name.decode("latin-1").upper().replace("-", "_"),
                raw_value.decode("latin-1"),
            )
            if name == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif name == "CONTENT_LENGTH":
                environ["CONTENT_LENGTH"] = value
            else:
                key = f"HTTP_{name}"
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        if "CONTENT_LENGTH" not in environ and body:
            environ["CONTENT_LENGTH"] = str(len(body))
        return environ
