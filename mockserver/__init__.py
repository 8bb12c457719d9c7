"""A fake of the Reports API whose report lifecycle runs on a controllable virtual clock."""

from __future__ import annotations

from mockserver.app import create_app
from mockserver.core.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "create_app"]
