"""Signed download URLs: HMAC over path and expiry, expiring on the virtual clock."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from mockserver.core.signing import SignatureCheck, UrlSigner, download_path

SIGNER = UrlSigner(b"secret")
NOW = 1_700_000_000.0
PATH = download_path("rpt_1", "pdf")


def signed_parts(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path, query["expires"][0], query["signature"][0]


def test_a_fresh_url_opens_its_file() -> None:
    path, expires, signature = signed_parts(SIGNER.sign("http://mock", PATH, NOW))
    assert SIGNER.check(path, expires, signature, NOW + 3599) is SignatureCheck.VALID


def test_a_url_expires_after_one_hour() -> None:
    path, expires, signature = signed_parts(SIGNER.sign("http://mock", PATH, NOW))
    assert int(expires) == int(NOW) + 3600
    assert SIGNER.check(path, expires, signature, NOW + 3600) is SignatureCheck.EXPIRED


@pytest.mark.parametrize(
    ("path", "expires_delta", "signature_edit"),
    [
        (download_path("rpt_2", "pdf"), 0, None),  # signed for another report
        (download_path("rpt_1", "docx"), 0, None),  # signed for the other format
        (PATH, 3600, None),  # expiry pushed back
        (PATH, 0, "0"),  # signature altered
    ],
    ids=["other-report", "other-format", "extended-expiry", "altered-signature"],
)
def test_a_tampered_url_is_invalid(
    path: str, expires_delta: int, signature_edit: str | None
) -> None:
    _, expires, signature = signed_parts(SIGNER.sign("http://mock", PATH, NOW))
    expires = str(int(expires) + expires_delta)
    if signature_edit:
        signature = signature_edit + signature[1:] if signature[0] != "0" else "1" + signature[1:]
    assert SIGNER.check(path, expires, signature, NOW) is SignatureCheck.INVALID


@pytest.mark.parametrize(("expires", "signature"), [(None, "ab"), ("1", None), ("", "")])
def test_an_unsigned_url_is_missing_its_signature(
    expires: str | None, signature: str | None
) -> None:
    assert SIGNER.check(PATH, expires, signature, NOW) is SignatureCheck.MISSING


@pytest.mark.parametrize("expires", ["-5", "1e9", "9" * 40, "１２", "²"])
def test_a_malformed_expiry_is_invalid(expires: str) -> None:
    assert SIGNER.check(PATH, expires, "00", NOW) is SignatureCheck.INVALID


def test_another_secret_does_not_verify() -> None:
    path, expires, signature = signed_parts(SIGNER.sign("http://mock", PATH, NOW))
    assert UrlSigner(b"other").check(path, expires, signature, NOW) is SignatureCheck.INVALID
