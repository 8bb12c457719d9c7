"""The live inspector: HTML pages under ``/_mock/`` to watch reports move and to steer them.

``/_mock/`` lists the newest reports of every owner (polling ``GET /_mock/reports`` every
second) with controls to create a report, cancel one and advance the clock;
``/_mock/reports/<id>`` renders one report's structured sections. Part of the control API:
registered only when ``CONTROL_API`` is on.

The page is a real client of the Reports API: it creates and cancels with its own key,
``INSPECTOR_API_KEY`` (default ``sk-inspector``), so its reports and requests show up like any
other tenant's. Reports of other keys are shown read-only.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template, request
from werkzeug.wrappers import Response

from mockserver.content.html_writer import section_view
from mockserver.core import messages
from mockserver.options import DEFAULTS
from mockserver.service import DOCUMENT_TYPES, NotFound, owner_of_key
from mockserver.web import control_api

__all__ = ["DEFAULT_INSPECTOR_API_KEY", "inspector"]

#: The key the page creates reports with, unless ``INSPECTOR_API_KEY`` says otherwise.
DEFAULT_INSPECTOR_API_KEY: str = DEFAULTS["INSPECTOR_API_KEY"]

_PACKAGE = Path(__file__).resolve().parent.parent

inspector = Blueprint(
    "inspector",
    __name__,
    url_prefix="/_mock",
    template_folder=str(_PACKAGE / "templates"),
    static_folder=str(_PACKAGE / "static"),
    static_url_path="/static",
)


def _inspector_key() -> str:
    return str(current_app.config["INSPECTOR_API_KEY"])


def _page_context() -> dict[str, object]:
    key = _inspector_key()
    return {
        "api_key": key,
        "inspector_owner": owner_of_key(key),
        "clock": control_api().clock_view(),
    }


@inspector.get("/")
def overview_page() -> str:
    """Every owner's newest reports, live, with the create / cancel / clock controls."""
    return render_template(
        "inspector_overview.html", scenarios=control_api().scenario_list(), **_page_context()
    )


@inspector.get("/reports/<report_id>")
def report_page(report_id: str) -> tuple[str, int]:
    """One report: its state, its downloads and its structured sections rendered as HTML."""
    found = control_api().inspect(report_id, base_url=request.host_url)
    overview = control_api().report_overview(report_id)
    if found is None or overview is None:
        return render_template(
            "inspector_missing.html", report_id=report_id, **_page_context()
        ), 404
    output = found.get("output") or {}
    structured = output.get("report") if isinstance(output, dict) else None
    raw_sections = structured.get("sections") if isinstance(structured, dict) else None
    sections = [section_view(s) for s in raw_sections or [] if isinstance(s, dict)]
    return render_template(
        "inspector_report.html",
        report=found,
        overview=overview["report"],
        structured=structured,
        sections=sections,
        wire_json=json.dumps(found, indent=2, ensure_ascii=False),
        **_page_context(),
    ), 200


@inspector.get("/reports/<report_id>/download/<extension>")
def fresh_download(report_id: str, extension: str) -> Response:
    """Redirect to a freshly signed download URL, so the page's links never expire."""
    found = control_api().inspect(report_id, base_url=request.host_url)
    output = found.get("output") if found else None
    if extension not in DOCUMENT_TYPES or not isinstance(output, dict):
        raise NotFound(messages.DOWNLOAD_NOT_FOUND.format(filename=f"{report_id}.{extension}"))
    return redirect(output[f"{extension}_url"], code=302)
