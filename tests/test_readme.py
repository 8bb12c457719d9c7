"""The README's usage examples run as tests, so they cannot rot."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(name: str) -> str:
    match = re.search(rf"<!-- tested: {name} -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert match, f"README has no tested block {name!r}"
    return match.group(1)


def test_check_your_own_client_example_runs() -> None:
    exec(compile(readme_block("check-your-client"), "README.md", "exec"), {})


def test_check_a_workflow_example_runs() -> None:
    exec(compile(readme_block("check-a-workflow"), "README.md", "exec"), {})


def test_verify_provider_example_runs() -> None:
    exec(compile(readme_block("verify-provider"), "README.md", "exec"), {})


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text().split("\n## ")[0]
    assert "make serve" in head and "make test" in head


def container_commands() -> ModuleType:
    """``scripts/container_commands.py``, where ``make container-test`` takes its commands."""
    path = README.parent / "scripts" / "container_commands.py"
    spec = importlib.util.spec_from_file_location("container_commands", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_the_readme_container_block_is_what_make_container_test_runs() -> None:
    commands = container_commands()
    shown = commands.readme_block_commands(README.read_text())
    assert shown == commands.ContainerCommands.as_in_readme().readme_sequence()


def test_record_and_replay_example_runs() -> None:
    exec(compile(readme_block("record-and-replay"), "README.md", "exec"), {})
