"""The kit as a pytest plugin (registered through the ``pytest11`` entry point).

Fixtures:
- ``contract_kit``: ``contract_kit.check_client(fn)``, ``.check_consumer(fn)``,
  ``.check_command("node client.js {report_id}")``, ``.check_workflow(fn)`` fail the test
  with the kit's report when a rule is broken, and return the
  :class:`~contract_tests.runner.CheckResult`.
- ``reports_mock``: a live mock on loopback for your own integration tests (one server per
  session, state reset before each test): ``base_url``, ``api_key``, ``advance(seconds)``,
  ``requests()``.

Options: ``--contract-examples N``, ``--contract-seed S``; marker
``@pytest.mark.contract_examples(N)`` sets the budget of one test.

Heavy imports happen inside the fixtures, so merely installing the plugin costs nothing.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from contract_tests.loopback import LoopbackServer

__all__ = ["ContractKit", "LiveMock"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reports-contract", "Reports API contract checks")
    group.addoption(
        "--contract-examples",
        type=int,
        default=None,
        help="generated examples per contract check (default: the kit's default)",
    )
    group.addoption(
        "--contract-seed", type=int, default=0, help="seed of the contract checks (default 0)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "contract_examples(n): number of generated examples for contract_kit checks in this test",
    )


class ContractKit:
    """Runs contract checks from a test and fails it with the kit's report."""

    def __init__(self, examples: int | None, seed: int) -> None:
        self.examples = examples
        self.seed = seed

    def _budget(self, default: int) -> int:
        return default if self.examples is None else self.examples

    def _verdict(self, result: Any) -> Any:
        from contract_tests.reporting import render_result

        if not result.passed:
            pytest.fail(render_result(result), pytrace=False)
        return result

    def check_client(
        self, client: Callable[..., Any], *, strict: bool = False, examples_from: Any = None
    ) -> Any:
        """Check a Python polling client ``client(report_id, *, base_url, api_key)``;
        ``strict`` adds the resilience profile (injected transient faults); ``examples_from``
        (scenario files or directories) adds each recorded lifecycle as an explicit example."""
        from contract_tests.runner import DEFAULT_EXAMPLES, check_client

        budget = self._budget(DEFAULT_EXAMPLES)
        return self._verdict(
            check_client(
                client,
                examples=budget,
                seed=self.seed,
                strict=strict,
                examples_from=examples_from,
            )
        )

    def check_consumer(self, consumer: Callable[[Any], Any]) -> Any:
        """Check a consumer ``consumer(data)`` of completed reports."""
        from contract_tests.runner import DEFAULT_EXAMPLES, check_consumer

        return self._verdict(
            check_consumer(consumer, examples=self._budget(DEFAULT_EXAMPLES), seed=self.seed)
        )

    def check_command(self, command: str, *, examples_from: Any = None) -> Any:
        """Check a client in any language, run as ``command`` with ``{report_id}``."""
        from contract_tests.runner import DEFAULT_COMMAND_EXAMPLES, check_command

        budget = self._budget(DEFAULT_COMMAND_EXAMPLES)
        return self._verdict(
            check_command(command, examples=budget, seed=self.seed, examples_from=examples_from)
        )

    def check_workflow(
        self, workflow: Callable[..., Any], *, strict: bool = False, examples_from: Any = None
    ) -> Any:
        """Check a whole workflow ``workflow(case_id, *, base_url, api_key, output_dir)``;
        ``strict`` adds transient faults on downloads; ``examples_from`` a plan per completed
        scenario file."""
        from contract_tests.workflow_runner import DEFAULT_WORKFLOW_EXAMPLES, check_workflow

        budget = self._budget(DEFAULT_WORKFLOW_EXAMPLES)
        return self._verdict(
            check_workflow(
                workflow,
                examples=budget,
                seed=self.seed,
                strict=strict,
                examples_from=examples_from,
            )
        )


@pytest.fixture
def contract_kit(request: pytest.FixtureRequest) -> ContractKit:
    """Contract checks with this session's budget (or the test's ``contract_examples`` marker)."""
    marker = request.node.get_closest_marker("contract_examples")
    examples = marker.args[0] if marker else request.config.getoption("--contract-examples")
    return ContractKit(examples, request.config.getoption("--contract-seed"))


@dataclass
class LiveMock:
    """A mock server on loopback, driven over HTTP like any client would."""

    base_url: str
    api_key: str = "sk-pytest"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "X-API-Key": self.api_key},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["data"]

    def advance(self, seconds: float) -> Any:
        """Move the mock's virtual clock forward."""
        return self._call("POST", "/_mock/clock/advance", {"seconds": seconds})

    def reset(self) -> None:
        """Forget every report and the request journal."""
        self._call("POST", "/_mock/reset", {})

    def requests(self) -> list[dict[str, Any]]:
        """The journal of requests the mock received."""
        entries: list[dict[str, Any]] = self._call("GET", "/_mock/requests")["requests"]
        return entries

    def create_report(self, case_id: str = "case_pytest", **options: Any) -> dict[str, Any]:
        """Create a report as ``api_key`` would."""
        created: dict[str, Any] = self._call(
            "POST",
            "/api/reports",
            {"case_id": case_id, "type": "technical_report", "options": options},
        )
        return created


@pytest.fixture(scope="session")
def reports_mock_server() -> Iterator[LiveMock]:
    """One live mock for the session, on a frozen clock (advance it with ``advance``), behind
    the kit's loopback server."""
    from mockserver import create_app

    server = LoopbackServer(create_app({"TIME_SCALE": 0}), lambda answer: None)
    try:
        yield LiveMock(server.base_url)
    finally:
        server.close()


@pytest.fixture
def reports_mock(reports_mock_server: LiveMock) -> LiveMock:
    """The session's live mock, with every report and the journal forgotten."""
    reports_mock_server.reset()
    return reports_mock_server
