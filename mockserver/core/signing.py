"""Signed, expiring download URLs, like the storage links of the real service.

A URL is ``<base>/storage/reports/<report_id>.<pdf|docx>?expires=<unix>&signature=<hex>``; the
signature is an HMAC-SHA256 over the path and the expiry, so neither can be changed, and a URL
signed for one file does not open another. Expiry is measured on the virtual clock: advancing
the clock past the hour expires the URL, exactly as waiting would.

Pure: no Flask, no I/O.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["DOWNLOAD_TTL_SECONDS", "SignatureCheck", "UrlSigner", "download_path"]

#: Documented: "Download URLs expire after 1 hour".
DOWNLOAD_TTL_SECONDS = 3600


@lru_cache(maxsize=4096)
def _hmac_sha256_hex(secret: bytes, message: str) -> str:
    # Cached: every poll of a completed report in the same virtual second signs the same
    # two messages (the expiry is whole seconds).
    return hmac.digest(secret, message.encode(), "sha256").hex()


def download_path(report_id: str, extension: str) -> str:
    """The path a document is served at, e.g. ``/storage/reports/rpt_1.pdf``."""
    return f"/storage/reports/{report_id}.{extension}"


class SignatureCheck(enum.Enum):
    """The verdict on a presented URL."""

    VALID = "valid"
    MISSING = "missing"
    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass(frozen=True)
class UrlSigner:
    """Mints and verifies signed download URLs with one secret."""

    secret: bytes
    ttl_seconds: int = DOWNLOAD_TTL_SECONDS

    def signature(self, path: str, expires: int) -> str:
        """The hex HMAC of ``path`` valid until ``expires``."""
        return _hmac_sha256_hex(self.secret, f"{path}\n{expires}")

    def sign(self, base_url: str, path: str, now: float) -> str:
        """A full URL for ``path`` that expires ``ttl_seconds`` after virtual time ``now``."""
        expires = int(now) + self.ttl_seconds
        # Digits and hex need no escaping: the query is written as is (urlencode was slower).
        query = f"expires={expires}&signature={self.signature(path, expires)}"
        return f"{base_url.rstrip('/')}{path}?{query}"

    def check(
        self, path: str, expires: str | None, signature: str | None, now: float
    ) -> SignatureCheck:
        """Whether ``expires``/``signature`` as presented open ``path`` at virtual time ``now``."""
        if not expires or not signature:
            return SignatureCheck.MISSING
        if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
            return SignatureCheck.INVALID
        expected = self.signature(path, int(expires))
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return SignatureCheck.INVALID
        if now >= int(expires):
            return SignatureCheck.EXPIRED
        return SignatureCheck.VALID
