"""The run-time fault plan: the rules in force, their seed, and the request counts.

Two sources of rules, applied together (a report's own first):

- the server's (``FAULTS`` setting, ``--fault``, ``MOCKSERVER_FAULTS``), replaced at run time
  by ``PUT /_mock/faults`` and restored by ``DELETE /_mock/faults`` or ``POST /_mock/reset``;
- a report's own, from the ``X-Mock-Faults`` header of the ``POST /api/reports`` that created
  it (they strike the requests that concern that report: its GETs, its DELETE, its downloads).

Rules, counters and the run-time plan live in the store under the keys below, so every
worker agrees on the plan and on each report's poll numbers. Each worker caches the rules it
read, with the store's cache version (:data:`~mockserver.store.base.CACHE_VERSION_KEY`) they
were read at; every change of rules adds 1 to that version. So with no rule set, choosing a
fault reads nothing from the store, and a report's request counter is added to in the same
write as the request's journal entry (:attr:`~mockserver.service.RequestScope.deferred_count`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from mockserver.core import messages
from mockserver.core.fault_choice import Fault, choose_fault
from mockserver.core.fault_rules import (
    FAULT_KINDS,
    ROUTES,
    FaultRequest,
    FaultRule,
    FaultSpecError,
    Route,
    parse_rules,
    rules_to_json,
    rules_to_spec,
)
from mockserver.service import RequestRejected, RequestScope
from mockserver.store.base import CACHE_VERSION_KEY, ReportStore

__all__ = ["FaultPlan", "parse_report_rules"]

_RUNTIME_KEY = "faults.runtime"
_EPOCH_KEY = "faults.epoch"
#: How many reports were ever given rules of their own (0: no report rules to read).
_RULED_REPORTS_KEY = "faults.ruled_reports"
#: Reports whose own rules a worker keeps (cleared when the cache version moves).
_CACHED_REPORT_RULES = 4096


def _report_key(report_id: str) -> str:
    return f"faults.report.{report_id}"


def _count_key(scope: str, route: str) -> str:
    return f"faults.count.{scope}.{route}"


@lru_cache(maxsize=256)
def _rules_from_text(text: str) -> tuple[FaultRule, ...]:
    return parse_rules(json.loads(text))


@lru_cache(maxsize=16)
def _runtime_from_text(text: str) -> tuple[tuple[FaultRule, ...], int]:
    stored = json.loads(text)
    return parse_rules(stored["rules"]), int(stored["seed"])


class FaultPlan:
    """The fault plan of one app, kept in its store: what to inject, and into which request."""

    def __init__(
        self,
        store: ReportStore,
        *,
        configured: tuple[FaultRule, ...],
        seed: int,
    ) -> None:
        self._store = store
        self._configured = configured
        self._seed = seed
        # What this worker read, and the store's cache version it read it at.
        self._version: float | None = None
        self._cached_active: tuple[tuple[FaultRule, ...], int] = (configured, seed)
        self._any_report_rules = True
        self._cached_report_rules: dict[str, tuple[FaultRule, ...]] = {}

    def _refresh(self, version: float) -> None:
        """Read the rules again if the store's cache version moved since they were read."""
        if version == self._version:
            return
        rules, seed, _ = self.active()
        self._cached_active = (rules, seed)
        self._any_report_rules = self._store.number(_RULED_REPORTS_KEY) > 0
        self._cached_report_rules.clear()
        self._version = version

    def _changed(self) -> None:
        self._store.add_to_number(CACHE_VERSION_KEY, 1)

    # --- the server-wide plan (GET/PUT/DELETE /_mock/faults) ------------------------------

    def active(self) -> tuple[tuple[FaultRule, ...], int, str]:
        """The server-wide rules, their seed, and where they come from (configured/runtime)."""
        text = self._store.value(_RUNTIME_KEY)
        if not text:
            return self._configured, self._seed, "configured"
        rules, seed = _runtime_from_text(text)
        return rules, seed, "runtime"

    def view(self) -> dict[str, Any]:
        """``GET /_mock/faults``."""
        rules, seed, source = self.active()
        return {
            "source": source,
            "seed": seed,
            "rules": rules_to_json(rules),
            "spec": rules_to_spec(rules),
            "faults": list(FAULT_KINDS),
            "routes": list(ROUTES),
        }

    def replace(self, body: object) -> dict[str, Any]:
        """``PUT /_mock/faults`` with ``{"rules": [...], "seed": N}``: the new plan."""
        if not isinstance(body, dict) or "rules" not in body:
            problem = "the body must be a JSON object with a rules field"
            raise RequestRejected(messages.FAULT_PLAN_INVALID.format(problem=problem))
        unknown = sorted(set(body) - {"rules", "seed"})
        if unknown:
            problem = f"unknown field {unknown[0]!r}"
            raise RequestRejected(messages.FAULT_PLAN_INVALID.format(problem=problem))
        seed = body.get("seed", self._seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            problem = messages.FAULT_BAD_SEED.format(value=json.dumps(seed)[:40])
            raise RequestRejected(messages.FAULT_PLAN_INVALID.format(problem=problem))
        try:
            rules = parse_rules(body["rules"])
        except FaultSpecError as error:
            raise RequestRejected(messages.FAULT_PLAN_INVALID.format(problem=error)) from error
        stored = {"rules": rules_to_json(rules), "seed": seed}
        self._store.set_value(_RUNTIME_KEY, json.dumps(stored, sort_keys=True))
        self._store.add_to_number(_EPOCH_KEY, 1)
        self._changed()
        return self.view()

    def clear(self) -> dict[str, Any]:
        """``DELETE /_mock/faults`` (and ``POST /_mock/reset``): back to the configured plan."""
        self._store.set_value(_RUNTIME_KEY, "")
        self._store.add_to_number(_EPOCH_KEY, 1)
        self._changed()
        return self.view()

    # --- per-report rules (X-Mock-Faults on create) ---------------------------------------

    def attach(self, report_id: str, rules: tuple[FaultRule, ...]) -> None:
        """Give a new report its own rules."""
        self._store.set_value(_report_key(report_id), json.dumps(rules_to_json(rules)))
        self._store.add_to_number(_RULED_REPORTS_KEY, 1)
        self._changed()

    def report_rules(self, report_id: str) -> tuple[FaultRule, ...]:
        """The report's own rules (none unless it was created with ``X-Mock-Faults``)."""
        text = self._store.value(_report_key(report_id))
        return _rules_from_text(text) if text else ()

    # --- choosing ---------------------------------------------------------------------------

    def _cached_rules_of(self, report_id: str) -> tuple[FaultRule, ...]:
        """The report's own rules, as of the cached version (no read when none exist)."""
        if not self._any_report_rules:
            return ()
        rules = self._cached_report_rules.get(report_id)
        if rules is None:
            if len(self._cached_report_rules) >= _CACHED_REPORT_RULES:
                self._cached_report_rules.clear()
            rules = self._cached_report_rules[report_id] = self.report_rules(report_id)
        return rules

    def surely_no_rule(self, version: float, report_id: str) -> bool:
        """Whether, by what this worker cached as of cache ``version``, no rule is in force
        for requests about this report (no store read; ``False`` when unsure)."""
        return (
            version == self._version
            and not self._cached_active[0]
            and (not self._any_report_rules or self._cached_report_rules.get(report_id) == ())
        )

    @staticmethod
    def poll_count_key(report_id: str) -> str:
        """The shared number counting a report's polls."""
        return _count_key(report_id, "poll")

    def no_rule_applies(self, route: Route, request: RequestScope, report_id: str | None) -> bool:
        """Whether no rule in force can strike this request, so nothing needs counting now.

        Then a poll's count is left to its journal entry
        (:attr:`~mockserver.service.RequestScope.deferred_count`) and :meth:`choose` would
        answer ``None``; otherwise nothing is done, and :meth:`choose` counts and chooses.
        """
        self._refresh(request.version)
        rules = self._cached_active[0]
        if report_id is None:
            return not any(not rule.polls for rule in rules)  # poll-number rules need a report
        if rules or self._cached_rules_of(report_id):
            return False
        if route == "poll":
            request.deferred_count = _count_key(report_id, route)
        return True

    def choose(self, route: Route, request: RequestScope, report_id: str | None) -> Fault | None:
        """The fault of one request, counting it first.

        A request that concerns a report counts within that report and route, from its
        creation on (so a poll's number is the report's n-th GET whenever rules appear); any
        other request counts within its API key and route since the plan last changed.
        When no rule applies, a poll is counted later, with its journal entry.
        """
        if self.no_rule_applies(route, request, report_id):
            return None
        rules, seed = self._cached_active
        owner = request.owner
        if report_id is not None:
            rules = self._cached_rules_of(report_id) + rules
            scope = report_id
        else:
            epoch = int(self._store.number(_EPOCH_KEY))
            scope = f"{owner or 'anonymous'}@{epoch}"
        number = int(self._store.add_to_number(_count_key(scope, route), 1))
        if not rules:
            return None
        return choose_fault(rules, seed, FaultRequest(route, scope, number, report_id))


def parse_report_rules(value: str | None) -> tuple[FaultRule, ...]:
    """The rules of an ``X-Mock-Faults`` header; a 400 naming the problem when unreadable."""
    if value is None or not value.strip():
        return ()
    try:
        return parse_rules(value)
    except FaultSpecError as error:
        raise RequestRejected(messages.FAULT_HEADER_INVALID.format(problem=error)) from error
