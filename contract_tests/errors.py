"""The kit's exceptions."""

from __future__ import annotations

__all__ = ["ClientStopped", "KitError", "RuleViolation", "UsageError", "VirtualTimeEscaped"]


class KitError(Exception):
    """Base exception of the contract-testing kit."""


class UsageError(KitError):
    """Raised for a bad argument or client reference; the message says what to pass instead."""


class VirtualTimeEscaped(UsageError):
    """The client spent the kit's real-time safety net without waiting on the virtual clock:
    it blocks on something the kit does not virtualise. Not a verdict on the contract."""


class RuleViolation(AssertionError):
    """Raised when a client breaks a contract rule; carries what happened and what was expected.

    Each rule raises its own subclass, so Hypothesis shrinks each broken rule separately.
    """

    rule = "rule"

    def __init__(self, title: str, *, received: str, expected: str, source: str) -> None:
        super().__init__(f"{self.rule}: {title}")
        self.title = title
        self.received = received
        self.expected = expected
        self.source = source
        self.lifecycle_text = ""
        self.requests_text = ""


class ClientStopped(BaseException):
    """Thrown into a client to stop it. A ``BaseException``, so ``except Exception`` in the
    client cannot swallow it: raised when the client polls after a terminal status, polls in a
    tight loop, or keeps going past an hour of virtual time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
