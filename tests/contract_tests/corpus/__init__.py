"""A corpus of polling clients written the way people write them, to prove the kit's verdicts.

For each common style (tenacity, backoff with ``max_time`` and with ``max_tries``, polling2,
httpx sync and async, aiohttp, a ``datetime`` deadline, ``threading.Event.wait`` sleeps,
``asyncio.run`` around ``requests``, bash+curl+jq, Node ``fetch`` and Go ``net/http``), one
client that follows the documented contract and is resilient as ``--strict`` asks, and one
with a single realistic bug. ``catalogue.CLIENTS`` lists them with the verdict each must get.
"""

from __future__ import annotations

from corpus.catalogue import (
    CLIENTS,
    CORPUS_DIR,
    PASSES,
    CorpusClient,
    CorpusError,
    build_go_clients,
    go_build_environment,
)

__all__ = [
    "CLIENTS",
    "CORPUS_DIR",
    "PASSES",
    "CorpusClient",
    "CorpusError",
    "build_go_clients",
    "go_build_environment",
]
