"""The storage contract: every backend (memory, SQLite, a real Redis) behaves the same.

Each test states one property of :class:`mockserver.store.base.ReportStore` and runs on every
backend; a new backend is done when it passes this file and the API suite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.case_profile import DEMO_PROFILE, profile_for_case
from mockserver.core.lifecycle import Phase, ReportRecord
from mockserver.store import StoreError, open_store
from mockserver.store.base import JournalEntry, ReportStore
from mockserver.store.codec import record_from_json, record_to_json

PROCESSING = {"current_step": "delta_v_calculation", "steps_completed": [], "message": "Go"}


def make_record(
    report_id: str = "rpt_1",
    *,
    owner: str = "owner-a",
    case_id: str = "case_1",
    created_at: float = 1_000.0,
    **fields: Any,
) -> ReportRecord:
    """A small but complete report (three phases, a derived profile)."""
    plan = (
        Phase(0.0, "pending", {"message": "Starting analysis..."}),
        Phase(10.5, "processing", PROCESSING),
        Phase(120.25, "completed", None),
    )
    return ReportRecord(
        id=report_id,
        owner=owner,
        case_id=case_id,
        type="technical_report",
        scenario="happy",
        created_at=created_at,
        plan=plan,
        profile=profile_for_case(case_id, seed=3, include_biomechanics=True),
        **fields,
    )


def entry(path: str, at: float = 1.0) -> JournalEntry:
    return JournalEntry("GET", path, "", 200, at, None, None)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, new_store_url: Callable[[str], str]) -> str:
    url: str = new_store_url(request.param)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[ReportStore]:
    opened = open_store(store_url, journal_size=3)
    yield opened
    opened.close()


# --- reports -----------------------------------------------------------------------------


def test_a_stored_report_reads_back_equal(store: ReportStore) -> None:
    record = make_record(
        extra_fields={"region": "eu", "nested": {"n": [1, 2.5, None]}},
        scripted_report='{"schema_version": "1.0", "sections": []}',
        demo=True,
    )
    store.add_report(record)
    assert store.get_report("rpt_1") == record


def test_an_unknown_report_is_none(store: ReportStore) -> None:
    assert store.get_report("rpt_missing") is None


def test_reports_of_a_case_come_newest_first(store: ReportStore) -> None:
    for report_id, created_at in (("rpt_a", 5.0), ("rpt_c", 9.0), ("rpt_b", 7.0)):
        store.add_report(make_record(report_id, created_at=created_at))
    assert [r.id for r in store.reports_for_case("owner-a", "case_1")] == [
        "rpt_c",
        "rpt_b",
        "rpt_a",
    ]


def test_reports_created_the_same_second_are_ordered_by_id_descending(
    store: ReportStore,
) -> None:
    for report_id in ("rpt_b", "rpt_a", "rpt_c"):
        store.add_report(make_record(report_id, created_at=5.0))
    assert [r.id for r in store.reports_for_case("owner-a", "case_1")] == [
        "rpt_c",
        "rpt_b",
        "rpt_a",
    ]


def test_reports_of_a_case_belong_to_their_owner(store: ReportStore) -> None:
    store.add_report(make_record("rpt_mine", owner="owner-a"))
    store.add_report(make_record("rpt_theirs", owner="owner-b"))
    assert [r.id for r in store.reports_for_case("owner-b", "case_1")] == ["rpt_theirs"]


def test_recent_reports_are_the_newest_of_every_owner(store: ReportStore) -> None:
    store.add_report(make_record("rpt_old", owner="owner-a", created_at=1.0))
    store.add_report(make_record("rpt_new", owner="owner-b", created_at=3.0, case_id="c2"))
    store.add_report(make_record("rpt_mid", owner="owner-a", created_at=2.0, case_id="c3"))
    assert [r.id for r in store.recent_reports(2)] == ["rpt_new", "rpt_mid"]


def test_cancelling_sets_the_time_once(store: ReportStore) -> None:
    store.add_report(make_record())
    first = store.mark_cancelled("rpt_1", 50.0)
    second = store.mark_cancelled("rpt_1", 80.0)
    assert first is not None and second is not None
    assert (first.cancelled_at, second.cancelled_at) == (50.0, 50.0)


def test_a_cancellation_is_seen_by_later_reads(store: ReportStore) -> None:
    store.add_report(make_record())
    store.mark_cancelled("rpt_1", 50.0)
    assert store.get_report("rpt_1") == replace(make_record(), cancelled_at=50.0)


def test_cancelling_an_unknown_report_stores_nothing(store: ReportStore) -> None:
    assert store.mark_cancelled("rpt_missing", 50.0) is None
    assert store.get_report("rpt_missing") is None


def test_removing_all_reports_counts_and_forgets_them(store: ReportStore) -> None:
    store.add_report(make_record("rpt_a"))
    store.add_report(make_record("rpt_b", case_id="case_2"))
    assert store.remove_all_reports() == 2
    assert store.report_count() == 0
    assert store.reports_for_case("owner-a", "case_1") == []


def test_retention_removes_exactly_the_reports_created_before_the_cutoff(
    store: ReportStore,
) -> None:
    for n, created_at in enumerate((10.0, 20.0, 30.0, 15.0)):
        store.add_report(make_record(f"rpt_{n}", created_at=created_at))
    assert store.remove_reports_created_before(20.0) == 2
    assert sorted(r.id for r in store.recent_reports(10)) == ["rpt_1", "rpt_2"]


def test_retention_also_forgets_the_case_index(store: ReportStore) -> None:
    store.add_report(make_record("rpt_old", created_at=10.0))
    store.add_report(make_record("rpt_new", created_at=30.0))
    store.remove_reports_created_before(20.0)
    assert [r.id for r in store.reports_for_case("owner-a", "case_1")] == ["rpt_new"]


def test_report_count_counts_the_stored_reports(store: ReportStore) -> None:
    for n in range(4):
        store.add_report(make_record(f"rpt_{n}"))
    assert store.report_count() == 4


# --- shared values -----------------------------------------------------------------------


def test_sequence_counts_from_one(store: ReportStore) -> None:
    assert [store.next_sequence() for _ in range(3)] == [1, 2, 3]


def test_the_first_default_of_a_value_wins(store: ReportStore) -> None:
    assert store.value_or_default("secret", "first") == "first"
    assert store.value_or_default("secret", "second") == "first"


def test_set_value_replaces_a_value(store: ReportStore) -> None:
    store.value_or_default("anchor", "old")
    store.set_value("anchor", "new")
    assert store.value("anchor") == "new"


def test_an_absent_value_is_none(store: ReportStore) -> None:
    assert store.value("never-set") is None


def test_numbers_start_at_zero_and_accumulate(store: ReportStore) -> None:
    assert store.number("advanced") == 0.0
    store.add_to_number("advanced", 300.5)
    assert store.add_to_number("advanced", -0.25) == 300.25
    assert store.number("advanced") == 300.25


def test_a_report_and_a_number_read_together(store: ReportStore) -> None:
    store.add_report(make_record("rpt_1"))
    store.add_to_number("version", 3)
    record, number = store.report_and_number("rpt_1", "version")
    assert (record, number) == (store.get_report("rpt_1"), 3.0)
    assert store.report_and_number("rpt_unknown", "version") == (None, 3.0)
    assert store.report_and_number(None, "absent") == (None, 0.0)


def test_a_poll_entry_is_written_with_the_read_only_when_the_guess_holds(
    store: ReportStore,
) -> None:
    store.add_report(replace(make_record("rpt_1"), scenario="slow"))
    store.add_to_number("version", 3)
    guessed = JournalEntry("GET", "/api/reports/rpt_1", "a=1", 200, 7.0, "rpt_1", None)

    def poll(report_id: str, owner: str, expected: float) -> tuple[bool, float]:
        record, number, written = store.report_number_and_entry(
            report_id, "version", owner=owner, expected=expected, entry=guessed, count="polls"
        )
        assert record == store.get_report(report_id) and number == 3.0
        return written, store.number("polls")

    assert poll("rpt_1", "owner-b", 3.0) == (False, 0.0)  # another tenant's report
    assert poll("rpt_1", "owner-a", 2.0) == (False, 0.0)  # the caches are stale
    assert poll("rpt_unknown", "owner-a", 3.0) == (False, 0.0)
    assert store.requests(10) == ([], 0)
    assert poll("rpt_1", "owner-a", 3.0) == (True, 1.0)
    assert store.requests(10) == ([replace(guessed, scenario="slow")], 1)


def test_a_redis_report_written_without_its_scenario_field_is_polled_in_one_trip(
    new_store_url: Callable[[str], str],
) -> None:
    from mockserver.store.redis_store import RedisStore

    store = open_store(new_store_url("redis"))
    assert isinstance(store, RedisStore)
    store.add_report(replace(make_record("rpt_old"), scenario="slow"))
    store._redis.hdel(store._key("report", "rpt_old"), "scenario")  # as an older version wrote
    guessed = JournalEntry("GET", "/api/reports/rpt_old", "", 200, 7.0, "rpt_old", None)
    record, _, written = store.report_number_and_entry(
        "rpt_old", "version", owner="owner-a", expected=0.0, entry=guessed, count="polls"
    )
    assert record is not None and record.scenario == "slow" and written
    assert store.requests(10) == ([replace(guessed, scenario="slow")], 1)  # from the body
    assert store.number("polls") == 1
    store.close()


def test_redis_polls_in_one_pipeline_keep_each_entry_only_when_its_guess_holds(
    new_store_url: Callable[[str], str],
) -> None:
    """The event loop's batches run the one-poll script: the same answer for each poll,
    and a Redis that forgot the script (restarted) is given it again."""
    from mockserver.store.redis_store import PollCall, RedisStore

    store = open_store(new_store_url("redis"))
    assert isinstance(store, RedisStore)
    store.add_report(replace(make_record("rpt_1"), scenario="slow"))
    store.add_to_number("version", 3)
    guessed = JournalEntry("GET", "/api/reports/rpt_1", "a=1", 200, 7.0, "rpt_1", None)
    store._redis.script_flush()  # as after a restart of Redis

    def call(report_id: str, owner: str, expected: float) -> PollCall:
        return PollCall(report_id, "version", owner, expected, guessed, "polls")

    answers = store.report_numbers_and_entries(
        [
            call("rpt_1", "owner-b", 3.0),  # another tenant's report
            call("rpt_1", "owner-a", 2.0),  # the caches are stale
            call("rpt_unknown", "owner-a", 3.0),
            call("rpt_1", "owner-a", 3.0),
            call("rpt_1", "owner-a", 3.0),
        ]
    )
    record = store.get_report("rpt_1")
    assert answers == [
        (record, 3.0, False),
        (record, 3.0, False),
        (None, 3.0, False),
        (record, 3.0, True),
        (record, 3.0, True),
    ]
    assert store.requests(10) == ([replace(guessed, scenario="slow")] * 2, 2)
    assert store.number("polls") == 2
    store.close()


def test_an_expiring_number_accumulates_until_it_lapses(store: ReportStore) -> None:
    store.add_to_expiring_number("window", 1, now=0.0, expires_at=60.0)
    assert store.add_to_expiring_number("window", 1, now=30.0, expires_at=60.0) == 2
    assert store.add_to_expiring_number("window", 1, now=60.0, expires_at=120.0) == 1


# --- journal -----------------------------------------------------------------------------


def test_journal_returns_the_newest_entries_oldest_first(store: ReportStore) -> None:
    for path in ("/a", "/b"):
        store.append_request(entry(path))
    entries, total = store.requests(10)
    assert ([e.path for e in entries], total) == (["/a", "/b"], 2)


def test_journal_is_a_ring_of_its_capacity(store: ReportStore) -> None:
    for path in ("/a", "/b", "/c", "/d", "/e"):
        store.append_request(entry(path))
    entries, total = store.requests(10)
    assert ([e.path for e in entries], total) == (["/c", "/d", "/e"], 3)


def test_journal_limit_keeps_the_newest(store: ReportStore) -> None:
    for path in ("/a", "/b", "/c"):
        store.append_request(entry(path))
    assert [e.path for e in store.requests(1)[0]] == ["/c"]


def test_journal_entries_read_back_equal(store: ReportStore) -> None:
    written = JournalEntry("POST", "/api/reports", "x=1", 201, 12.75, "rpt_1", "happy")
    store.append_request(written)
    assert store.requests(1)[0] == [written]


def test_a_journal_entry_can_count_in_the_same_write(store: ReportStore) -> None:
    for path in ("/a", "/b", "/c", "/d"):
        store.append_request(entry(path), count="polls")
    store.append_request(entry("/e"))
    entries, total = store.requests(10)
    assert ([e.path for e in entries], total) == (["/c", "/d", "/e"], 3)  # still a ring
    assert store.number("polls") == 4.0


def test_clearing_the_journal_empties_it(store: ReportStore) -> None:
    store.append_request(entry("/a"))
    store.clear_requests()
    assert store.requests(10) == ([], 0)


# --- several workers on one store ----------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def shared_url(request: pytest.FixtureRequest, new_store_url: Callable[[str], str]) -> str:
    url: str = new_store_url(request.param)
    return url


def test_a_report_written_through_one_connection_is_read_through_another(
    shared_url: str,
) -> None:
    writer, reader = open_store(shared_url), open_store(shared_url)
    try:
        writer.add_report(make_record())
        assert reader.get_report("rpt_1") == make_record()
    finally:
        writer.close()
        reader.close()


def test_sequences_stay_unique_across_concurrent_workers(shared_url: str) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        own = open_store(shared_url)  # its own connection, as a worker process has
        try:
            numbers = [own.next_sequence() for _ in range(100)]
        finally:
            own.close()
        with lock:
            seen.extend(numbers)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 401))


def test_only_one_of_concurrent_cancellations_wins(shared_url: str) -> None:
    open_store(shared_url).add_report(make_record())
    results: list[float | None] = []

    def cancel(at: float) -> None:
        own = open_store(shared_url)
        try:
            record = own.mark_cancelled("rpt_1", at)
        finally:
            own.close()
        results.append(None if record is None else record.cancelled_at)

    threads = [threading.Thread(target=cancel, args=(float(at),)) for at in range(10, 18)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1


# --- opening stores ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["postgres://localhost/db", "sqlite:///", "redis://127.0.0.1:1/0?prefix="]
)
def test_a_store_url_that_cannot_be_opened_says_so(url: str) -> None:
    with pytest.raises(StoreError):
        open_store(url)


def test_an_unreachable_redis_is_reported_with_its_address() -> None:
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1"):
        open_store("redis://127.0.0.1:1/0")


# --- the codec ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    created_at=st.floats(min_value=0, max_value=4e9),
    progress=st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    extra=st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    cancelled_at=st.none() | st.floats(min_value=0, max_value=4e9),
    scripted=st.none() | st.just("null") | st.text(max_size=20),
)
def test_the_codec_round_trips_every_record_exactly(
    created_at: float,
    progress: dict[str, Any] | None,
    extra: dict[str, Any] | None,
    cancelled_at: float | None,
    scripted: str | None,
) -> None:
    record = replace(
        make_record(created_at=created_at),
        plan=(Phase(0.0, "pending", progress), Phase(0.1 + 1e-9, "processing", None)),
        extra_fields=extra,
        cancelled_at=cancelled_at,
        scripted_report=scripted,
        profile=DEMO_PROFILE,
    )
    assert record_from_json(record_to_json(record)) == record


def test_the_codec_refuses_a_record_of_another_format_version() -> None:
    text = record_to_json(make_record()).replace('"v":1', '"v":99')
    with pytest.raises(StoreError, match="format version 99"):
        record_from_json(text)
