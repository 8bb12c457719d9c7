"""``bench/redis_polls.py`` runs (a tiny budget: the suite never judges a timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import require_binary

ROOT = Path(__file__).resolve().parent.parent


def test_the_redis_poll_bench_prints_each_way_against_the_batched_pipeline() -> None:
    require_binary("redis-server", package="redis-server")
    finished = subprocess.run(
        [sys.executable, "bench/redis_polls.py", "--polls", "64", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    rows = [line for line in finished.stdout.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[1:]] == [
        "| thread per poll",
        "| redis.asyncio per poll",
        "| batched pipeline",
    ]
    assert rows[-1].endswith("| 1.0x |")
