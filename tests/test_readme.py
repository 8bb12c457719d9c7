"""The README's usage examples run as tests, so they cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(name: str) -> str:
    match = re.search(rf"<!-- tested: {name} -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert match, f"README has no tested block {name!r}"
    return match.group(1)


def test_check_your_own_client_example_runs() -> None:
    exec(compile(readme_block("check-your-client"), "README.md", "exec"), {})


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text().split("\n## ")[0]
    assert "make serve" in head and "make test" in head
