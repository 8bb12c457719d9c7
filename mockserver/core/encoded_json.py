"""Compact JSON text, reusing the text of large objects encoded once.

A completed report's structured report is the same object on every poll (it is cached per
case profile), but it is most of the bytes of the answer: encoding it again on every poll
was the largest cost of the poll path. A :class:`PreEncodedObject` is a ``dict`` that also
carries its own JSON text; :func:`dumps_compact` writes that text where the object sits
instead of encoding it again. Everything else still sees a plain ``dict`` (the response
validator, the document renderers, the tests).

Pure: no Flask, no I/O.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["PreEncodedObject", "dumps_compact"]

_COMPACT: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False}
#: Stands in for a pre-encoded object during encoding; random, so no data can contain it.
_PLACEHOLDER = f"pre-encoded-{uuid.uuid4().hex}"
_PLACEHOLDER_JSON = json.dumps(_PLACEHOLDER)


class PreEncodedObject(dict[str, Any]):
    """A JSON object that remembers its compact JSON text. Treat it as read-only."""

    __slots__ = ("json_text",)

    def __init__(self, value: Mapping[str, Any]) -> None:
        super().__init__(value)
        self.json_text = json.dumps(value, **_COMPACT)


def _swap_out(value: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    """``value`` with each pre-encoded object reached through objects replaced by a
    placeholder, their texts appended in encoding order; ``value`` itself when it has none.

    Only objects are searched, not lists: the answers that carry a pre-encoded object reach
    it through objects, and a long list (the journal) is not walked for nothing.
    """
    swapped: dict[str, Any] | None = None
    for key, item in value.items():
        if isinstance(item, PreEncodedObject):
            texts.append(item.json_text)
            replacement: Any = _PLACEHOLDER
        elif isinstance(item, dict):
            replacement = _swap_out(item, texts)
            if replacement is item:
                continue
        else:
            continue
        if swapped is None:
            swapped = dict(value)
        swapped[key] = replacement
    return value if swapped is None else swapped


def dumps_compact(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``, without encoding
    the pre-encoded objects in it again."""
    texts: list[str] = []
    if isinstance(value, PreEncodedObject):
        return value.json_text
    swapped = _swap_out(value, texts) if isinstance(value, dict) else value
    text = json.dumps(swapped, **_COMPACT)
    for fragment in texts:
        text = text.replace(_PLACEHOLDER_JSON, fragment, 1)
    return text
