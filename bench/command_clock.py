"""How exact command clients' time is: the preload clock against libfaketime's speed-ups.

A bash+curl client and a Node ``fetch`` client poll the mock, which takes real time to answer
(a latency fault), sleeping 5 s between polls, for a fixed number of iterations. The mock notes
the time of each poll: on the kit's virtual clock (``MockBackend.run_command``: the mock behind
the loopback server, the command on contract_tests/command_clock.py) or, for libfaketime's
``xN`` mode, on the mock's own clock running at ``--time-scale N`` (its request journal).
Prints, per mode and client, the gaps between polls (exact when every gap is 5.000 s) and the
real time per iteration; docs/virtual-time.md quotes a run. Run by hand, not by tests:

    .venv/bin/python bench/command_clock.py                 # 40 iterations, 10 ms latency
    .venv/bin/python bench/command_clock.py --iterations 100 --latency 0.02
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "contract_tests"))

from kit_commands import NEVER_FINISHES, mock_control  # noqa: E402

from contract_tests.harness import API_KEY, MockBackend  # noqa: E402
from contract_tests.loopback import LoopbackServer  # noqa: E402
from mockserver import create_app  # noqa: E402

__all__ = ["Measurement", "main"]

SLEEP_SECONDS = 5
#: Each client polls ``$SW_BASE_URL/api/reports/<its first argument>`` with ``$SW_API_KEY``.
BASH_CLIENT = (
    'for i in $(seq {n}); do curl -sf -H "X-API-Key: $SW_API_KEY"'
    ' "$SW_BASE_URL/api/reports/$1" >/dev/null || exit 1; sleep 5; done; echo null'
)
NODE_CLIENT = """
const url = `${{process.env.SW_BASE_URL}}/api/reports/${{process.argv[1]}}`;
const headers = {{"X-API-Key": process.env.SW_API_KEY}};
(async () => {{
  for (let i = 0; i < {n}; i++) {{
    const answer = await fetch(url, {{headers}});
    await answer.text();
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }}
  console.log("null");
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


def _argv(client: str, iterations: int, report_id: str) -> list[str]:
    if client == "bash+curl":
        return ["bash", "-c", BASH_CLIENT.format(n=iterations), "client", report_id]
    return ["node", "-e", NODE_CLIENT.format(n=iterations), report_id]


def _on_virtual_clock(client: str, iterations: int, latency: float) -> tuple[list[float], float]:
    """Poll times (virtual seconds) and real seconds of a run on the kit's clock."""
    backend = MockBackend()
    try:
        mock_control(backend, "PUT", "/_mock/faults", _latency_rule(latency))
        command = shlex.join(_argv(client, iterations, "{report_id}"))
        started = time.monotonic()
        run = backend.run_command(command, NEVER_FINISHES, "case_bench")
        real = time.monotonic() - started
    finally:
        backend.close()
    if not run.did_return:
        raise RuntimeError(f"the {client} client failed: {run.raised or run.stopped}")
    return [request.at for request in run.requests], real


def _under_libfaketime(
    client: str, iterations: int, latency: float, scale: float
) -> tuple[list[float], float]:
    """Poll times and real seconds of a run under libfaketime ``x scale``, against the mock
    running at ``--time-scale scale`` (its journal notes each poll's time)."""
    app = create_app({"TIME_SCALE": scale, "JOURNAL_SIZE": 1000, "VALIDATE_RESPONSES": "off"})
    server = LoopbackServer(app, lambda answer: None)
    try:
        base = server.base_url
        created = _http(
            base,
            "POST",
            "/api/reports",
            {"case_id": "case_bench", "type": "technical_report"},
            {"X-API-Key": API_KEY, "X-Mock-Scenario": "stuck"},
        )
        _http(base, "PUT", "/_mock/faults", _latency_rule(latency))
        library = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))[0]
        extra = {
            "LD_PRELOAD": library,
            "FAKETIME": f"+0 x{scale:g}",
            "SW_BASE_URL": base,
            "SW_API_KEY": API_KEY,
        }
        started = time.monotonic()
        subprocess.run(
            _argv(client, iterations, created["id"]),
            env={**os.environ, **extra},
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
        real = time.monotonic() - started
        journal = _http(base, "GET", "/_mock/requests?limit=1000")["requests"]
    finally:
        server.close()
    polls = [entry for entry in journal if entry["method"] == "GET"]
    return sorted(float(entry["epoch_seconds"]) for entry in polls), real


def _latency_rule(latency: float) -> dict[str, Any]:
    return {"rules": [{"fault": "latency", "ms": round(latency * 1000)}]}


def _http(
    base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> Any:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def measure(mode: str, client: str, iterations: int, latency: float) -> Measurement:
    if mode == "virtual clock":
        times, real = _on_virtual_clock(client, iterations, latency)
    else:
        times, real = _under_libfaketime(client, iterations, latency, float(mode.rsplit("x", 1)[1]))
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
