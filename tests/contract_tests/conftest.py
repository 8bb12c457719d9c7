"""Fixtures of the kit's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contract_tests.harness import MockBackend

__all__ = ["backend"]


@pytest.fixture
def backend() -> Iterator[MockBackend]:
    """The kit's mock for one check run (behind its loopback server; ``backend.clock`` is the
    run's clock), closed after the test."""
    started = MockBackend()
    try:
        yield started
    finally:
        started.close()
