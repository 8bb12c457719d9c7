"""The corpus's table: each client, how it is run, and the verdict the kit must give it.

One row per client: its style, ``correct`` or the name of its one planted bug, the target
(``MODULE:FUNCTION`` for Python, a command template for the others) and the expected verdict
under the documented profile and under ``--strict``: :data:`PASSES`, or the rule it must be
caught under. ``also`` lists rules the same single bug breaks as a consequence (a kit that
reports every broken rule names them too); any other broken rule is a wrong verdict.

``tests/contract_tests/test_corpus.py`` checks every row; ``bench/contract_kit.py`` times a
default check of each correct client.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CLIENTS",
    "CORPUS_DIR",
    "PASSES",
    "CorpusClient",
    "CorpusError",
    "build_go_clients",
    "go_build_environment",
]

PASSES = "passes"
CORPUS_DIR = Path(__file__).resolve().parent
GO_MODULE_DIR = CORPUS_DIR / "go_client"


class CorpusError(Exception):
    """The corpus cannot be run here; the message says what to install or do."""


@dataclass(frozen=True)
class CorpusClient:
    """One client of the corpus and the verdicts the kit must give it."""

    style: str
    variant: str  # "correct", or the planted bug in a few words
    kind: Literal["python", "command"]
    target: str  # MODULE:FUNCTION, or a command with {corpus}, {go_bin} and {report_id}
    documented: str  # PASSES, or the rule it is caught under
    strict: str
    also: tuple[str, ...] = ()

    @property
    def correct(self) -> bool:
        return self.variant == "correct"

    @property
    def id(self) -> str:
        """E.g. ``asyncio.run-requests/correct``: no spaces, for test ids and ``-k``."""
        return re.sub(r"[^\w.-]+", "-", self.style) + "/" + re.sub(r"[^\w.-]+", "-", self.variant)

    def expected(self, strict: bool) -> str:
        return self.strict if strict else self.documented

    def function(self) -> Callable[..., Any]:
        """The Python client (``kind == "python"``)."""
        module, _, name = self.target.partition(":")
        function: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return function

    def command(self, go_bin: Path | None = None) -> str:
        """The command to check, with ``{report_id}`` left for the kit (``kind == "command"``)."""
        if "{go_bin}" in self.target and go_bin is None:
            raise CorpusError(f"{self.id} is a Go client: build it first with build_go_clients()")
        return self.target.replace("{corpus}", str(CORPUS_DIR)).replace("{go_bin}", str(go_bin))


def _pair(
    style: str,
    kind: Literal["python", "command"],
    correct: str,
    bug: str,
    buggy: str,
    *,
    documented: str,
    strict: str,
    also: tuple[str, ...] = (),
) -> tuple[CorpusClient, CorpusClient]:
    return (
        CorpusClient(style, "correct", kind, correct, PASSES, PASSES),
        CorpusClient(style, bug, kind, buggy, documented, strict, also),
    )


CLIENTS: tuple[CorpusClient, ...] = (
    *_pair(
        "tenacity",
        "python",
        "corpus.tenacity_client:wait_for_report",
        "ignores Retry-After",
        "corpus.tenacity_client:wait_for_report_ignoring_retry_after",
        documented=PASSES,
        strict="honours_retry_after",
    ),
    *_pair(
        "backoff max_time",
        "python",
        "corpus.backoff_max_time_client:wait_for_report",
        "returns the unfinished report on giving up",
        "corpus.backoff_max_time_client:wait_for_report_returning_unfinished",
        documented="returns_only_completed_reports",
        strict="returns_only_completed_reports",
    ),
    *_pair(
        "backoff max_tries",
        "python",
        "corpus.backoff_max_tries_client:wait_for_report",
        "default full jitter",
        "corpus.backoff_max_tries_client:wait_for_report_with_default_jitter",
        documented="polls_at_a_steady_pace",
        strict="polls_at_a_steady_pace",
    ),
    *_pair(
        "polling2",
        "python",
        "corpus.polling2_client:wait_for_report",
        "data null treated as pending",
        "corpus.polling2_client:wait_for_report_treating_null_as_pending",
        documented="raises_on_not_found",
        strict="raises_on_not_found",
    ),
    *_pair(
        "httpx sync",
        "python",
        "corpus.httpx_sync_client:wait_for_report",
        "never checks cancelled",
        "corpus.httpx_sync_client:wait_for_report_ignoring_cancelled",
        documented="raises_on_failed_or_cancelled",
        strict="raises_on_failed_or_cancelled",
        also=("stops_after_terminal_status",),
    ),
    *_pair(
        "httpx async",
        "python",
        "corpus.httpx_async_client:wait_for_report",
        "retries at once after an error",
        "corpus.httpx_async_client:wait_for_report_retrying_at_once",
        documented=PASSES,
        strict="polls_at_a_steady_pace",
    ),
    # aiohttp (like Go's http.Transport on a reused connection) re-sends a GET at once when the
    # connection closes before any answer (RFC 9112, 9.3.1): after a `drop` fault the mock sees
    # two GETs at the same instant. The kit must count that as one poll (or drop after the
    # status line, as granian does), not as a tight loop of the correct client.
    *_pair(
        "aiohttp",
        "python",
        "corpus.aiohttp_client:wait_for_report",
        "raise_for_status on the session",
        "corpus.aiohttp_client:wait_for_report_raising_for_status",
        documented=PASSES,
        strict="survives_transient_faults",
    ),
    *_pair(
        "datetime deadline",
        "python",
        "corpus.datetime_deadline_client:wait_for_report",
        "one-minute deadline",
        "corpus.datetime_deadline_client:wait_for_report_with_one_minute_deadline",
        documented="waits_for_documented_timeout",
        strict="waits_for_documented_timeout",
        # Giving up at 60 s also gives up during a transient fault (--strict).
        also=("survives_transient_faults",),
    ),
    *_pair(
        "threading.Event.wait",
        "python",
        "corpus.event_wait_client:wait_for_report",
        "refetches after completed",
        "corpus.event_wait_client:wait_for_report_refetching_when_done",
        documented="stops_after_terminal_status",
        strict="stops_after_terminal_status",
        # The refetch comes at once, with no wait: two polls 0 s apart are a tight loop too.
        also=("polls_at_a_steady_pace",),
    ),
    *_pair(
        "asyncio.run + requests",
        "python",
        "corpus.asyncio_run_client:wait_for_report",
        "failure error without progress.message",
        "corpus.asyncio_run_client:wait_for_report_without_failure_message",
        documented="raises_on_failed_or_cancelled",
        strict="raises_on_failed_or_cancelled",
    ),
    *_pair(
        "bash+curl+jq",
        "command",
        "bash {corpus}/wait_for_report.sh {report_id}",
        "no deadline",
        "bash {corpus}/wait_for_report_no_deadline.sh {report_id}",
        documented="gives_up_within_an_hour",
        strict="gives_up_within_an_hour",
    ),
    *_pair(
        "node fetch",
        "command",
        "node {corpus}/wait_for_report.js {report_id}",
        "reads progress.message of null progress",
        "node {corpus}/wait_for_report_null_progress.js {report_id}",
        documented="tolerates_documented_shapes",
        strict="tolerates_documented_shapes",
    ),
    *_pair(
        "go net/http",
        "command",
        "{go_bin}/wait_for_report {report_id}",
        "one-minute context",
        "{go_bin}/wait_for_report_short_deadline {report_id}",
        documented="waits_for_documented_timeout",
        strict="waits_for_documented_timeout",
        # Giving up at 60 s also gives up during a transient fault (--strict).
        also=("survives_transient_faults",),
    ),
)


def go_build_environment(work_dir: Path) -> dict[str, str]:
    """``go build`` offline: stdlib only, no module proxy, caches in ``work_dir`` and ~/.cache.

    The build cache is kept across runs under ``$XDG_CACHE_HOME`` (or ~/.cache) so a second
    session compiles in a second; GOPATH (the module cache, unused by a stdlib-only module)
    stays in ``work_dir``. ``CGO_ENABLED=0``: a static binary that reads the time without libc,
    the harder case for the kit.
    """
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return {
        **os.environ,
        "GOCACHE": str(cache_home / "reports-mock" / "go-build"),
        "GOPATH": str(work_dir / "gopath"),
        "GOPROXY": "off",
        "GOFLAGS": "-mod=readonly",
        "GOTOOLCHAIN": "local",
        "GOTELEMETRY": "off",
        "CGO_ENABLED": "0",
    }


def build_go_clients(out_dir: Path) -> Path:
    """Compile the corpus's Go clients into ``out_dir``; the directory of the binaries."""
    go = shutil.which("go")
    if go is None:
        raise CorpusError(
            "the Go client of the corpus needs the Go toolchain: run `make setup` "
            "(Debian package golang-go, installed by scripts/install-system-deps.sh)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    built = subprocess.run(
        [go, "build", "-o", f"{out_dir}{os.sep}", "./cmd/..."],
        cwd=GO_MODULE_DIR,
        env=go_build_environment(out_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if built.returncode != 0:
        raise CorpusError(f"go build of {GO_MODULE_DIR} failed:\n{built.stderr[-2000:]}")
    return out_dir
