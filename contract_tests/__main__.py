"""``python -m contract_tests``."""

from __future__ import annotations

from contract_tests.cli import main

raise SystemExit(main())
