"""Every named scenario, followed over HTTP second by second on the advanced clock."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.core import messages
from mockserver.core.scenarios import SCENARIOS


def observed_path(api: Any, scenario: str, *, seconds: int, step: int = 5) -> list[tuple[str, Any]]:
    """The distinct (status, progress) pairs a client polling every ``step`` seconds sees."""
    created = api.create("case_paths", scenario=scenario, options={"include_biomechanics": True})
    seen: list[tuple[str, Any]] = []
    for _ in range(0, seconds, step):
        report = api.get(created["id"])
        pair = (report["status"], report["progress"])
        if not seen or seen[-1] != pair:
            seen.append(pair)
        api.advance(step)
    return seen


def messages_of(path: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [(status, progress["message"]) for status, progress in path]


def test_happy_walks_every_documented_message_in_order(api: Any) -> None:
    assert messages_of(observed_path(api, "happy", seconds=400)) == [
        ("pending", messages.MESSAGE_STARTING),
        ("processing", messages.MESSAGE_STARTING),
        ("processing", messages.MESSAGE_BIOMECHANICS_RUNNING),
        ("processing", messages.MESSAGE_ANALYSIS_COMPLETE),
        ("completed", messages.MESSAGE_GENERATION_COMPLETE),
    ]


@pytest.mark.parametrize(
    ("scenario", "final"),
    [
        ("fail_delta_v", ("failed", messages.MESSAGE_DELTA_V_FAILED)),
        ("fail_biomechanics", ("failed", messages.MESSAGE_BIOMECHANICS_FAILED)),
        ("fail_timeout", ("failed", messages.MESSAGE_GENERATION_TIMED_OUT)),
        ("fail_internal", ("failed", messages.MESSAGE_INTERNAL_ERROR)),
        ("cancelled", ("cancelled", messages.MESSAGE_CANCELLED)),
        ("slow", ("completed", messages.MESSAGE_GENERATION_COMPLETE)),
    ],
)
def test_each_scenario_ends_as_named(api: Any, scenario: str, final: tuple[str, str]) -> None:
    path = messages_of(observed_path(api, scenario, seconds=1200, step=20))
    assert path[0] == ("pending", messages.MESSAGE_STARTING)
    assert path[-1] == final


def test_stuck_is_still_processing_after_a_day(api: Any) -> None:
    path = observed_path(api, "stuck", seconds=24 * 3600, step=3600)
    assert path[-1][0] == "processing"


def test_slow_is_unfinished_at_the_ten_minute_guideline(api: Any) -> None:
    created = api.create(scenario="slow")
    api.advance(600)
    assert api.get(created["id"])["status"] == "processing"


def test_updated_at_moves_with_each_phase(api: Any) -> None:
    created = api.create()
    api.advance(60)
    report = api.get(created["id"])
    assert report["updated_at"] > report["created_at"]


def test_every_scenario_is_covered_here() -> None:
    covered = {
        "happy",
        "stuck",
        "fail_delta_v",
        "fail_biomechanics",
        "fail_timeout",
        "fail_internal",
        "cancelled",
        "slow",
    }
    assert covered == set(SCENARIOS)
