"""The gateway in front of the API: injected faults (:class:`FaultPlan`, kept in the store)
and the documented rate limit, decided per request over the service (:class:`ApiGateway`)."""

from __future__ import annotations

from mockserver.gateway.api_gateway import FAULT_HEADER, REPORT_FAULTS_HEADER, ApiGateway, Refusal
from mockserver.gateway.fault_plan import FaultPlan, parse_report_rules

__all__ = [
    "FAULT_HEADER",
    "REPORT_FAULTS_HEADER",
    "ApiGateway",
    "FaultPlan",
    "Refusal",
    "parse_report_rules",
]
