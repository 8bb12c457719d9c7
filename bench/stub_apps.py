"""The ceilings the mock is measured against, served by the same granian configuration.

``flask_app`` is a static Flask route and ``bare_app`` a bare WSGI function; both answer
``GET /stub/<name>`` with the bytes of ``$BENCH_STUB_DIR/<name>.json``, which ``bench/run.py``
captures from the mock itself, so every server in the table sends the same JSON.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response

__all__ = ["bare_app", "flask_app"]

_STUBS = {
    path.stem: path.read_bytes()
    for path in Path(os.environ.get("BENCH_STUB_DIR", ".")).glob("*.json")
}

flask_app = Flask("bench_stub")


@flask_app.get("/stub/<name>")
def stub(name: str) -> Response:
    """The stored JSON, as it is."""
    return Response(_STUBS[name], mimetype="application/json")


def bare_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The same answer with nothing between the server and the bytes."""
    body = _STUBS.get(environ["PATH_INFO"].removeprefix("/stub/"))
    if body is None:
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response("200 OK", headers)
    return [body]
