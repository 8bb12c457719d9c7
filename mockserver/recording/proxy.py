"""``mockserver record``: a pass-through proxy that records every report's lifecycle.

Each request is sent on to the upstream (a live deployment, or the mock) as it came: the same
method, path, query, headers (but the hop-by-hop ones, and ``Host``, which names the
upstream) and body; the answer comes back as it came: status, headers and the body's bytes,
still encoded if the upstream encoded them. Then :class:`LifecycleRecorder` looks at it.
Nothing is retried or changed; only an upstream that does not answer (refuses, drops the
connection, or cuts its answer short) gets the proxy's own ``502`` in the API's error
envelope, saying which upstream, what happened and what to do (:func:`upstream_failure`);
the recorder never sees that exchange, so nothing recorded before is touched.
"""

from __future__ import annotations

import gzip
import http.client
import json
import signal
import socket
import sys
import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote, urlsplit

import requests
import urllib3

from mockserver.process_guard import PortInUse, check_port_free
from mockserver.recording.recorder import LifecycleRecorder

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "RecordingError",
    "RecordingProxy",
    "recording_proxy",
    "run_recording_proxy",
    "upstream_failure",
]

#: Headers that belong to one connection, not to the request (RFC 9110 7.6.1), and the
#: ones the proxy's HTTP stack writes itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_CONNECT_TIMEOUT = 10.0
_READ_TIMEOUT = 120.0  # the mock's slowest injected latency is far shorter


class RecordingError(Exception):
    """A recording proxy that cannot start (a bad upstream URL, a port in use)."""


def _upstream_base(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RecordingError(
            f"--upstream {url!r} is not an http(s) URL: give the API's base, e.g. "
            "https://api.example.com or http://127.0.0.1:8080"
        )
    return url.rstrip("/")


def _decoded(body: bytes, encoding: str | None) -> bytes:
    """The body the recorder reads: decompressed if the upstream gzipped or deflated it."""
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error):
        return b""
    return body


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and every exception it wraps (causes, contexts, urllib3's reasons, args)."""
    found: list[BaseException] = []
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or any(current is seen for seen in found):
            continue
        found.append(current)
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(current.args)
    return found


def upstream_failure(
    upstream: str, method: str, target: str, error: BaseException, *, status: int | None = None
) -> str:
    """What the proxy's 502 says: which upstream, what happened to the exchange, what to do.

    ``status`` is the upstream's status when its answer was cut short after the status line.
    """
    causes = _causes(error)

    def seen(*kinds: type[BaseException]) -> bool:
        return any(isinstance(cause, kinds) for cause in causes)

    exchange = f"{method} {target}"
    retry = "retry it, or look at the upstream's logs"
    if method not in ("GET", "HEAD"):
        retry = f"it may have taken effect there: check before you retry ({retry})"
    if status is not None:
        timed_out = seen(TimeoutError, urllib3.exceptions.ReadTimeoutError)
        what = (
            f"stopped sending its answer to {exchange} for {_READ_TIMEOUT:g} s"
            if timed_out
            else f"closed the connection part-way through its answer to {exchange}"
        )
        what += f" (status {status}, the body incomplete); {retry}"
    elif seen(requests.ConnectTimeout):
        what = (
            f"did not accept a connection within {_CONNECT_TIMEOUT:g} s for {exchange}: "
            "check --upstream and that the API is reachable"
        )
    elif seen(requests.exceptions.SSLError):
        what = f"failed the TLS handshake for {exchange}: check --upstream's scheme and host"
    elif seen(urllib3.exceptions.NameResolutionError, socket.gaierror):
        what = f"has a host name that does not resolve ({exchange}): check --upstream"
    elif seen(ConnectionRefusedError):
        what = (
            f"refused the connection for {exchange} (nothing listens there): check --upstream "
            "and that the API is running"
        )
    elif seen(requests.ReadTimeout, TimeoutError):
        what = f"did not answer {exchange} within {_READ_TIMEOUT:g} s; {retry}"
    elif seen(http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        what = f"closed the connection without answering {exchange}; {retry}"
    else:
        what = f"did not answer {exchange} ({type(error).__name__}: {error}); {retry}"
    return (
        f"Recording proxy: the upstream {upstream} {what}. The proxy answered this 502 in its "
        "place and recorded nothing of it; the scenario files recorded so far are kept."
    )


def _refusal(message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps({"success": False, "error": message}).encode()
    return 502, [("Content-Type", "application/json")], body


class RecordingProxy:
    """The WSGI application: pass through, then record."""

    def __init__(self, upstream: str, recorder: LifecycleRecorder) -> None:
        self.upstream = _upstream_base(upstream)
        self.recorder = recorder
        self._local = threading.local()  # one requests session (connection pool) per thread

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.clear()  # send the client's headers, not requests' defaults
            session.trust_env = False  # no proxy settings or .netrc: the request goes as it came
            self._local.session = session
        return session

    def forward(
        self, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request upstream; its status, headers and raw body."""
        sent = {name: value for name, value in headers if name.lower() not in _HOP_BY_HOP}
        try:
            answer = self._session().request(
                method,
                self.upstream + target,
                headers=sent,
                data=body or None,
                stream=True,
                allow_redirects=False,
                timeout=(_CONNECT_TIMEOUT, _READ_TIMEOUT),
            )
        except requests.RequestException as error:
            return _refusal(upstream_failure(self.upstream, method, target, error))
        try:
            raw = answer.raw.read(decode_content=False)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            answer.close()  # the connection is spoilt: never reuse it
            cut = upstream_failure(self.upstream, method, target, error, status=answer.status_code)
            return _refusal(cut)
        kept = [
            (name, value)
            for name, value in answer.raw.headers.items()
            if name.lower() not in _HOP_BY_HOP
        ]
        length = answer.raw.headers.get("Content-Length") if method == "HEAD" else str(len(raw))
        if length is not None and answer.status_code not in (204, 304):
            kept.append(("Content-Length", length))
        return answer.status_code, kept, raw

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        from werkzeug.wrappers import Request

        request = Request(environ)
        target = _raw_target(environ)
        body = request.get_data(cache=False)
        status, headers, raw = self.forward(request.method, target, request.headers.items(), body)
        start_response(f"{status} {_reason(status)}", headers)
        encoding = next((v.lower() for n, v in headers if n.lower() == "content-encoding"), None)
        try:
            self.recorder.exchanged(
                request.method, request.path, body, status, _decoded(raw, encoding)
            )
        except Exception as error:  # the client has its answer whatever the recorder thinks
            print(f"recorder: {request.method} {request.path}: {error!r}", file=sys.stderr)
        return [raw]


def _raw_target(environ: WSGIEnvironment) -> str:
    """The request target as the client wrote it (no percent-decoding on the way through)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw
    if isinstance(raw, str) and "://" in raw:  # absolute form: keep the path and the query
        parts = urlsplit(raw)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path = quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
    query = environ.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def fetch_status(url: str) -> int | None:
    """GET a signed document URL (no key: the signature is the authorisation); its status."""
    try:
        with requests.get(url, timeout=(_CONNECT_TIMEOUT, _READ_TIMEOUT), stream=True) as got:
            for _ in got.iter_content(64 * 1024):
                pass
            return got.status_code
    except requests.RequestException:
        return None


@dataclass
class RunningProxy:
    """A recording proxy serving on loopback (from :func:`recording_proxy`)."""

    base_url: str
    recorder: LifecycleRecorder


@contextmanager
def recording_proxy(
    upstream: str,
    out_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    fetch_documents: bool = True,
    log: TextIO | None = None,
) -> Iterator[RunningProxy]:
    """A recording proxy in this process for the ``with`` block (threads, Werkzeug)."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietRequestHandler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    recorder = LifecycleRecorder(
        _upstream_base(upstream),
        out_dir,
        fetch_document=fetch_status if fetch_documents else None,
        log=log,
    )
    proxy = RecordingProxy(upstream, recorder)
    try:
        check_port_free(host, port)  # the same one-line refusal as `mockserver serve`
        server = make_server(host, port, proxy, threaded=True, request_handler=QuietRequestHandler)
    except PortInUse as error:
        raise RecordingError(str(error)) from None
    except OSError as error:
        raise RecordingError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    thread = threading.Thread(target=server.serve_forever, name="recording-proxy", daemon=True)
    thread.start()
    try:
        yield RunningProxy(f"http://{host}:{server.server_port}", recorder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        recorder.close()


def run_recording_proxy(
    upstream: str, out_dir: Path, *, host: str, port: int, fetch_documents: bool, out: TextIO
) -> int:
    """``mockserver record``: serve until interrupted (Ctrl-C or SIGTERM); the exit status."""
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, request_stop)
    try:
        with recording_proxy(
            upstream, out_dir, host=host, port=port, fetch_documents=fetch_documents, log=out
        ) as running:
            print(f"Recording proxy listening on {running.base_url}", flush=True, file=out)
            print(
                f"  passing every request to {running.recorder.upstream}; scenario files go "
                f"to {out_dir}/ (replay: mockserver serve --scenario-file {out_dir})",
                flush=True,
                file=out,
            )
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        written = running.recorder.written
        print(f"Recorded {len(written)} scenario file(s) in {out_dir}/", flush=True, file=out)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
