"""Signed document downloads, standing in for the real service's storage host."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from mockserver.web import gateway_route, reports_api, request_scope

__all__ = ["storage"]

storage = Blueprint("storage", __name__)


@storage.get("/storage/reports/<path:filename>")
@gateway_route("download", target="filename")
def download_document(filename: str) -> Response:
    """The PDF or DOCX behind a signed URL; 403 when unsigned, tampered or expired."""
    g.journal_report_id = filename.rpartition(".")[0] or None
    document = reports_api().open_document(
        request_scope(), filename, request.args.get("expires"), request.args.get("signature")
    )
    response = Response(document.content, mimetype=document.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
