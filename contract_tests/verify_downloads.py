"""What provider verification checks of a completed report's signed URLs: that they
download a real PDF (``%PDF-``) and a real DOCX (a zip with ``word/document.xml``), without the
API key, and that they expire about an hour after they were minted (documented: "signed
download URLs that expire after one hour").
"""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from contract_tests.drift import DriftReport
from contract_tests.verify_http import ProviderHttp
from contract_tests.verify_lifecycle import epoch, record

__all__ = ["URL_TTL_SECONDS", "DownloadChecks", "url_ttl"]

#: Documented: download URLs expire after one hour. The lifetime is measured from the report's
#: completion (its updated_at), so the URL, minted at the next poll, may live a little longer:
#: up to 15 minutes is taken as the poll's lag (a mock on a sped-up, loaded clock), not drift.
URL_TTL_SECONDS = 3600.0
URL_TTL_EARLY_SECONDS = 300.0
URL_TTL_LATE_SECONDS = 900.0


class DownloadChecks:
    """Downloads and expiry of signed URLs, recorded into ``report``."""

    def __init__(self, http: ProviderHttp, report: DriftReport) -> None:
        self.http = http
        self.report = report

    def check_download(self, kind: str, url: str) -> None:
        self.report.ran("downloads")
        path = urlsplit(url).path
        answer = self.http.download(url, f"{kind}_url {path}")
        if answer.status != 200:
            record(
                self.report,
                "downloads",
                answer,
                f"the signed {kind}_url answered HTTP {answer.status}; documented: it downloads for an hour",
            )
            return
        content = answer.content
        if kind == "pdf" and not content.startswith(b"%PDF-"):
            record(
                self.report,
                "downloads",
                answer,
                "the pdf_url did not download a PDF (no %PDF- header)",
            )
        if kind == "docx":
            try:
                names = zipfile.ZipFile(io.BytesIO(content)).namelist()
            except zipfile.BadZipFile:
                names = []
            if "word/document.xml" not in names:
                record(
                    self.report,
                    "downloads",
                    answer,
                    "the docx_url did not download a DOCX (not a zip with word/document.xml)",
                )

    def check_expiry(self, kind: str, url: str, final: dict[str, Any]) -> None:
        self.report.ran("url_expiry")
        ttl = url_ttl(url, epoch(final.get("updated_at")))
        where = f"GET /api/reports/{final.get('id')} output.{kind}_url"
        if ttl is None:
            record(
                self.report,
                "url_expiry",
                None,
                f"the {kind}_url carries no expiry (expires, X-Amz-Expires, X-Goog-Expires or se); documented: signed URLs expire after one hour",
                where=where,
            )
        elif (
            not URL_TTL_SECONDS - URL_TTL_EARLY_SECONDS
            <= ttl
            <= URL_TTL_SECONDS + URL_TTL_LATE_SECONDS
        ):
            record(
                self.report,
                "url_expiry",
                None,
                f"the {kind}_url expires {ttl:g} s after the report completed; documented: one hour",
                where=where + f" = {urlsplit(url).path}?{urlsplit(url).query}",
            )


def url_ttl(url: str, reference: float | None) -> float | None:
    """Seconds the signed URL lives past ``reference`` (the report's completion), read from
    the expiry parameters of the mock (``expires``), S3 (``X-Amz-Expires``), GCS
    (``X-Goog-Expires``) or Azure (``se``); ``None`` when it carries none."""
    query = {name.lower(): value for name, value in parse_qsl(urlsplit(url).query)}
    for relative in ("x-amz-expires", "x-goog-expires"):
        if relative in query and query[relative].isdigit():
            return float(query[relative])
    absolute: float | None = None
    if query.get("expires", "").isdigit():
        absolute = float(query["expires"])
    elif "se" in query:
        absolute = epoch(query["se"])
    if absolute is None:
        return None
    return absolute - reference if reference is not None else URL_TTL_SECONDS
