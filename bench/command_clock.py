"""How exact command clients' time is: the preload clock against libfaketime's speed-ups.

A bash+curl client and a Node ``fetch`` client poll a loopback server that takes real time to
answer, sleeping 5 s between polls, for a fixed number of iterations. The server notes the
client's time of each poll: on the kit's virtual clock (contract_tests/command_clock.py) or, for
libfaketime's ``xN`` mode, the real time since start times N, as the kit's mock does today.
Prints, per mode and client, the gaps between polls (exact when every gap is 5.000 s) and the
real time per iteration; docs/virtual-time.md quotes a run. Run by hand, not by tests:

    .venv/bin/python bench/command_clock.py                 # 40 iterations, 10 ms latency
    .venv/bin/python bench/command_clock.py --iterations 100 --latency 0.02
"""

from __future__ import annotations

import argparse
import glob
import itertools
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "contract_tests"))

from clock_stand_ins import RecordingAuthority, SlowLoopbackServer  # noqa: E402

from contract_tests.command_clock import CommandClock  # noqa: E402

__all__ = ["Measurement", "main"]

SLEEP_SECONDS = 5
BASH_CLIENT = 'for i in $(seq {n}); do curl -sf "$URL" >/dev/null || exit 1; sleep 5; done'
NODE_CLIENT = """
(async () => {{
  for (let i = 0; i < {n}; i++) {{
    const answer = await fetch(process.env.URL);
    await answer.text();
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }}
}})();
"""


@dataclass(frozen=True)
class Measurement:
    mode: str
    client: str
    gaps: list[float]
    real_seconds: float
    iterations: int

    def row(self) -> str:
        exact = sum(1 for gap in self.gaps if abs(gap - SLEEP_SECONDS) < 1e-6)
        return (
            f"| {self.mode} | {self.client} | {self.iterations} | {min(self.gaps):.3f} | "
            f"{statistics.median(self.gaps):.3f} | {max(self.gaps):.3f} | "
            f"{exact}/{len(self.gaps)} | {1000 * self.real_seconds / self.iterations:.0f} ms |"
        )


class _FasterTime(RecordingAuthority):
    """The server's clock under libfaketime: real time since start, sped up ``scale`` x."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.started = time.monotonic()

    @property  # type: ignore[override]
    def elapsed(self) -> float:
        return (time.monotonic() - self.started) * self.scale

    @elapsed.setter
    def elapsed(self, value: float) -> None:
        pass


def _argv(client: str, iterations: int) -> list[str]:
    if client == "bash+curl":
        return ["bash", "-c", BASH_CLIENT.format(n=iterations)]
    return ["node", "-e", NODE_CLIENT.format(n=iterations)]


def measure(mode: str, client: str, iterations: int, latency: float) -> Measurement:
    if mode == "virtual clock":
        authority: RecordingAuthority = RecordingAuthority(limit=10**9)
        clock: CommandClock | None = CommandClock(authority).start()
        extra = clock.environment()
    else:
        scale = float(mode.rsplit("x", 1)[1])
        authority = _FasterTime(scale)
        clock = None
        library = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))[0]
        extra = {"LD_PRELOAD": library, "FAKETIME": f"+0 x{scale:g}"}
    server = SlowLoopbackServer(authority, latency)
    try:
        started = time.monotonic()
        subprocess.run(
            _argv(client, iterations),
            env={**os.environ, **extra, "URL": server.url},
            check=True,
            timeout=600,
        )
        real = time.monotonic() - started
    finally:
        server.close()
        if clock is not None:
            clock.close()
    times = server.request_times
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    return Measurement(mode, client, gaps, real, iterations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.01, help="real seconds per answer")
    options = parser.parse_args()
    print(f"iterations {options.iterations}, server latency {options.latency * 1000:g} ms real")
    print(
        "| mode | client | polls | min gap s | median gap s | max gap s | exactly 5 s | real/iteration |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for mode in ("virtual clock", "libfaketime x100", "libfaketime x1000"):
        for client in ("bash+curl", "node fetch"):
            print(measure(mode, client, options.iterations, options.latency).row(), flush=True)


if __name__ == "__main__":
    main()
