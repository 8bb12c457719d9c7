"""One error handler for everything: every error leaves in the documented envelope."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mockserver.core import messages
from mockserver.service import ServiceError
from mockserver.web.envelope import send_error

__all__ = ["PUBLIC_ROUTES_HINT", "ROUTES_HINT", "register_error_handlers"]

ROUTES_HINT = (
    "Routes: POST /api/reports, GET /api/reports?case_id=, GET /api/reports/:id, "
    "DELETE /api/reports/:id, GET /healthz, and the control API under /_mock/"
)
#: The same without the control API, for a public sandbox (``--no-control-api``).
PUBLIC_ROUTES_HINT = (
    "Routes: POST /api/reports, GET /api/reports?case_id=, GET /api/reports/:id, "
    "DELETE /api/reports/:id and GET /healthz"
)
# Headers of an HTTP exception worth keeping on the envelope (Allow on 405, Retry-After on 429).
_KEPT_HEADERS = ("Allow", "Retry-After")


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, RequestEntityTooLarge):
        from flask import current_app

        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = messages.REQUEST_BODY_TOO_LARGE.format(limit=limit)
    elif isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(error.valid_methods or ()))
        message = f"Method {request.method} is not allowed on {request.path}. Allowed: {allowed}"
    elif isinstance(error, NotFound) and request.url_rule is None:
        from flask import current_app

        serves_control_api = "control" in current_app.blueprints
        hint = ROUTES_HINT if serves_control_api else PUBLIC_ROUTES_HINT
        message = f"No route {request.method} {request.path}. {hint}"
    elif status >= 500:
        message = "Internal error in the mock server; this is a bug, please report it"
    else:
        message = error.description or error.name
    headers = {name: value for name, value in error.get_headers() if name in _KEPT_HEADERS}
    return send_error(message, status, headers)


def _service_error(error: ServiceError) -> Response:
    return send_error(error.message, error.status)


def register_error_handlers(app: Flask) -> None:
    """Answer every HTTP and service error with ``{"success": false, "error": ...}``."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_error)
