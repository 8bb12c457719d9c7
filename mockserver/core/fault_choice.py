"""Which fault a request gets: a seeded hash of the rule, the request's scope and number.

Whether a ``rate`` rule strikes is a hash of the seed, the rule, the request's *scope* (the
report it concerns, or its API key) and its number within that scope, never a shared random
stream: the same seed and the same requests give the same faults in every run and in every
worker, whatever other clients do meanwhile. Pure: no Flask, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mockserver.core.fault_rules import MAX_LATENCY_MS, FaultKind, FaultRequest, FaultRule

__all__ = ["NON_JSON_BODY", "STATUS_FAULTS", "Fault", "choose_fault", "truncated"]

#: Faults answered *instead of* the API: the request has no effect, as at a gateway.
STATUS_FAULTS: Mapping[str, int] = {"500": 500, "502": 502, "503": 503, "429": 429}

#: The body of a ``non_json`` fault: what a proxy's error page looks like to a JSON client.
NON_JSON_BODY = (
    b"<!DOCTYPE html>\n<html><head><title>Upstream error</title></head>"
    b"<body><h1>Upstream error</h1><p>The gateway answered with a page instead of JSON "
    b"(a fault injected by the mock).</p></body></html>\n"
)


@dataclass(frozen=True)
class Fault:
    """The faults chosen for one request: at most one status or response fault, and latency."""

    kind: FaultKind | None
    latency_ms: int = 0
    retry_after: int | None = None

    @property
    def status(self) -> int | None:
        """The status answered instead of the API, for 500/502/503/429."""
        return None if self.kind is None else STATUS_FAULTS.get(self.kind)

    @property
    def label(self) -> str:
        """How the journal and the ``X-Mock-Fault`` header name it: ``latency=350ms+503``."""
        parts = [f"latency={self.latency_ms}ms"] if self.latency_ms else []
        if self.kind is not None:
            parts.append(self.kind)
        return "+".join(parts)


def _draw(seed: int, rule: FaultRule, request: FaultRequest, salt: str = "") -> float:
    key = f"{seed}|{rule.spec()}|{request.scope}|{request.route}|{request.number}|{salt}"
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _strikes(seed: int, rule: FaultRule, request: FaultRequest) -> bool:
    if not rule.covers(request):
        return False
    if rule.polls:
        return True
    rate = rule.rate if rule.rate is not None else 1.0
    return _draw(seed, rule, request) < rate


def choose_fault(rules: Sequence[FaultRule], seed: int, request: FaultRequest) -> Fault | None:
    """The faults the rules give this request, or ``None``.

    Every striking latency rule adds its delay (at most :data:`MAX_LATENCY_MS` in all); the
    first striking rule of any other kind decides the status or response fault.
    """
    kind: FaultKind | None = None
    retry_after: int | None = None
    latency = 0
    struck = False
    for rule in rules:
        if not _strikes(seed, rule, request):
            continue
        struck = True
        if rule.kind == "latency" and rule.latency_ms is not None:
            low, high = rule.latency_ms
            latency += low + int(_draw(seed, rule, request, "ms") * (high - low + 1))
        elif kind is None:
            kind, retry_after = rule.kind, rule.retry_after
    if not struck:
        return None
    return Fault(kind=kind, latency_ms=min(latency, MAX_LATENCY_MS), retry_after=retry_after)


def truncated(body: bytes) -> bytes:
    """The first half of a body: a JSON text cut there no longer parses."""
    return body[: len(body) // 2]
