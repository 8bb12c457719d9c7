"""The HTTP adapter: Flask blueprints that translate requests to service calls and back.

Translation only: no store, no business rule. Each request gets one
:class:`~mockserver.service.RequestScope` (:func:`request_scope`), which the gateway hooks,
the route and the journal share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app, g, request

from mockserver.core.fault_rules import Route
from mockserver.gateway import ApiGateway
from mockserver.service import ControlApi, ReportsApi, RequestScope, ServiceState, owner_of_key

__all__ = [
    "API_KEY_HEADER",
    "EXTENSION_KEY",
    "JOURNALED_ENVIRON_KEY",
    "SCOPE_ENVIRON_KEY",
    "Backend",
    "api_gateway",
    "backend",
    "control_api",
    "gateway_route",
    "reports_api",
    "request_scope",
    "route_of_view",
]

EXTENSION_KEY = "reports_mock"
#: WSGI environ key of a request's scope made before Flask ran (by :mod:`mockserver.web.fast_poll`,
#: which hands a poll it does not answer to Flask with the store already read).
SCOPE_ENVIRON_KEY = "mockserver.scope"
#: WSGI environ key set when the lean path wrote the request's journal entry (and count)
#: before it handed the request to Flask: Flask's journal hook then writes none, so one
#: request stays one entry.
JOURNALED_ENVIRON_KEY = "mockserver.journaled"
API_KEY_HEADER = "X-API-Key"

_View = TypeVar("_View", bound=Callable[..., object])
_ROUTE_ATTRIBUTE = "_gateway_route"


@dataclass(frozen=True)
class Backend:
    """What the adapter serves: the two audiences of the service, and the gateway."""

    state: ServiceState
    reports: ReportsApi
    control: ControlApi
    gateway: ApiGateway


def backend() -> Backend:
    """The current app's :class:`Backend`."""
    found: Backend = current_app.extensions[EXTENSION_KEY]
    return found


def reports_api() -> ReportsApi:
    """The documented API of the current app."""
    return backend().reports


def control_api() -> ControlApi:
    """The control API of the current app."""
    return backend().control


def api_gateway() -> ApiGateway:
    """The gateway of the current app."""
    return backend().gateway


def request_scope(serving: Backend | None = None, *, report_id: str | None = None) -> RequestScope:
    """The current request's scope: its caller and one clock reading, made on first use.

    ``serving`` saves looking the backend up again where the caller already has it;
    ``report_id`` (the report the path names) is read with the clock, in one store operation.
    """
    scope: RequestScope | None = g.get("scope")
    if scope is None:
        scope = request.environ.get(SCOPE_ENVIRON_KEY)  # made by the poll's lean path
        if scope is None:
            key = request.headers.get(API_KEY_HEADER, "").strip()
            state = (serving or backend()).state
            scope = state.scope(owner_of_key(key) if key else None, report_id)
        g.scope = scope
    return scope


def gateway_route(route: Route, *, target: str | None = None) -> Callable[[_View], _View]:
    """Tag a view with the gateway route it serves and the path argument naming its target.

    The gateway finds a request's route through its view function, so renaming a view or
    its endpoint cannot silently take it out of the fault rules' reach.
    """

    def tag(view: _View) -> _View:
        setattr(view, _ROUTE_ATTRIBUTE, (route, target))
        return view

    return tag


def route_of_view(view: object) -> tuple[Route, str | None]:
    """The gateway route and target argument a view was tagged with; ``other`` untagged."""
    tagged: tuple[Route, str | None] = getattr(view, _ROUTE_ATTRIBUTE, ("other", None))
    return tagged
