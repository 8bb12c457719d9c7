"""Fixtures of the kit's own tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.harness import MockBackend

__all__ = ["SAMPLES", "backend", "run_kit"]

#: This folder: the sample clients and the corpus, importable by module name.
SAMPLES = str(Path(__file__).parent)


def run_kit(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m contract_tests ARGUMENTS`` in a bare environment (the samples on
    ``PYTHONPATH``, the system's ``PATH``), bounded to five minutes."""
    return subprocess.run(
        [sys.executable, "-m", "contract_tests", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": SAMPLES, "PATH": "/usr/local/bin:/usr/bin:/bin"},
    )


@pytest.fixture
def backend() -> Iterator[MockBackend]:
    """The kit's mock for one check run (behind its loopback server; ``backend.clock`` is the
    run's clock), closed after the test."""
    started = MockBackend()
    try:
        yield started
    finally:
        started.close()
