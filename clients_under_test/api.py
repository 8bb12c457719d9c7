"""The polling guide's ``api(method, path)`` helper, which the guide calls but does not show.

It sends the ``X-API-Key`` header to ``base_url + path`` and returns the decoded JSON
envelope (``{"success": ..., "data": ...}``), whatever the status code, as the guide's
callers expect: they read ``["data"]`` straight away.
"""

from __future__ import annotations

from typing import Any

import requests

__all__ = ["REQUEST_TIMEOUT_SECONDS", "api"]

#: Seconds to wait for one HTTP response (not the polling deadline).
REQUEST_TIMEOUT_SECONDS = 30


def api(method: str, path: str, *, base_url: str, api_key: str, json: Any = None) -> Any:
    """Call the Reports API; the response's JSON body."""
    response = requests.request(
        method,
        f"{base_url}{path}",
        headers={"X-API-Key": api_key},
        json=json,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    return response.json()
