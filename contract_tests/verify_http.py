"""HTTP for provider verification: one live deployment, one key that is never shown.

:class:`ProviderHttp` sends the API's requests with ``X-API-Key`` and the downloads without
it (a signed URL may point at another host, which must not see the key); every
:class:`Answer` it returns has the key scrubbed from its text, and a host that cannot be
reached is a :class:`ProviderUnreachable` whose message and repr never hold the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from contract_tests.drift import mask_key
from contract_tests.errors import KitError, UsageError

__all__ = ["Answer", "KeyRejected", "ProviderHttp", "ProviderUnreachable", "check_base_url"]

API_KEY_HEADER = "X-API-Key"


class ProviderUnreachable(KitError):
    """Raised when the deployment does not answer (refused, timed out, not HTTP); the message
    names the host and says what to check, never the key."""


class KeyRejected(UsageError):
    """Raised when the deployment answers 401 to the key verification was given: nothing can
    be verified with it (a usage error, not drift)."""


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash; a :class:`UsageError` unless it is http(s)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--base-url {base_url!r} is not an http(s) URL; pass e.g. https://api.example.com"
        )
    return base_url.rstrip("/")


@dataclass(frozen=True)
class Answer:
    """One response: status, headers, raw bytes, the JSON body (``None`` when it is not
    JSON) and ``where`` it came from (``GET /api/reports/rpt_1``)."""

    where: str
    status: int
    content: bytes
    body: Any
    is_json: bool
    text: str  # the body as text, key scrubbed, for evidence

    def evidence(self) -> str:
        """The response as a drift report shows it: status and body."""
        return f"HTTP {self.status} {self.text}"


class ProviderHttp:
    """Requests to one deployment with one key."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30.0) -> None:
        self.base_url = check_base_url(base_url)
        self._api_key = api_key
        self._timeout = timeout
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"ProviderHttp({self.base_url!r}, api_key={mask_key(self._api_key)!r})"

    @property
    def masked_key(self) -> str:
        """The key as it may be shown."""
        return mask_key(self._api_key)

    def scrub(self, text: str) -> str:
        """``text`` with every occurrence of the key masked."""
        if self._api_key:
            text = text.replace(self._api_key, self.masked_key)
        return text

    def api(
        self,
        method: str,
        path: str,
        *,
        json_body: object = None,
        params: dict[str, str] | None = None,
        api_key: str | None = None,
    ) -> Answer:
        """``method path`` on the API with the key (or ``api_key``, e.g. a wrong one); a
        :class:`KeyRejected` when the deployment refuses the key itself."""
        key = self._api_key if api_key is None else api_key
        headers = {API_KEY_HEADER: key} if key else {}
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        answer = self._send(
            method,
            self.base_url + path,
            f"{method} {path}{query}",
            headers=headers,
            json_body=json_body,
            params=params,
        )
        if api_key is None and answer.status == 401:
            raise KeyRejected(
                f"{answer.where} on {self.base_url} answered 401 to --api-key "
                f"{self.masked_key} ({answer.text}). Pass a key this deployment accepts."
            )
        return answer

    def download(self, url: str, label: str) -> Answer:
        """GET a signed download URL, without the key."""
        return self._send("GET", url, f"GET {label}", headers={}, json_body=None, params=None)

    def _send(
        self,
        method: str,
        url: str,
        where: str,
        *,
        headers: dict[str, str],
        json_body: object,
        params: dict[str, str] | None,
    ) -> Answer:
        try:
            response = self._session.request(
                method,
                url,
                headers=headers,
                json=json_body,
                params=params,
                timeout=self._timeout,
                allow_redirects=True,
            )
        except requests.RequestException as error:
            # `from None`: the chained exception's repr would carry the request (and its headers).
            reason = self.scrub(f"{type(error).__name__}: {error}")
            raise ProviderUnreachable(
                f"{where} on {self.base_url} got no answer ({reason}). Check --base-url, the "
                "network and that the service is up; --timeout does not change this limit "
                f"of {self._timeout:g} s per request."
            ) from None
        content = response.content
        try:
            body = json.loads(content) if content else None
            is_json = bool(content)
        except ValueError:
            body, is_json = None, False
        text = content[:4000].decode("utf-8", "replace") if is_json or _textual(content) else ""
        if not text and content:
            text = f"<{len(content)} bytes, starting {content[:8]!r}>"
        return Answer(where, response.status_code, content, body, is_json, self.scrub(text))

    def close(self) -> None:
        """Close the connection pool."""
        self._session.close()


def _textual(content: bytes) -> bool:
    head = content[:512]
    return b"\x00" not in head and all(byte >= 9 for byte in head)
