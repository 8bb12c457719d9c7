"""The served mock's front door: an ASGI app that reads a request whole, then runs Flask.

Under granian's WSGI interface a request holds one of the worker's Python threads from its
first byte: a client that announces ``Content-Length: 100`` and sends one byte holds that
thread until it disconnects, and with one thread per worker every other client (``/healthz``
included) waits behind it. Here granian runs this ASGI app on its event loop instead, which
holds no thread while a body trickles in:

- the body is read on the event loop, bounded in time (:attr:`FrontLimits.body_timeout`:
  then a 408) and in size (:attr:`FrontLimits.max_body_bytes`: a 413 as soon as a declared
  ``Content-Length`` or the chunks received so far pass it, before the rest is read);
- only a request that arrived whole is handed to the Flask app, on a pool of
  :attr:`FrontLimits.threads` threads; document downloads (``/storage/``, whose first
  request renders a PDF or DOCX) run on a pool of their own
  (:attr:`FrontLimits.download_threads`), so parallel downloads never take the threads
  polls need;
- a latency fault (``X-Mock-Faults: latency=5000``) waits on the event loop, not in a thread
  (:data:`DEFERRED_DELAY_KEY`): the API answers at once and its answer is sent when the
  latency has passed, so a slow report delays only its own client;
- a request without a body is not awaited at all, and the lean poll
  (:mod:`mockserver.web.fast_poll`) of a ``memory://`` worker, which never waits for I/O,
  is answered right on the event loop (:data:`InlineAnswerer`), saving the hop to a thread;
  on ``sqlite://`` the poll is read and answered on the loop too, and sent once its journal
  entry is committed, in a batch with the other polls' entries by one journal thread;
- an answer whose body breaks off (the ``drop`` fault) closes the connection after the
  status line and headers, as granian's WSGI interface did.

Every refusal of its own goes out in the documented envelope ``{"success": false, ...}``.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = [
    "DEFERRED_DELAY_KEY",
    "BodyRefused",
    "BufferedWsgiFront",
    "FrontLimits",
    "InlineAnswer",
    "InlineAnswerer",
    "wsgi_environ",
]

#: WSGI environ key holding a list: the app appends seconds to wait before the answer is
#: sent (the fault injector's latency). Absent outside this front: the app sleeps itself.
DEFERRED_DELAY_KEY = "mockserver.deferred_delays"

_DOWNLOAD_PREFIX = "/storage/"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: A whole answer worked out on the event loop: status, ASGI headers, body.
InlineAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]
#: Given a bodiless request's environ, its whole answer when it can be worked out on the
#: event loop with no I/O to wait for (the lean poll on ``memory://``), or an awaitable of it
#: when the loop only has to wait for a write another thread makes (the lean poll on
#: ``sqlite://``: its journal entry, in a batch); ``None`` (at once or awaited) sends the
#: request to the thread pool as usual (and the environ, with anything the answerer put in
#: it, goes along).
InlineAnswerer = Callable[[dict[str, Any]], InlineAnswer | Awaitable[InlineAnswer | None] | None]


@dataclass(frozen=True)
class FrontLimits:
    """What one worker's front door allows."""

    max_body_bytes: int = 1024 * 1024
    body_timeout: float = 10.0  # seconds for a whole request body to arrive
    threads: int = 4  # Python threads running the Flask app
    download_threads: int = 2  # Python threads running document downloads (/storage/)


class BodyRefused(Exception):
    """A request body the front refuses before the app sees it; carries the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _header_text(value: bytes) -> str:
    # PEP 3333: header values are the raw bytes as latin-1, so a non-ASCII byte reaches the
    # app as it was sent (and the app can refuse it) instead of being dropped here.
    return value.decode("latin-1")


def wsgi_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP ``scope`` whose body was read whole."""
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        DEFERRED_DELAY_KEY: [],
    }
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        if name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue  # the body is whole: its length is CONTENT_LENGTH above
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        value = _header_text(raw_value)
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _has_body(scope: Scope) -> bool:
    """Whether the request may carry a body: a non-zero ``Content-Length`` or any
    ``Transfer-Encoding``. A request without either has none (RFC 9112, 6.3)."""
    for name, value in scope.get("headers", ()):
        lowered = name.lower()
        if lowered == b"transfer-encoding" or (
            lowered == b"content-length" and value.strip() != b"0"
        ):
            return True
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 20 else None
    return None


class _Answer:
    """What the WSGI app answered: status, headers and the whole body (or where it broke)."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.broken = False  # the body raised: close the connection after the headers

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        self.status = int(status.split(" ", 1)[0])
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]
        return self.chunks.append


def _run_wsgi(app: WSGIApplication, environ: dict[str, Any]) -> _Answer:
    answer = _Answer()
    body: Iterable[bytes] = app(environ, answer.start_response)
    try:
        for chunk in body:
            if chunk:
                answer.chunks.append(chunk)
    except OSError:  # the drop fault's body: it breaks off instead of yielding
        answer.broken = True
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return answer


class BufferedWsgiFront:
    """ASGI app serving ``wsgi_app`` to whole requests only (see the module docstring)."""

    def __init__(
        self,
        wsgi_app: WSGIApplication,
        limits: FrontLimits,
        *,
        inline: InlineAnswerer | None = None,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.limits = limits
        #: Answers some bodiless requests on the event loop, without a thread (see
        #: :data:`InlineAnswerer`); ``None`` when every request goes to the pool.
        self.inline = inline
        self._pool = ThreadPoolExecutor(max_workers=limits.threads, thread_name_prefix="mock")
        self._download_pool = ThreadPoolExecutor(
            max_workers=limits.download_threads, thread_name_prefix="mock-download"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets, and lifespan is off (granian's ASGINL interface)
        try:
            if _has_body(scope):
                read = self._read_body(scope, receive)
                body = await asyncio.wait_for(read, self.limits.body_timeout)
            else:  # nothing to wait for: no task, no timer
                body = b""
        except BodyRefused as refused:
            await _send_envelope(send, refused.status, refused.message)
            return
        except TimeoutError:
            message = (
                f"The request body did not arrive within {self.limits.body_timeout:g} s; "
                "send the whole body at once (the connection is closed)"
            )
            await _send_envelope(send, 408, message, close=True)
            return
        if body is None:
            return  # the client went away before its body arrived
        environ = wsgi_environ(scope, body)
        if self.inline is not None and not body:
            quick = self.inline(environ)
            if inspect.isawaitable(quick):
                quick = await quick
            if quick is not None:
                status, headers, content = quick
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": content})
                return
        loop = asyncio.get_running_loop()
        pool = self._download_pool if scope["path"].startswith(_DOWNLOAD_PREFIX) else self._pool
        answer = await loop.run_in_executor(pool, _run_wsgi, self.wsgi_app, environ)
        delay = sum(environ[DEFERRED_DELAY_KEY])
        if delay > 0:
            await asyncio.sleep(delay)
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        if answer.broken:
            # Headers go out with an empty first part of the body, and the body never ends:
            # granian closes the connection mid-answer (not a 500), as the drop fault means.
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            return
        await send({"type": "http.response.body", "body": b"".join(answer.chunks)})

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        limit = self.limits.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            raise BodyRefused(413, _too_large(limit))
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            part = message.get("body", b"")
            size += len(part)
            if size > limit:
                raise BodyRefused(413, _too_large(limit))
            parts.append(part)
            if not message.get("more_body", False):
                return b"".join(parts)


def _too_large(limit: int) -> str:
    from mockserver.core import messages

    return messages.REQUEST_BODY_TOO_LARGE.format(limit=limit)


async def _send_envelope(send: Send, status: int, message: str, *, close: bool = False) -> None:
    body = json.dumps({"success": False, "error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
