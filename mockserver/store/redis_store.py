"""The Redis store: several replicas on several hosts behind one load balancer.

Opened as ``redis://host:port/db`` (``rediss://`` for TLS, a password as
``redis://:secret@host:port/db``); ``?prefix=NAME`` puts every key under ``NAME:`` (default
``mockserver``), so several mocks can share one Redis database.

Keys, under the prefix:

- ``report:<id>``: a hash with the report's :mod:`mockserver.store.codec` text (``body``), its
  owner, case id and scenario (for the journal entry a poll writes in its one round trip), and ``cancelled_at`` once cancelled (``HSETNX``: the first cancel wins);
- ``case:<owner>:<case_id>``: a sorted set of that case's report ids scored by creation time,
  read newest first; ``by_age``: the same for every report, which retention trims;
- ``sequence`` (``INCR``), ``value:<key>`` (``SETNX``), ``number:<key>`` (``INCRBYFLOAT``);
- ``journal``: a list trimmed to its capacity with ``LTRIM`` on every append.

Every operation that must be atomic is one command, a ``MULTI`` block or a Lua script.
"""

from __future__ import annotations

import json
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from mockserver.core.lifecycle import ReportRecord
from mockserver.store.base import JournalEntry, StoreError
from mockserver.store.codec import entry_from_json, entry_to_json, record_from_json, record_to_json
from mockserver.store.group_commit import LoopBatches

__all__ = ["DEFAULT_PREFIX", "PollCall", "RedisPollBatches", "RedisStore", "split_redis_url"]

DEFAULT_PREFIX = "mockserver"
#: Seconds to connect, and to wait for any answer, before the store counts as down.
_CONNECT_TIMEOUT = 5
_SOCKET_TIMEOUT = 10
#: Reports removed per Lua call, so that a large purge never blocks Redis for long.
_REMOVAL_BATCH = 500

# KEYS[1] report hash; ARGV[1] cancellation time. Sets it only if the report exists and has none.
_MARK_CANCELLED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'cancelled_at', ARGV[1])
return redis.call('HMGET', KEYS[1], 'body', 'cancelled_at')
"""

# A poll in one round trip. KEYS[1] report hash, KEYS[2] the number, KEYS[3] journal,
# KEYS[4] the poll counter; ARGV[1] owner, ARGV[2] expected number, ARGV[3] and ARGV[4] the
# entry's text before and after its scenario, ARGV[5] the journal's size. The entry is
# written (with the report's scenario) only if the report is the owner's and the number is
# the expected one; the reply says whether. Lua's false is Redis's nil.
_REPORT_NUMBER_AND_ENTRY = """
local fields = redis.call('HMGET', KEYS[1], 'body', 'cancelled_at', 'owner', 'scenario')
local number = redis.call('GET', KEYS[2])
local written = 0
local scenario = fields[4]
if fields[1] and not scenario then
  scenario = cjson.decode(fields[1])['scenario']
end
if fields[1] and fields[3] == ARGV[1] and type(scenario) == 'string'
   and tonumber(number or '0') == tonumber(ARGV[2]) then
  redis.call('RPUSH', KEYS[3], ARGV[3] .. cjson.encode(scenario) .. ARGV[4])
  local size = tonumber(ARGV[5])
  if size > 0 then
    redis.call('LTRIM', KEYS[3], -size, -1)
  else
    redis.call('DEL', KEYS[3])
  end
  redis.call('INCRBYFLOAT', KEYS[4], 1)
  written = 1
end
return {fields[1] or false, fields[2] or false, number or false, written}
"""
#: Stands for the scenario in a journal entry's text, which the script splits around it.
_SCENARIO_PLACEHOLDER = "\x00scenario\x00"

# KEYS[1] by_age; ARGV[1] prefix, ARGV[2] exclusive score bound, ARGV[3] batch size.
_REMOVE_OLDEST = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'report:' .. id
  local who = redis.call('HMGET', key, 'owner', 'case_id')
  if who[1] then
    redis.call('ZREM', ARGV[1] .. 'case:' .. who[1] .. ':' .. who[2], id)
  end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], id)
end
return #ids
"""


# KEYS[1] hash {v: total, e: expiry}; ARGV[1] amount, ARGV[2] now, ARGV[3] new expiry,
# ARGV[4] real seconds to keep the key (garbage collection only; expiry itself is virtual).
_ADD_TO_EXPIRING = """
local expiry = redis.call('HGET', KEYS[1], 'e')
local total = 0
if expiry and tonumber(expiry) > tonumber(ARGV[2]) then
  total = tonumber(redis.call('HGET', KEYS[1], 'v'))
end
total = total + tonumber(ARGV[1])
local text = string.format('%.17g', total)
redis.call('HSET', KEYS[1], 'v', text, 'e', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return text
"""
#: Real seconds an expiring number's key outlives its last change (it lapses in virtual time).
_EXPIRING_KEY_LIFETIME = 24 * 3600


def split_redis_url(url: str) -> tuple[str, str]:
    """The URL for the Redis client and the key prefix (``?prefix=``), e.g. ``"mockserver"``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    kept = urlencode([(name, value) for name, value in query if name != "prefix"])
    prefix = prefixes[-1] if prefixes else DEFAULT_PREFIX
    if not prefix:
        raise StoreError(f"Store URL {url!r} has an empty prefix: use ?prefix=NAME or none")
    return urlunsplit(parts._replace(query=kept)), prefix


class RedisStore:
    """Reports, shared values and the journal in Redis."""

    kind = "redis"

    def __init__(self, url: str, *, journal_size: int = 1000) -> None:
        client_url, prefix = split_redis_url(url)
        self.prefix = prefix + ":"
        self.journal_size = journal_size
        try:
            self._redis = redis.Redis.from_url(
                client_url,
                decode_responses=True,
                socket_connect_timeout=_CONNECT_TIMEOUT,
                socket_timeout=_SOCKET_TIMEOUT,
            )
            self._redis.ping()
        except (redis.RedisError, ValueError) as error:
            raise StoreError(f"Cannot reach the Redis store at {client_url}: {error}") from error
        self._mark_cancelled = self._redis.register_script(_MARK_CANCELLED)
        self._remove_oldest = self._redis.register_script(_REMOVE_OLDEST)
        self._add_to_expiring = self._redis.register_script(_ADD_TO_EXPIRING)
        self._report_number_and_entry = self._redis.register_script(_REPORT_NUMBER_AND_ENTRY)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # --- reports --------------------------------------------------------------------------

    def add_report(self, record: ReportRecord) -> None:
        fields = ["body", record_to_json(record), "owner", record.owner, "case_id", record.case_id]
        fields += ["scenario", record.scenario]
        if record.cancelled_at is not None:
            fields += ["cancelled_at", repr(record.cancelled_at)]
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("report", record.id), items=fields)
            pipe.zadd(
                self._key("case", record.owner, record.case_id), {record.id: record.created_at}
            )
            pipe.zadd(self._key("by_age"), {record.id: record.created_at})
            pipe.execute()

    def get_report(self, report_id: str) -> ReportRecord | None:
        body, cancelled_at = cast(
            "list[str | None]",
            self._redis.hmget(self._key("report", report_id), ["body", "cancelled_at"]),
        )
        return None if body is None else _record_from_fields(body, cancelled_at)

    def report_and_number(
        self, report_id: str | None, key: str
    ) -> tuple[ReportRecord | None, float]:
        if not report_id:
            return None, self.number(key)
        with self._redis.pipeline(transaction=False) as pipe:  # one round trip
            pipe.hmget(self._key("report", report_id), ["body", "cancelled_at"])
            pipe.get(self._key("number", key))
            fields, number = cast("tuple[list[str | None], str | None]", pipe.execute())
        body, cancelled_at = fields
        record = None if body is None else _record_from_fields(body, cancelled_at)
        return record, 0.0 if number is None else float(number)

    def report_number_and_entry(
        self,
        report_id: str,
        key: str,
        *,
        owner: str,
        expected: float,
        entry: JournalEntry,
        count: str,
    ) -> tuple[ReportRecord | None, float, bool]:
        keys, args = self._poll_keys_and_args(report_id, key, owner, expected, entry, count)
        return _poll_reply(self._report_number_and_entry(keys=keys, args=args))

    def _poll_keys_and_args(
        self,
        report_id: str,
        key: str,
        owner: str,
        expected: float,
        entry: JournalEntry,
        count: str,
    ) -> tuple[list[str], list[Any]]:
        """The keys and arguments of the poll's Lua script (:data:`_REPORT_NUMBER_AND_ENTRY`)."""
        text = entry_to_json(replace(entry, scenario=_SCENARIO_PLACEHOLDER))
        before, _, after = text.partition(json.dumps(_SCENARIO_PLACEHOLDER))
        keys = [
            self._key("report", report_id),
            self._key("number", key),
            self._key("journal"),
            self._key("number", count),
        ]
        return keys, [owner, repr(expected), before, after, self.journal_size]

    def report_numbers_and_entries(
        self, polls: list[PollCall]
    ) -> list[tuple[ReportRecord | None, float, bool] | BaseException]:
        """:meth:`report_number_and_entry` of each poll, in one round trip (one pipeline of
        the poll's script); per poll, its answer, or the error of that poll alone."""
        calls = [
            self._poll_keys_and_args(p.report_id, p.key, p.owner, p.expected, p.entry, p.count)
            for p in polls
        ]
        replies: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))
        for attempt in range(2):
            with self._redis.pipeline(transaction=False) as pipe:
                for index in pending:
                    keys, args = calls[index]
                    pipe.evalsha(self._report_number_and_entry.sha, len(keys), *keys, *args)
                for index, reply in zip(pending, pipe.execute(raise_on_error=False), strict=True):
                    replies[index] = reply
            # A Redis that restarted has forgotten the script: load it, and run those again.
            pending = [i for i in pending if isinstance(replies[i], redis.exceptions.NoScriptError)]
            if not pending or attempt:
                break
            self._redis.script_load(_REPORT_NUMBER_AND_ENTRY)
        return [
            reply if isinstance(reply, BaseException) else _poll_reply(reply) for reply in replies
        ]

    def _records(self, report_ids: list[str]) -> list[ReportRecord]:
        if not report_ids:
            return []
        with self._redis.pipeline(transaction=False) as pipe:
            for report_id in report_ids:
                pipe.hmget(self._key("report", report_id), ["body", "cancelled_at"])
            rows = cast("list[list[str | None]]", pipe.execute())
        return [
            _record_from_fields(body, cancelled_at)
            for body, cancelled_at in rows
            if body is not None  # removed between the two round trips
        ]

    def reports_for_case(self, owner: str, case_id: str) -> list[ReportRecord]:
        ids = cast("list[str]", self._redis.zrevrange(self._key("case", owner, case_id), 0, -1))
        return self._records(ids)

    def recent_reports(self, limit: int) -> list[ReportRecord]:
        if limit <= 0:
            return []
        ids = cast("list[str]", self._redis.zrevrange(self._key("by_age"), 0, limit - 1))
        return self._records(ids)

    def mark_cancelled(self, report_id: str, at: float) -> ReportRecord | None:
        found = self._mark_cancelled(keys=[self._key("report", report_id)], args=[repr(at)])
        if not found:
            return None
        body, cancelled_at = cast("list[str | None]", found)
        return None if body is None else _record_from_fields(body, cancelled_at)

    def _remove_created_before(self, bound: str) -> int:
        removed = 0
        while True:
            batch = int(
                cast(
                    "int",
                    self._remove_oldest(
                        keys=[self._key("by_age")], args=[self.prefix, bound, _REMOVAL_BATCH]
                    ),
                )
            )
            removed += batch
            if batch < _REMOVAL_BATCH:
                return removed

    def remove_all_reports(self) -> int:
        return self._remove_created_before("+inf")

    def remove_reports_created_before(self, cutoff: float) -> int:
        return self._remove_created_before(f"({cutoff!r}")

    def report_count(self) -> int:
        return int(self._redis.zcard(self._key("by_age")))

    # --- shared values --------------------------------------------------------------------

    def next_sequence(self) -> int:
        return int(self._redis.incr(self._key("sequence")))

    def value_or_default(self, key: str, default: str) -> str:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.setnx(self._key("value", key), default)
            pipe.get(self._key("value", key))
            _, value = pipe.execute()
        return str(value)

    def set_value(self, key: str, value: str) -> None:
        self._redis.set(self._key("value", key), value)

    def add_to_number(self, key: str, amount: float) -> float:
        return float(self._redis.incrbyfloat(self._key("number", key), amount))

    def number(self, key: str) -> float:
        value = cast("str | None", self._redis.get(self._key("number", key)))
        return 0.0 if value is None else float(value)

    def value(self, key: str) -> str | None:
        return cast("str | None", self._redis.get(self._key("value", key)))

    def add_to_expiring_number(
        self, key: str, amount: float, *, now: float, expires_at: float
    ) -> float:
        total = self._add_to_expiring(
            keys=[self._key("expiring", key)],
            args=[repr(amount), repr(now), repr(expires_at), _EXPIRING_KEY_LIFETIME],
        )
        return float(cast("str", total))

    # --- journal --------------------------------------------------------------------------

    def append_request(self, entry: JournalEntry, *, count: str | None = None) -> None:
        with self._redis.pipeline(transaction=True) as pipe:  # one round trip
            pipe.rpush(self._key("journal"), entry_to_json(entry))
            if self.journal_size > 0:
                pipe.ltrim(self._key("journal"), -self.journal_size, -1)
            else:
                pipe.delete(self._key("journal"))
            if count is not None:
                pipe.incrbyfloat(self._key("number", count), 1)
            pipe.execute()

    def requests(self, limit: int) -> tuple[list[JournalEntry], int]:
        with self._redis.pipeline(transaction=True) as pipe:
            if limit:
                pipe.lrange(self._key("journal"), -limit, -1)
            pipe.llen(self._key("journal"))
            results: list[Any] = pipe.execute()
        texts: list[str] = results[0] if limit else []
        return [entry_from_json(text) for text in texts], int(results[-1])

    def clear_requests(self) -> None:
        self._redis.delete(self._key("journal"))

    def close(self) -> None:
        self._redis.close()


def _poll_reply(reply: Any) -> tuple[ReportRecord | None, float, bool]:
    body, cancelled_at, number, written = cast("list[Any]", reply)
    record = None if body is None else _record_from_fields(body, cancelled_at)
    return record, 0.0 if number is None else float(number), bool(written)


@dataclass(frozen=True)
class PollCall:
    """The arguments of one :meth:`RedisStore.report_number_and_entry`."""

    report_id: str
    key: str
    owner: str
    expected: float
    entry: JournalEntry
    count: str


class RedisPollBatches:
    """The poll's round trip for an event loop (a :class:`LoopPollStore`), in batches.

    A served worker answers most polls on its event loop. Handing each poll's one Lua call
    to a pool thread cost more than the call (measured: ~190 µs of CPU per poll, against
    ~50 µs in batches; ``redis.asyncio`` per call cost as much as the thread): here the
    polls in flight on the loop go together, as one pipeline of the same script, in one
    round trip made by ``executor``'s thread, while the next polls queue. A Redis that is
    down fails every poll of the batch with its error (the outage's 503).
    """

    def __init__(self, store: RedisStore, executor: Executor) -> None:
        self._batches = LoopBatches(store.report_numbers_and_entries, executor)

    async def report_number_and_entry(
        self,
        report_id: str,
        key: str,
        *,
        owner: str,
        expected: float,
        entry: JournalEntry,
        count: str,
    ) -> tuple[ReportRecord | None, float, bool]:
        """:meth:`RedisStore.report_number_and_entry`, awaited with the others in flight."""
        return await self._batches.submit(PollCall(report_id, key, owner, expected, entry, count))


def _record_from_fields(body: str, cancelled_at: str | None) -> ReportRecord:
    record = record_from_json(body)
    if cancelled_at is not None:
        moment = float(cancelled_at)
        if record.cancelled_at != moment:
            record = replace(record, cancelled_at=moment)
    return record
