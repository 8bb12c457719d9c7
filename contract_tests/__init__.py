"""A contract-testing kit for clients of the asynchronous Reports API.

Drives a polling client (a Python function or coroutine function, or any language through a
command) through every lifecycle and report shape the documented contract allows, on virtual
time, and names every rule it breaks, each with its own minimal lifecycle; ``check_workflow``
does the same for a whole workflow (create, wait, retry by failure type, download).
``contract_tests.strategies`` holds the Hypothesis strategies.

The names below are imported on first use (module ``__getattr__``): pytest loads
``contract_tests.pytest_plugin`` in every session of an environment where the kit is
installed, and that must not import Hypothesis, werkzeug or the harness until a test uses
the kit.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from contract_tests.workflow_checks import WORKFLOW_RULES
    from contract_tests.workflow_model import WorkflowPlan
    from contract_tests.workflow_runner import check_workflow, check_workflow_command

__all__ = [
    "CONSUMER_RULES",
    "RULES",
    "WORKFLOW_RULES",
    "CheckResult",
    "ClientStopped",
    "KitError",
    "Lifecycle",
    "Observation",
    "Rule",
    "RuleViolation",
    "UsageError",
    "VirtualTimeEscaped",
    "WorkflowPlan",
    "check_client",
    "check_command",
    "check_consumer",
    "check_workflow",
    "check_workflow_command",
    "render_result",
]

#: Where each public name lives.
_HOMES = {
    "CONSUMER_RULES": "contract_tests.checks",
    "RULES": "contract_tests.checks",
    "Rule": "contract_tests.checks",
    "ClientStopped": "contract_tests.errors",
    "KitError": "contract_tests.errors",
    "RuleViolation": "contract_tests.errors",
    "UsageError": "contract_tests.errors",
    "VirtualTimeEscaped": "contract_tests.errors",
    "Lifecycle": "contract_tests.model",
    "Observation": "contract_tests.model",
    "render_result": "contract_tests.reporting",
    "CheckResult": "contract_tests.runner",
    "check_client": "contract_tests.runner",
    "check_command": "contract_tests.runner",
    "check_consumer": "contract_tests.runner",
    "WORKFLOW_RULES": "contract_tests.workflow_checks",
    "WorkflowPlan": "contract_tests.workflow_model",
    "check_workflow": "contract_tests.workflow_runner",
    "check_workflow_command": "contract_tests.workflow_runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'contract_tests' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next lookup finds it without coming here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
