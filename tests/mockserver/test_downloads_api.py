"""Signed, expiring download URLs served by the mock, and the real files behind them."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from mockserver.core import messages


def completed(api: Any, **create: Any) -> dict[str, Any]:
    created = api.create(**create)
    api.advance(3600)
    report: dict[str, Any] = api.get(created["id"])
    assert report["status"] == "completed"
    return report


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_completed_report_carries_signed_urls_to_the_mock(api: Any) -> None:
    output = completed(api)["output"]
    for key, extension in (("pdf_url", "pdf"), ("docx_url", "docx")):
        parts = urlsplit(output[key])
        assert parts.scheme == "http" and parts.netloc == "localhost"
        assert parts.path.endswith(f".{extension}")
        assert set(parse_qs(parts.query)) == {"expires", "signature"}


def test_pdf_url_serves_a_real_pdf(client: FlaskClient, api: Any) -> None:
    response = client.get(local(completed(api)["output"]["pdf_url"]))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and b"%%EOF" in response.data[-64:]


def test_docx_url_serves_a_real_docx(client: FlaskClient, api: Any) -> None:
    response = client.get(local(completed(api)["output"]["docx_url"]))
    assert response.status_code == 200
    assert "wordprocessingml" in response.mimetype
    assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(response.data)).namelist()


def test_each_get_mints_fresh_urls(api: Any) -> None:
    report = completed(api)
    api.advance(10)
    again = api.get(report["id"])
    assert again["output"]["pdf_url"] != report["output"]["pdf_url"]


def test_an_expired_url_is_refused_while_a_fresh_get_works(client: FlaskClient, api: Any) -> None:
    report = completed(api)
    old_url = local(report["output"]["pdf_url"])
    api.advance(3601)
    response = client.get(old_url)
    assert response.status_code == 403
    assert response.get_json()["error"].startswith("Download URL expired at ")
    fresh = api.get(report["id"])["output"]["pdf_url"]
    assert client.get(local(fresh)).status_code == 200


def test_a_url_just_inside_the_hour_still_works(client: FlaskClient, api: Any) -> None:
    report = completed(api)
    api.advance(3599)
    assert client.get(local(report["output"]["docx_url"])).status_code == 200


def tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


@pytest.mark.parametrize(
    "edit",
    [
        lambda url: tamper(url, signature="0" * 64),
        lambda url: tamper(url, expires="9999999999"),
        lambda url: tamper(url).replace(".pdf", ".docx"),
        lambda url: tamper(url, signature=""),
        lambda url: urlsplit(url).path,
    ],
    ids=["signature", "expires", "other-format", "empty-signature", "unsigned"],
)
def test_a_tampered_or_unsigned_url_is_403(client: FlaskClient, api: Any, edit: Any) -> None:
    response = client.get(edit(completed(api)["output"]["pdf_url"]))
    assert response.status_code == 403
    assert response.get_json()["error"] in (
        messages.DOWNLOAD_SIGNATURE_INVALID,
        messages.DOWNLOAD_SIGNATURE_MISSING,
    )


def test_a_url_signed_for_one_report_does_not_open_another(client: FlaskClient, api: Any) -> None:
    first, second = completed(api, case_id="case_a"), completed(api, case_id="case_b")
    stolen = local(first["output"]["pdf_url"]).replace(first["id"], second["id"])
    assert client.get(stolen).status_code == 403


def test_a_validly_signed_url_for_a_forgotten_report_is_404(client: FlaskClient, api: Any) -> None:
    url = local(completed(api)["output"]["pdf_url"])
    client.post("/_mock/reset")
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json()["success"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/storage/reports/rpt_1.exe",
        "/storage/reports/..%2F..%2Fetc%2Fpasswd",
        "/storage/reports/.pdf",
    ],
)
def test_unknown_files_are_404_in_the_envelope(client: FlaskClient, path: str) -> None:
    response = client.get(path + "?expires=1&signature=00")
    assert response.status_code == 404
    assert response.get_json()["success"] is False


def test_public_base_url_prefixes_download_urls(app_factory: Any, client_for: Any) -> None:
    api = client_for(app_factory(PUBLIC_BASE_URL="https://files.example.test/").test_client())
    output = completed(api)["output"]
    assert output["pdf_url"].startswith("https://files.example.test/storage/reports/")
