"""The application factory: configuration, the store, the service, the gateway, the blueprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, request

from mockserver.core.rate_limit import RateLimiter
from mockserver.gateway import ApiGateway, FaultPlan
from mockserver.service import ControlApi, ReportsApi, ServiceState
from mockserver.settings import DEFAULTS, Settings
from mockserver.store import open_store
from mockserver.web import EXTENSION_KEY, JOURNALED_ENVIRON_KEY, Backend, backend, request_scope
from mockserver.web.control import control, health
from mockserver.web.errors import register_error_handlers
from mockserver.web.fast_poll import install_fast_poll
from mockserver.web.gateway_hooks import install_gateway, journal_fault_label
from mockserver.web.inspector import inspector
from mockserver.web.reports import reports
from mockserver.web.storage import storage
from mockserver.web.store_outage import (
    install_store_outage_handler,
    record_in_journal,
    store_outage,
    store_outage_response,
)

__all__ = ["backend_of", "create_app"]

#: Paths the request journal leaves out: the control API and health checks are not traffic.
_UNJOURNALED_PREFIXES = ("/_mock", "/healthz")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """A configured mock server.

    Configuration comes from :data:`mockserver.settings.DEFAULTS`, then ``MOCKSERVER_*``
    environment variables, then ``config``.
    """
    # No app-wide /static: the inspector serves its files under /_mock/ with the control API.
    app = Flask("mockserver", static_folder=None)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("MOCKSERVER")
    if config:
        app.config.update(config)
    settings = Settings.from_config(app.config)
    app.config["VALIDATE_RESPONSES"] = settings.validate_responses
    app.config["API_KEYS"] = settings.api_keys
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["INSPECTOR_API_KEY"] = settings.inspector_api_key
    state = ServiceState(
        settings, open_store(settings.store_url, journal_size=settings.journal_size)
    )
    reports_api = ReportsApi(state)
    limiter = None if settings.rate_limit is None else RateLimiter(settings.rate_limit, state.store)
    faults = FaultPlan(state.store, configured=settings.faults, seed=settings.seed)
    app.extensions[EXTENSION_KEY] = Backend(
        state=state,
        reports=reports_api,
        control=ControlApi(state, reports_api),
        gateway=ApiGateway(state, faults, limiter),
    )

    register_error_handlers(app)
    install_store_outage_handler(app)
    app.register_blueprint(reports)  # before the gateway, so the key check runs first
    install_gateway(app, reports, rate_limit=limiter is not None)
    app.register_blueprint(storage)
    app.register_blueprint(health)
    if settings.control_api:
        app.register_blueprint(control)
        app.register_blueprint(inspector)
    app.after_request(_journal_request)
    install_fast_poll(app)  # last: it checks that it reproduces every hook registered
    return app


def backend_of(app: Flask) -> Backend:
    """The service, state and gateway behind an app made by :func:`create_app`."""
    found: Backend = app.extensions[EXTENSION_KEY]
    return found


def _journal_request(response: Response) -> Response:
    if request.path.startswith(_UNJOURNALED_PREFIXES) or request.environ.get(JOURNALED_ENVIRON_KEY):
        return response  # not journaled, or journaled already by the lean poll path
    entry = (
        request.method,
        request.path,
        request.query_string.decode("latin-1"),
        response.status_code,
        g.get("journal_report_id"),
        journal_fault_label(),
    )
    failed = record_in_journal(backend(), store_outage(), current_app.logger, request_scope, entry)
    return response if failed is None else store_outage_response(failed)
