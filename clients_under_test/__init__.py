"""Clients under test: the documented polling clients and planted-bug variations of them.

- :mod:`clients_under_test.fixed_interval` and :mod:`clients_under_test.exponential_backoff`:
  the polling guide's two Python pollers; ``wait_for_report.js``: the Get Report page's
  JavaScript ``waitForReport``, run with Node.
- :mod:`clients_under_test.consumers`: a reference report consumer (``outline``).
- :mod:`clients_under_test.planted_clients` and :mod:`clients_under_test.planted_consumers`:
  one realistic defect each, with ``EXPECTED_RULE`` naming the contract rule it breaks.

Every reference client must pass the contract kit; every planted one must be caught by it.
"""

from __future__ import annotations

__all__: list[str] = []
