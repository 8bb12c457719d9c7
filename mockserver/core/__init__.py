"""The pure core of the mock: no Flask, no I/O, no clock of its own.

What a report is and how it moves (lifecycle, scenarios), the virtual clock's arithmetic,
URL signing, a case's invented facts, the create request, the wire shapes, the inspector's
overview, every text the mock sends, fault rules and the choice of a fault, and the rules of
the rate limit. Modules here import only one another and the standard library (checked by
``lint-imports`` and ``tests/test_layers.py``).
"""

from __future__ import annotations

__all__: list[str] = []
