"""Fault rules: their text and JSON forms, read and checked, and which requests each covers.

A *rule* names a fault and when it strikes::

    503@polls=3,4                 the 3rd and 4th GET of a report answer 503
    drop@rate=0.1&on=download     one download in ten loses its connection
    latency=100-900@rate=0.5      half the requests wait 100-900 ms (real time) first
    429=5@polls=2                 the 2nd GET answers 429 with Retry-After: 5

The text form is ``KIND[=ARG][@CONDITION[&CONDITION...]]`` and rules are joined with ``;``;
the JSON form of the same rules is ``{"fault": "503", "polls": [3, 4]}``,
``{"fault": "drop", "rate": 0.1, "on": ["download"]}``, ``{"fault": "latency", "ms": [100,
900], "rate": 0.5}``, ``{"fault": "429", "retry_after": 5, "polls": [2]}``. A rule without
``rate`` or ``polls`` strikes every request it covers.

Pure: no Flask, no I/O. :mod:`mockserver.core.fault_choice` decides which rule strikes a
request; the gateway (:mod:`mockserver.gateway.fault_plan`) keeps the plan and the counts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from mockserver.core import messages
from mockserver.core.create_request import json_kind

__all__ = [
    "FAULT_KINDS",
    "MAX_LATENCY_MS",
    "MAX_POLL_NUMBER",
    "MAX_RETRY_AFTER_SECONDS",
    "MAX_RULES",
    "ROUTES",
    "FaultKind",
    "FaultRequest",
    "FaultRule",
    "FaultSpecError",
    "Route",
    "parse_rules",
    "rules_to_json",
    "rules_to_spec",
]

FaultKind = Literal["500", "502", "503", "429", "drop", "truncate", "non_json", "latency"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
#: What a request does, as rules name it in ``on=``.
Route = Literal["create", "poll", "list", "cancel", "download", "other"]
ROUTES: tuple[Route, ...] = get_args(Route)

MAX_LATENCY_MS = 10_000  # per request, all latency rules together
MAX_RETRY_AFTER_SECONDS = 3600
MAX_POLL_NUMBER = 100_000
MAX_RULES = 32
DEFAULT_RETRY_AFTER_SECONDS = 1  # of an injected 429 without an argument

_KINDS_BY_NAME: Mapping[str, FaultKind] = {kind: kind for kind in FAULT_KINDS}
_JSON_FIELDS = ("fault", "rate", "polls", "on", "report_id", "ms", "retry_after")
_RULE_TEXT = re.compile(r"^(?P<kind>[^=@]*)(?:=(?P<argument>[^@]*))?(?:@(?P<conditions>.*))?$")
_REPORT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class FaultSpecError(ValueError):
    """Raised for a fault rule or rule list that cannot be read; ``str()`` says what and how."""


@dataclass(frozen=True)
class FaultRule:
    """One fault and the requests it strikes.

    ``rate`` (0-1) strikes that share of the covered requests; ``polls`` strikes the GETs of a
    report with those numbers (1 = its first GET). ``routes`` limits the rule to some routes
    (``None``: every route), ``report_id`` to one report.
    """

    kind: FaultKind
    rate: float | None = 1.0
    polls: tuple[int, ...] = ()
    routes: frozenset[Route] | None = None
    report_id: str | None = None
    latency_ms: tuple[int, int] | None = None
    retry_after: int | None = None

    def covers(self, request: FaultRequest) -> bool:
        """Whether the rule could strike this request (its route, report and poll number)."""
        if self.routes is not None and request.route not in self.routes:
            return False
        if self.report_id is not None and request.report_id != self.report_id:
            return False
        if self.polls:
            return (
                request.route == "poll"
                and request.report_id is not None
                and request.number in self.polls
            )
        return True

    def spec(self) -> str:
        """The rule in its text form, e.g. ``503@polls=3,4`` (also its identity in draws)."""
        argument = ""
        if self.latency_ms is not None:
            low, high = self.latency_ms
            argument = f"={low}" if low == high else f"={low}-{high}"
        elif self.retry_after is not None:
            argument = f"={self.retry_after}"
        if self.polls:
            conditions = ["polls=" + ",".join(str(number) for number in self.polls)]
        else:
            rate = self.rate if self.rate is not None else 1.0
            conditions = [f"rate={int(rate) if rate.is_integer() else rate!r}"]
        if self.routes is not None:
            conditions.append("on=" + ",".join(sorted(self.routes)))
        if self.report_id is not None:
            conditions.append(f"report={self.report_id}")
        return f"{self.kind}{argument}@{'&'.join(conditions)}"

    def to_json(self) -> dict[str, Any]:
        """The rule in its JSON form (what ``GET /_mock/faults`` shows and ``PUT`` accepts)."""
        data: dict[str, Any] = {"fault": self.kind}
        if self.latency_ms is not None:
            low, high = self.latency_ms
            data["ms"] = low if low == high else [low, high]
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        if self.polls:
            data["polls"] = list(self.polls)
        else:
            data["rate"] = self.rate
        if self.routes is not None:
            data["on"] = sorted(self.routes)
        if self.report_id is not None:
            data["report_id"] = self.report_id
        return data


@dataclass(frozen=True)
class FaultRequest:
    """What the plan needs to know about one request.

    ``scope`` is what the request is counted under (the report it concerns, else its API
    key) and ``number`` its count within the scope and route: for a poll of a report, the
    poll number.
    """

    route: Route
    scope: str
    number: int
    report_id: str | None = None


# --- reading rules ------------------------------------------------------------------------------


def parse_rules(value: object) -> tuple[FaultRule, ...]:
    """The rules in ``value``: text (``;``-separated rules, or JSON), or a list of rules.

    A list item is a rule's text or its JSON object. ``None`` and ``""`` are no rules.
    Raises :class:`FaultSpecError` naming the first bad rule and what is wrong with it.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise _invalid(repr(text), error.msg) from error
            return parse_rules(value if isinstance(value, list) else [value])
        items: list[object] = [part for part in text.split(";") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise FaultSpecError(messages.FAULT_NOT_A_RULE.format(kind=json_kind(value)))
    rules: list[FaultRule] = []
    for item in items:
        if isinstance(item, str):
            rules.extend(_rule_from_text(part) for part in item.split(";") if part.strip())
        elif isinstance(item, Mapping):
            rules.append(_rule_from_json(item))
        else:
            raise FaultSpecError(messages.FAULT_NOT_A_RULE.format(kind=json_kind(item)))
    if len(rules) > MAX_RULES:
        problem = messages.FAULT_TOO_MANY_RULES.format(maximum=MAX_RULES, count=len(rules))
        raise FaultSpecError(problem)
    return tuple(rules)


def rules_to_json(rules: Sequence[FaultRule]) -> list[dict[str, Any]]:
    """The JSON form of a rule list."""
    return [rule.to_json() for rule in rules]


def rules_to_spec(rules: Sequence[FaultRule]) -> str:
    """The text form of a rule list (``parse_rules`` reads it back to the same rules)."""
    return "; ".join(rule.spec() for rule in rules)


def _rule_from_text(spec: str) -> FaultRule:
    text = spec.strip()
    label = repr(text)
    match = _RULE_TEXT.match(text)
    if match is None:  # pragma: no cover - the pattern matches every text without a newline
        raise _invalid(label, messages.FAULT_UNKNOWN_KIND.format(kind=text, known=FAULT_KINDS))
    kind = match["kind"].strip().lower()
    if kind not in _KINDS_BY_NAME:
        known = ", ".join(FAULT_KINDS)
        raise _invalid(label, messages.FAULT_UNKNOWN_KIND.format(kind=kind, known=known))
    fields: dict[str, object] = {"fault": kind}
    if match["argument"] is not None:
        fields["argument"] = match["argument"].strip()
    for condition in (match["conditions"] or "").split("&"):
        if not condition.strip():
            continue
        name, _, raw = condition.partition("=")
        name, raw = name.strip().lower(), raw.strip()
        if name == "rate":
            fields["rate"] = _rate_from_text(raw, label)
        elif name == "polls":
            fields["polls"] = [_int_or_text(part) for part in raw.split(",")]
        elif name == "on":
            fields["on"] = [part.strip() for part in raw.split(",")]
        elif name in ("report", "report_id"):
            fields["report_id"] = raw
        else:
            raise _invalid(label, messages.FAULT_UNKNOWN_CONDITION.format(name=name))
    return _build_rule(fields, label)


def _rule_from_json(data: Mapping[Any, Any]) -> FaultRule:
    label = json.dumps(data, ensure_ascii=False, default=str)
    for name in data:
        if name not in _JSON_FIELDS:
            known = ", ".join(_JSON_FIELDS)
            raise _invalid(label, messages.FAULT_UNKNOWN_FIELD.format(name=name, known=known))
    fields: dict[str, object] = {key: value for key, value in data.items() if key in _JSON_FIELDS}
    kind = fields.get("fault")
    if isinstance(kind, int) and not isinstance(kind, bool):
        kind = fields["fault"] = str(kind)
    argument_field = "ms" if kind == "latency" else "retry_after"
    for name in ("ms", "retry_after"):
        if name in fields and name != argument_field and kind in FAULT_KINDS:
            problem = messages.FAULT_FIELD_NOT_FOR_KIND.format(field=name, kind=kind)
            raise _invalid(label, problem)
    if argument_field in fields:
        fields["argument"] = fields.pop(argument_field)
    if isinstance(fields.get("on"), str):
        fields["on"] = [fields["on"]]
    return _build_rule(fields, label)


def _invalid(label: str, problem: str) -> FaultSpecError:
    return FaultSpecError(messages.FAULT_RULE_INVALID.format(rule=label, problem=problem))


def _rate_from_text(raw: str, label: str) -> float:
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise _invalid(label, messages.FAULT_BAD_RATE.format(value=raw)) from None


def _int_or_text(raw: str) -> object:
    text = raw.strip()
    # Short enough for int() (which refuses thousands of digits) and for any bound here.
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else text


def _build_rule(fields: Mapping[str, object], rule: str) -> FaultRule:
    """Check the fields of one rule (from either form) and build it."""

    def fail(problem: str) -> FaultSpecError:
        return _invalid(rule, problem)

    kind = fields.get("fault")
    if not isinstance(kind, str) or kind not in _KINDS_BY_NAME:
        known = ", ".join(FAULT_KINDS)
        raise fail(messages.FAULT_UNKNOWN_KIND.format(kind=kind, known=known))
    latency_ms: tuple[int, int] | None = None
    retry_after: int | None = None
    argument = fields.get("argument")
    if kind == "latency":
        latency_ms = _latency(argument)
        if latency_ms is None:
            raise fail(messages.FAULT_BAD_LATENCY.format(maximum=MAX_LATENCY_MS, value=argument))
    elif kind in ("429", "503"):
        if argument is not None:
            retry_after = _whole_number(argument, MAX_RETRY_AFTER_SECONDS)
            if retry_after is None:
                problem = messages.FAULT_BAD_RETRY_AFTER.format(
                    kind=kind, maximum=MAX_RETRY_AFTER_SECONDS, value=argument
                )
                raise fail(problem)
        elif kind == "429":
            retry_after = DEFAULT_RETRY_AFTER_SECONDS
    elif argument is not None:
        raise fail(messages.FAULT_TAKES_NO_ARGUMENT.format(kind=kind, value=argument))

    raw_rate, raw_polls = fields.get("rate"), fields.get("polls")
    if raw_rate is not None and raw_polls is not None:
        raise fail(messages.FAULT_RATE_AND_POLLS)
    rate: float | None = 1.0
    polls: tuple[int, ...] = ()
    if raw_polls is not None:
        numbers = [_whole_number(n, MAX_POLL_NUMBER) for n in _as_list(raw_polls)]
        if not numbers or any(n is None or n < 1 for n in numbers):
            raise fail(messages.FAULT_BAD_POLLS.format(maximum=MAX_POLL_NUMBER, value=raw_polls))
        polls, rate = tuple(sorted({n for n in numbers if n is not None})), None
    elif raw_rate is not None:
        checked = _fraction(raw_rate)
        if checked is None:
            raise fail(messages.FAULT_BAD_RATE.format(value=raw_rate))
        rate = checked

    routes: frozenset[Route] | None = None
    raw_routes = fields.get("on")
    if raw_routes is not None:
        names = [str(name) for name in _as_list(raw_routes)]
        route_names: tuple[str, ...] = (*ROUTES, "any")
        if not names or any(name not in route_names for name in names):
            problem = messages.FAULT_BAD_ROUTES.format(
                known=", ".join(route_names), value=raw_routes
            )
            raise fail(problem)
        if "any" not in names:
            routes = frozenset(route for route in ROUTES if route in names)
    if polls:
        if routes is not None and routes != {"poll"}:
            raise fail(messages.FAULT_POLLS_NOT_ON_POLL.format(value=raw_routes))
        routes = None

    report_id = fields.get("report_id")
    if report_id is not None and not (isinstance(report_id, str) and _REPORT_ID.match(report_id)):
        raise fail(messages.FAULT_BAD_REPORT_ID.format(value=report_id))
    return FaultRule(
        kind=_KINDS_BY_NAME[kind],
        rate=rate,
        polls=polls,
        routes=routes,
        report_id=report_id,
        latency_ms=latency_ms,
        retry_after=retry_after,
    )


def _fraction(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and not 0 <= value <= 1:
        return None  # before float(): a huge int would overflow
    number = float(value)
    return number if math.isfinite(number) and 0 <= number <= 1 else None


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _whole_number(value: object, maximum: int) -> int | None:
    if isinstance(value, str):
        value = _int_or_text(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        return None
    return value


def _latency(value: object) -> tuple[int, int] | None:
    if isinstance(value, str) and "-" in value.strip()[1:]:
        low_text, _, high_text = value.strip().partition("-")
        value = [low_text, high_text]
    bounds = [_whole_number(part, MAX_LATENCY_MS) for part in _as_list(value)]
    if len(bounds) not in (1, 2) or any(bound is None for bound in bounds):
        return None
    low, high = bounds[0], bounds[-1]
    assert low is not None and high is not None
    return (low, high) if low <= high else None
