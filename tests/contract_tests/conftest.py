"""Small inline clients for testing the kit itself (the full set lives in clients_under_test/)."""

from __future__ import annotations

pytest_plugins = ["pytester"]
