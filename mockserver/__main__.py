"""``python -m mockserver``: the same as the ``mockserver`` command."""

from __future__ import annotations

from mockserver.cli import main

raise SystemExit(main())
