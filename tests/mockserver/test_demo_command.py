"""`mockserver demo`: the real command, run as a subprocess at a high time scale."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.demo import PIPELINE_STEPS, ProgressDisplay, local_server, progress_fraction

COMMAND_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class DemoRun:
    """One finished run of the command."""

    returncode: int
    stdout: str
    stderr: str

    def saved(self, kind: str) -> Path:
        match = re.search(rf"^\s+{kind}\s+(\S+) \([\d,]+ bytes\)$", self.stdout, re.MULTILINE)
        assert match, f"no {kind} line in:\n{self.stdout}"
        return Path(match.group(1))


def run_demo_command(*arguments: str, cwd: Path) -> DemoRun:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "demo", *arguments],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    return DemoRun(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`mockserver demo` with its own server at 200x, run once for the tests below."""
    workdir = tmp_path_factory.mktemp("demo")
    return run_demo_command("--time-scale", "200", cwd=workdir)


@pytest.fixture
def running_mock() -> Iterator[str]:
    """A mock at 200x in this process, for `--url`."""
    with local_server(200.0) as url:
        yield url


def test_demo_exits_zero(demo_run: DemoRun) -> None:
    assert demo_run.returncode == 0, demo_run.stderr


@pytest.mark.parametrize("step", PIPELINE_STEPS)
def test_demo_draws_a_progress_line_for_each_step(demo_run: DemoRun, step: str) -> None:
    assert re.search(rf"\[[#-]+\]\s+\d+%\s+processing\s+{step}\s+\S", demo_run.stdout)


def test_demo_ends_with_a_full_bar_and_the_completion_message(demo_run: DemoRun) -> None:
    assert re.search(r"\[#+\] 100%\s+completed\s+\S+\s+Report generation complete", demo_run.stdout)


def test_demo_report_completes_within_the_documented_two_minutes(demo_run: DemoRun) -> None:
    match = re.search(r"-> completed after ([\d.]+) s of virtual time", demo_run.stdout)
    assert match and float(match.group(1)) < 120


def test_demo_downloads_a_pdf(demo_run: DemoRun) -> None:
    assert demo_run.saved("PDF").read_bytes().startswith(b"%PDF-")


def test_demo_downloads_a_docx_that_is_a_zip(demo_run: DemoRun) -> None:
    assert zipfile.is_zipfile(demo_run.saved("DOCX"))


def test_demo_saves_into_mockserver_demo_by_default(demo_run: DemoRun) -> None:
    assert demo_run.saved("PDF").parent.name == "mockserver-demo"


def test_demo_uses_a_running_mock_given_with_url(running_mock: str, tmp_path: Path) -> None:
    run = run_demo_command("--url", running_mock, "--output-dir", str(tmp_path), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    listed = requests.get(f"{running_mock}/_mock/reports", timeout=5).json()["data"]["reports"]
    assert [report["case_id"] for report in listed] == ["case_demo"]


def test_demo_explains_a_frozen_server(tmp_path: Path) -> None:
    with local_server(0.0) as frozen:
        run = run_demo_command("--url", frozen, cwd=tmp_path)
    assert run.returncode == 1 and "frozen" in run.stderr


def test_demo_rejects_a_time_scale_of_zero(tmp_path: Path) -> None:
    run = run_demo_command("--time-scale", "0", cwd=tmp_path)
    assert run.returncode == 2 and "more than 0" in run.stderr


# --- the progress display on its own -------------------------------------------------------


def report(status: str, step: str | None = None, done: tuple[str, ...] = ()) -> dict[str, Any]:
    progress = {"current_step": step, "steps_completed": list(done), "message": "m"}
    return {"status": status, "progress": progress}


@pytest.mark.parametrize(
    ("wire", "fraction"),
    [
        (report("pending"), 0.0),
        (report("processing", "delta_v_calculation"), 0.5 / 3),
        (report("processing", "report_generation", PIPELINE_STEPS[:2]), 2.5 / 3),
        (report("completed", "report_generation", PIPELINE_STEPS), 1.0),
        ({"status": "processing", "progress": None}, 0.0),
    ],
    ids=["pending", "first-step", "last-step", "completed", "null-progress"],
)
def test_progress_fraction_counts_steps_from_the_wire(
    wire: dict[str, Any], fraction: float
) -> None:
    assert progress_fraction(wire) == pytest.approx(fraction)


def test_progress_display_writes_one_line_per_change_off_a_terminal() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream)
    for wire in (report("pending"), report("pending"), report("processing", "delta_v_calculation")):
        display.show(wire)
    assert len(stream.getvalue().splitlines()) == 2


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_display_redraws_in_place_on_a_terminal() -> None:
    stream = FakeTerminal()
    display = ProgressDisplay(stream)
    display.show(report("pending"))
    display.show(report("processing", "delta_v_calculation"))
    display.finish()
    assert stream.getvalue().count("\r") == 2 and stream.getvalue().count("\n") == 1
