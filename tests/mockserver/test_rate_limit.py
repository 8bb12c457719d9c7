"""The documented rate limit: the counting (pure), and the headers and 429s on /api."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockserver.core import messages
from mockserver.core.rate_limit import RateLimitDecision, RateLimiter, RateLimitPolicy
from mockserver.settings import SettingsError
from mockserver.store.memory import MemoryStore

KEY = {"X-API-Key": "sk-test-tenant-one"}
OTHER_KEY = {"X-API-Key": "sk-test-tenant-two"}
#: 2026-01-15T10:30:00Z (the suite's START_TIME), the start of a virtual minute.
START = 1768473000.0
MINUTE_END = 1768473060


def limiter(limit: int = 5, window: str = "fixed") -> RateLimiter:
    return RateLimiter(RateLimitPolicy(limit=limit, window=window), MemoryStore())  # type: ignore[arg-type]


def hits(rate_limiter: RateLimiter, count: int, now: float, subject: str = "k") -> list[bool]:
    return [rate_limiter.hit(subject, now).allowed for _ in range(count)]


# --- counting, pure ----------------------------------------------------------------------------


def test_the_documented_default_is_100_per_minute() -> None:
    assert (RateLimitPolicy().limit, RateLimitPolicy().window_seconds) == (100, 60)


def test_a_fixed_window_counts_down_then_refuses() -> None:
    rate_limiter = limiter(3)
    decisions = [rate_limiter.hit("k", START) for _ in range(4)]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert [d.allowed for d in decisions] == [True, True, True, False]


def test_a_refusal_says_when_the_window_ends() -> None:
    rate_limiter = limiter(1)
    rate_limiter.hit("k", START)
    refused = rate_limiter.hit("k", START + 0.5)
    assert refused == RateLimitDecision(
        False, 1, 0, MINUTE_END, math.ceil(MINUTE_END - START - 0.5)
    )


def test_a_fixed_window_refills_at_the_next_minute() -> None:
    rate_limiter = limiter(2)
    hits(rate_limiter, 3, START)
    assert hits(rate_limiter, 3, MINUTE_END) == [True, True, False]


def test_refused_requests_do_not_use_up_the_next_budget() -> None:
    rate_limiter = limiter(2, "sliding")
    hits(rate_limiter, 2, MINUTE_END - 1)
    hits(rate_limiter, 50, MINUTE_END - 0.5)  # refused, and not counted
    # Half of the previous minute's 2 still count; 50 more would have filled the budget.
    assert rate_limiter.hit("k", MINUTE_END + 30).allowed


def test_each_key_has_its_own_budget() -> None:
    rate_limiter = limiter(1)
    rate_limiter.hit("a", START)
    assert rate_limiter.hit("b", START).allowed and not rate_limiter.hit("a", START).allowed


def test_a_sliding_window_weighs_the_previous_minute() -> None:
    rate_limiter = limiter(10, "sliding")
    hits(rate_limiter, 10, MINUTE_END - 1)
    # Half-way through the next minute, half of the previous minute's 10 still count.
    assert hits(rate_limiter, 6, MINUTE_END + 30) == [True] * 5 + [False]


def test_a_sliding_window_has_no_burst_at_the_minute_boundary() -> None:
    fixed, sliding = limiter(10), limiter(10, "sliding")
    for rate_limiter in (fixed, sliding):
        hits(rate_limiter, 10, MINUTE_END - 1)
    assert sum(hits(fixed, 10, MINUTE_END)) == 10 and sum(hits(sliding, 10, MINUTE_END)) == 0


@pytest.mark.parametrize("window", ["fixed", "sliding"])
@pytest.mark.parametrize("offset", [0.0, 1.0, 17.25, 45.5, 59.0])
def test_retry_after_is_exactly_long_enough(window: str, offset: float) -> None:
    rate_limiter = limiter(4, window)
    hits(rate_limiter, 3, MINUTE_END - 60)
    now = MINUTE_END + offset
    hits(rate_limiter, 10, now)
    refused = rate_limiter.hit("k", now)
    assert refused.retry_after is not None
    assert not rate_limiter.hit("k", now + refused.retry_after - 1).allowed
    assert rate_limiter.hit("k", now + refused.retry_after).allowed


def test_headers_carry_the_decision() -> None:
    decision = RateLimitDecision(False, 100, 0, MINUTE_END, 12)
    assert decision.headers() == {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(MINUTE_END),
        "Retry-After": "12",
    }


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"limit": 0}, "limit=0: use a whole number of requests, 1 or more"),
        ({"limit": True}, "limit=True"),
        ({"window": "rolling"}, "window='rolling': use fixed or sliding"),
        ({"window_seconds": 0}, "window_seconds=0"),
    ],
)
def test_a_bad_policy_is_refused(arguments: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        RateLimitPolicy(**arguments)


# --- on the wire ---------------------------------------------------------------------------------


@pytest.fixture
def limited(app_factory: Callable[..., Any]) -> FlaskClient:
    """A mock enforcing 3 requests per virtual minute per key, on a frozen clock."""
    client: FlaskClient = app_factory(RATE_LIMIT=True, RATE_LIMIT_PER_MINUTE=3).test_client()
    return client


def create(client: FlaskClient, headers: dict[str, str] = KEY) -> Any:
    body = {"case_id": "case_limited", "type": "technical_report"}
    return client.post("/api/reports", json=body, headers=headers)


def test_the_limit_is_off_by_default(client: FlaskClient) -> None:
    responses = [create(client) for _ in range(150)]
    assert {r.status_code for r in responses} == {200}
    assert "X-RateLimit-Limit" not in responses[-1].headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/api/reports", 200),
        ("POST", "/api/reports", 400),
        ("GET", "/api/reports/rpt_unknown", 200),
        ("GET", "/api/reports?case_id=case_limited", 200),
        ("GET", "/api/reports", 400),
        ("DELETE", "/api/reports/rpt_unknown", 404),
    ],
)
def test_every_api_answer_carries_the_headers(
    limited: FlaskClient, method: str, path: str, status: int
) -> None:
    body = {"case_id": "c", "type": "technical_report"} if status == 200 else {}
    response = limited.open(path, method=method, json=body, headers=KEY)
    assert response.status_code == status
    assert {k: v for k, v in response.headers if k.startswith("X-RateLimit")} == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "2",
        "X-RateLimit-Reset": str(MINUTE_END),
    }


def test_past_the_limit_is_a_429_envelope_with_retry_after(limited: FlaskClient) -> None:
    for _ in range(3):
        create(limited)
    response = create(limited)
    assert response.status_code == 429
    assert response.get_json() == {
        "success": False,
        "error": messages.RATE_LIMIT_EXCEEDED.format(limit=3, seconds=60),
    }
    assert (response.headers["Retry-After"], response.headers["X-RateLimit-Remaining"]) == (
        "60",
        "0",
    )


def test_a_refused_create_creates_nothing(limited: FlaskClient) -> None:
    for _ in range(5):
        create(limited)
    limited.post("/_mock/clock/advance", json={"seconds": 60})
    listed = limited.get("/api/reports?case_id=case_limited", headers=KEY).get_json()
    assert listed["data"]["total"] == 3


def test_advancing_the_virtual_clock_refills_the_budget(limited: FlaskClient) -> None:
    for _ in range(4):
        create(limited)
    limited.post("/_mock/clock/advance", json={"seconds": 60})
    assert create(limited).headers["X-RateLimit-Remaining"] == "2"


def test_another_key_keeps_its_own_budget(limited: FlaskClient) -> None:
    for _ in range(4):
        create(limited)
    assert create(limited, OTHER_KEY).status_code == 200


def test_a_request_without_a_key_is_neither_counted_nor_limited(limited: FlaskClient) -> None:
    response = limited.get("/api/reports/rpt_1")
    assert response.status_code == 401 and "X-RateLimit-Limit" not in response.headers
    assert create(limited).headers["X-RateLimit-Remaining"] == "2"


def test_the_control_api_and_downloads_are_not_limited(limited: FlaskClient) -> None:
    for _ in range(4):
        create(limited)
    assert limited.get("/_mock/clock").status_code == 200
    assert limited.get("/storage/reports/rpt_1.pdf").status_code == 403


def test_workers_sharing_a_store_share_the_limit(
    app_factory: Callable[..., Any], new_store_url: Callable[[str], str]
) -> None:
    store = new_store_url("sqlite")
    first, second = (
        app_factory(RATE_LIMIT=True, RATE_LIMIT_PER_MINUTE=3, STORE=store).test_client()
        for _ in range(2)
    )
    statuses = [create(client).status_code for client in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"RATE_LIMIT": "maybe"}, "RATE_LIMIT='maybe' must be true or false"),
        ({"RATE_LIMIT_PER_MINUTE": 0}, "RATE_LIMIT_PER_MINUTE=0: use a whole number"),
        ({"RATE_LIMIT_PER_MINUTE": 2.5}, "RATE_LIMIT_PER_MINUTE=2.5: use a whole number"),
        ({"RATE_LIMIT_PER_MINUTE": "lots"}, "RATE_LIMIT_PER_MINUTE='lots' must be a number"),
        ({"RATE_LIMIT_WINDOW": "rolling"}, "RATE_LIMIT_WINDOW='rolling': use fixed or sliding"),
    ],
)
def test_a_bad_rate_limit_setting_stops_the_server(
    app_factory: Callable[..., Any], config: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SettingsError, match=problem):
        app_factory(**{"RATE_LIMIT": True, **config})
