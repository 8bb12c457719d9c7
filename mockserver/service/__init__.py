"""The service, split by audience: the documented Reports API (:class:`ReportsApi`) and the
mock's control API (:class:`ControlApi`), over one :class:`ServiceState` (settings, store,
shared clock, URL signer, report lookup). No HTTP in sight: the web adapter translates."""

from __future__ import annotations

from mockserver.service.control_api import MAX_ADVANCE_SECONDS, ControlApi
from mockserver.service.reports_api import ReportsApi
from mockserver.service.state import (
    DOCUMENT_TYPES,
    Document,
    DownloadRefused,
    NotFound,
    RequestRejected,
    RequestScope,
    ServiceError,
    ServiceState,
    owner_of_key,
)
from mockserver.store.base import (  # what a poll answered on the loop journals, and with
    JournalEntry,
    LoopPollStore,
)

__all__ = [
    "DOCUMENT_TYPES",
    "MAX_ADVANCE_SECONDS",
    "ControlApi",
    "Document",
    "DownloadRefused",
    "JournalEntry",
    "LoopPollStore",
    "NotFound",
    "ReportsApi",
    "RequestRejected",
    "RequestScope",
    "ServiceError",
    "ServiceState",
    "owner_of_key",
]
