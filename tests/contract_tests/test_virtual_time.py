"""The kit's time: every clock and wait a Python client uses is virtual, verdicts are exact."""

from __future__ import annotations

import datetime
import logging
import threading
import time

import pytest
import time_clients

from contract_tests import UsageError, check_client, harness, render_result
from contract_tests.errors import VirtualTimeEscaped
from contract_tests.examples import explicit_fault_lifecycles, explicit_lifecycles
from contract_tests.harness import MockBackend
from contract_tests.model import InjectedFault, Lifecycle
from contract_tests.virtual_time import VirtualTimeHooks, enter_virtual_thread, virtual_time


def test_a_datetime_deadline_client_passes() -> None:
    result = check_client(time_clients.datetime_deadline, examples=10)
    assert result.passed, render_result(result)


def test_a_too_short_datetime_deadline_is_named_not_hidden_behind_an_hour() -> None:
    result = check_client(time_clients.datetime_deadline_too_short, examples=5)
    assert "waits_for_documented_timeout" in result.broken_rules
    assert "gives_up_within_an_hour" not in result.broken_rules


def test_event_wait_and_queue_get_sleeps_are_virtual() -> None:
    result = check_client(time_clients.event_wait_sleeps, examples=10)
    assert result.passed, render_result(result)
    assert result.virtual_seconds > 50 * result.wall_seconds


@pytest.mark.parametrize(
    "client",
    [
        time_clients.asyncio_sleeps,
        time_clients.sync_calling_asyncio_run,
        time_clients.asyncio_to_thread,
    ],
)
def test_asyncio_clients_run_on_the_kits_loop(client: object) -> None:
    result = check_client(client, examples=5)  # type: ignore[arg-type]
    assert result.passed, render_result(result)
    assert result.virtual_seconds > 50 * result.wall_seconds


def test_an_asyncio_client_without_a_deadline_is_caught_under_its_rule() -> None:
    result = check_client(time_clients.asyncio_never_gives_up, examples=0)
    assert result.broken_rules == ["gives_up_within_an_hour"], render_result(result)


def test_a_client_awaiting_nothing_is_stopped_at_once_and_reported() -> None:
    started = time.monotonic()
    result = check_client(
        time_clients.awaits_nothing, examples=0, rules=["gives_up_within_an_hour"]
    )
    assert result.broken_rules == ["gives_up_within_an_hour"]
    assert "nothing to wait for" in result.violations[0].received
    assert time.monotonic() - started < 20


def test_timeout_zero_fails_as_it_would_on_the_wire() -> None:
    result = check_client(time_clients.timeout_zero, examples=0)
    assert not result.passed


def test_two_rules_broken_in_one_run_are_both_reported_each_with_its_lifecycle() -> None:
    result = check_client(time_clients.returns_failed_reports, examples=5)
    broken = {v.rule: v for v in result.violations}
    assert {"returns_only_completed_reports", "raises_on_failed_or_cancelled"} <= set(broken)
    text = render_result(result)
    assert "ok      raises_on_failed_or_cancelled" not in text
    for violation in broken.values():
        assert violation.lifecycle_text and violation.requests_text


def test_a_drop_on_the_first_poll_is_always_tried_in_strict() -> None:
    result = check_client(time_clients.crashes_on_first_poll_fault, examples=0, strict=True)
    assert "survives_transient_faults" in result.broken_rules
    violation = next(v for v in result.violations if v.rule == "survives_transient_faults")
    assert "poll 1" in violation.received


@pytest.mark.parametrize(
    "fault",
    [InjectedFault(1, "drop"), InjectedFault(2, "drop"), InjectedFault(1, "429", 60)],
    ids=["drop-poll-1", "drop-poll-2", "429-60s"],
)
def test_a_faulted_run_is_recorded_identically_twenty_times(fault: InjectedFault) -> None:
    plain = explicit_fault_lifecycles()[0]
    lifecycle = Lifecycle(plain.path, plain.analysis, plain.timeline, faults=(fault,))
    backend = MockBackend()
    try:
        records = set()
        for attempt in range(20):
            run = backend.run_python(time_clients.urllib3_retrying, lifecycle, f"case_{attempt}")
            requests = [(r.at, r.method, r.status, r.fault, r.retry_after) for r in run.requests]
            records.add((*requests, run.did_return, run.ended_at))
        assert len(records) == 1, records
    finally:
        backend.close()


def test_the_same_seed_gives_the_same_strict_verdict() -> None:
    verdicts = set()
    for _ in range(3):
        result = check_client(time_clients.urllib3_retrying, examples=2, seed=7, strict=True)
        verdicts.add((tuple(result.broken_rules), tuple(v.received for v in result.violations)))
    assert len(verdicts) == 1, verdicts


@pytest.mark.parametrize(
    ("client", "message"),
    [
        (lambda: time_clients.asyncio_sleeps("r", base_url="", api_key=""), "coroutine object"),
        (MockBackend, "is a class"),
        (lambda: (yield), "generator function"),
    ],
)
def test_what_is_neither_a_function_nor_a_coroutine_function_is_a_usage_error(
    client: object, message: str
) -> None:
    candidate = client() if message == "coroutine object" else client  # type: ignore[operator]
    with pytest.raises(UsageError, match=message):
        check_client(candidate, examples=0)  # type: ignore[arg-type]


def test_a_client_blocked_off_the_clock_hits_the_safety_net_with_its_own_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(harness, "WALL_CLOCK_LIMIT", 1.0)
    with pytest.raises(VirtualTimeEscaped, match="does not virtualise"):
        check_client(time_clients.deadlocks, examples=0)


def test_the_kit_leaves_process_wide_logging_alone() -> None:
    before = logging.getLogger("werkzeug").level
    check_client(time_clients.datetime_deadline, examples=0, rules=["raises_on_not_found"])
    assert logging.getLogger("werkzeug").level == before


def test_only_client_threads_see_virtual_time() -> None:
    backend = MockBackend()
    try:
        seen: dict[str, float] = {}

        def client_thread() -> None:
            enter_virtual_thread()
            seen["before"] = time.time()
            time.sleep(3600)
            seen["after"] = time.time()
            seen["year"] = datetime.datetime.now().year

        with virtual_time(VirtualTimeHooks(backend.clock)):
            worker = threading.Thread(target=client_thread)
            worker.start()
            worker.join(10)
            kit_now = time.time()
        assert seen["after"] - seen["before"] == 3600
        assert seen["year"] == 2026 and seen["before"] == backend.clock.now() - 3600
        assert abs(kit_now - time.time()) < 5  # the kit's own thread stayed on real time
    finally:
        backend.close()


def test_keep_alive_connections_and_a_drop_on_the_loopback_server() -> None:
    import requests

    backend = MockBackend()
    try:
        lifecycle = explicit_lifecycles()[0]
        report_id, _ = backend.prepare(lifecycle, "case_keepalive")
        with requests.Session() as session:
            for _ in range(3):
                answer = session.get(
                    f"{backend.base_url}/api/reports/{report_id}",
                    headers={"X-API-Key": harness.API_KEY},
                )
                assert answer.status_code == 200
            backend.server.call(
                lambda: backend._control_here("PUT", "/_mock/faults", {"rules": ["drop"]})
            )
            # Cut after the status line, as the served mock (granian) does: no library can
            # take it for a connection closed before any answer and silently send it again.
            with pytest.raises(requests.exceptions.ChunkedEncodingError):
                session.get(
                    f"{backend.base_url}/api/reports/{report_id}",
                    headers={"X-API-Key": harness.API_KEY},
                )
    finally:
        backend.close()
