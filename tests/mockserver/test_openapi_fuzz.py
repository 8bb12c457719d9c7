"""Schemathesis fuzzes the live mock from ``schemas/openapi.json``: no 5xx, every answer
conforms to the document.

A real server on loopback (werkzeug, as ``mockserver serve --server werkzeug`` runs it) with
``VALIDATE_RESPONSES=raise``, so a response that breaks the schemas is also a 500 from the
mock itself. Every operation gets ``REPORTS_MOCK_FUZZ_EXAMPLES`` generated requests (default
10, which keeps the run well under a minute on two cores); set it higher for a longer hunt::

    REPORTS_MOCK_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/mockserver/test_openapi_fuzz.py

Every check Schemathesis has runs (positive data accepted, negative data rejected, status
codes, content types, headers and response schemas among them), on positive and negative
data, then statefully along the document's links (create, then poll, cancel, list, inspect)
for ``REPORTS_MOCK_FUZZ_SCENARIOS`` scenarios (default 10) of a few steps each.

``PUT /_mock/faults`` is left out: a generated valid plan injects 5xx into every later
request, which is its purpose. Two rules no schema expresses are kept by hooks: a scripted
timeline's ``after_seconds`` never decrease (``filter_body``), and an ``X-Mock-Faults``
value follows the fault-rule grammar of the README (``filter_headers``). The number of requests sent is printed at the end.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.stateful.state_machine import APIStateMachine

import schemas
from mockserver.core.fault_rules import FaultSpecError, parse_rules

from ..conftest import served_on_loopback

EXAMPLES = int(os.environ.get("REPORTS_MOCK_FUZZ_EXAMPLES", "10"))
SCENARIOS = int(os.environ.get("REPORTS_MOCK_FUZZ_SCENARIOS", "10"))
#: A key, so that /api operations get past authentication to the interesting parts.
HEADERS = {"X-API-Key": "sk-fuzz"}
SENT: Counter[str] = Counter()


def self_contained_openapi() -> dict[str, Any]:
    """``openapi.json`` with every schema file embedded under its own ``$id``.

    The document refers to its schemas by ``https://reports-mock.dev/schemas/...`` URIs that
    are names, not addresses; embedded, Schemathesis resolves them without the network.
    """
    document = schemas.openapi()
    embedded = document.setdefault("components", {}).setdefault("schemas", {})
    for name in schemas.schema_names():
        contents = schemas.schema(name)
        embedded[f"file.{name}"] = absolute_refs(contents, contents["$id"])
    return document


def absolute_refs(node: Any, base: str) -> Any:
    """``node`` with every relative ``$ref`` made absolute against ``base``."""
    if isinstance(node, dict):
        return {
            key: urljoin(base, value) if key == "$ref" else absolute_refs(value, base)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [absolute_refs(item, base) for item in node]
    return node


#: The documented real API answers a cancel of a report that has finished with 400
#: ("Cannot cancel a completed report"), not 409: a valid request refused for the state it
#: meets. Every other operation keeps Schemathesis's default expectations.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-operation-id": "cancelReport",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "400", "401", "403", "404"]
                    }
                },
            }
        ]
    }
)
schema = schemathesis.openapi.from_dict(self_contained_openapi(), config=CONFIG).exclude(
    method="PUT", path="/_mock/faults"
)


@schema.hook
def filter_headers(context: Any, headers: Any) -> bool:
    """An ``X-Mock-Faults`` value follows the README's rule grammar, which no schema says."""
    value = (headers or {}).get("X-Mock-Faults")
    if not value or not value.strip():
        return True
    try:
        parse_rules(value)
    except FaultSpecError:
        return False
    return True


@schema.hook
def filter_body(context: Any, body: Any) -> bool:
    """A scripted timeline's ``after_seconds`` never decrease (the one rule no schema says)."""
    operation = context.operation
    if operation is None or operation.path != "/_mock/reports" or not isinstance(body, dict):
        return True
    timeline = body.get("timeline")
    if not isinstance(timeline, list):
        return True
    offsets = [step.get("after_seconds") for step in timeline if isinstance(step, dict)]
    numbers = [x for x in offsets if isinstance(x, int | float) and not isinstance(x, bool)]
    return len(numbers) != len(offsets) or numbers == sorted(numbers)


@pytest.fixture(scope="module")
def live_mock() -> Iterator[str]:
    """The mock on a free loopback port for this module, answering in threads."""
    from mockserver import create_app

    app = create_app({"VALIDATE_RESPONSES": "raise", "TIME_SCALE": 100, "SIGNING_SECRET": "fuzz"})
    with served_on_loopback(app) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def session(request: pytest.FixtureRequest) -> Iterator[requests.Session]:
    """One keep-alive session for the module; prints how many requests went out."""
    with requests.Session() as shared:
        yield shared
    total = sum(SENT.values())
    by_status = ", ".join(f"{status}: {count}" for status, count in sorted(SENT.items()))
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nschemathesis sent {total} generated requests to the live mock ({by_status})")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_live_mock_answers_as_its_openapi_document_says(
    case: Any, live_mock: str, session: requests.Session
) -> None:
    response = case.call(base_url=live_mock, session=session, headers=HEADERS, timeout=10)
    SENT[f"{response.status_code // 100}xx"] += 1
    case.validate_response(response)  # every check Schemathesis has


def test_the_live_mock_follows_its_openapi_links_statefully(
    live_mock: str, session: requests.Session
) -> None:
    """Create, then poll, cancel, list and inspect what was created, as the links say."""

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": live_mock, "session": session, "headers": HEADERS, "timeout": 10}

        def after_call(self, response: Any, case: Any) -> None:
            SENT[f"{response.status_code // 100}xx"] += 1

    assert issubclass(Machine, APIStateMachine)
    Machine.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
