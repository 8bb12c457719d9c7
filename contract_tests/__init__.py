"""A contract-testing kit for clients of the asynchronous Reports API.

Drives a polling client (a Python function or coroutine function, or any language through a
command) through every lifecycle and report shape the documented contract allows, on virtual
time, and names every rule it breaks, each with its own minimal lifecycle. ``contract_tests.strategies`` holds the Hypothesis strategies.
"""

from __future__ import annotations

from contract_tests.checks import CONSUMER_RULES, RULES, Rule
from contract_tests.errors import (
    ClientStopped,
    KitError,
    RuleViolation,
    UsageError,
    VirtualTimeEscaped,
)
from contract_tests.model import Lifecycle, Observation
from contract_tests.reporting import render_result
from contract_tests.runner import CheckResult, check_client, check_command, check_consumer

__all__ = [
    "CONSUMER_RULES",
    "RULES",
    "CheckResult",
    "ClientStopped",
    "KitError",
    "Lifecycle",
    "Observation",
    "Rule",
    "RuleViolation",
    "UsageError",
    "VirtualTimeEscaped",
    "check_client",
    "check_command",
    "check_consumer",
    "render_result",
]
