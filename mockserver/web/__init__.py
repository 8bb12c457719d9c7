"""The HTTP adapter: Flask blueprints that translate requests to service calls and back."""

from __future__ import annotations

from flask import current_app

from mockserver.service import ReportService

__all__ = ["EXTENSION_KEY", "service"]

EXTENSION_KEY = "reports_mock"


def service() -> ReportService:
    """The app's :class:`ReportService`."""
    found: ReportService = current_app.extensions[EXTENSION_KEY]
    return found
