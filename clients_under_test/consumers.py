"""A reference report consumer: the outline of a completed report's section titles.

Follows the Get Report reference: sections are found by ``type``, never by index; the split
biomechanics sections are grouped under one "Biomechanical Analysis" heading by their
``biomechanics_`` prefix, and each ``biomechanics_injury_mechanism_<region>`` or
``biomechanics_forces_<region>`` section nests under its intro section when the report has
one. The seed's monolithic ``biomechanics`` section stays a single entry; ``report: null``
(older reports) gives an empty outline; a ``schema_version`` other than 1.x gives a flat one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

__all__ = ["BIOMECHANICS_HEADING", "OutlineEntry", "outline"]

BIOMECHANICS_PREFIX = "biomechanics_"
#: The heading the split biomechanics sections are grouped under.
BIOMECHANICS_HEADING = "Biomechanical Analysis"
#: Type prefix of a region's section -> the type of the intro section it belongs under.
_INTRO_OF_PREFIX = {
    "biomechanics_injury_mechanism_": "biomechanics_injury_mechanisms_intro",
    "biomechanics_forces_": "biomechanics_forces_intro",
}


class OutlineEntry(TypedDict):
    """One heading of the outline and the headings nested under it."""

    type: str
    title: str
    children: list[OutlineEntry]


def _intro_of(kind: str) -> str | None:
    for prefix, intro in _INTRO_OF_PREFIX.items():
        if kind.startswith(prefix) and kind != intro:
            return intro
    return None


def outline(data: Mapping[str, Any]) -> list[OutlineEntry]:
    """The outline of ``data["output"]["report"]``: top-level entries with nested children."""
    report = (data.get("output") or {}).get("report")
    if not isinstance(report, Mapping):
        return []
    entries: list[OutlineEntry] = []
    flat = not str(report.get("schema_version", "")).startswith("1.")
    biomechanics: OutlineEntry | None = None
    intros: dict[str, OutlineEntry] = {}
    for section in report.get("sections") or []:
        kind = str(section.get("type", ""))
        entry: OutlineEntry = {
            "type": kind,
            "title": str(section.get("title", kind)),
            "children": [],
        }
        if flat or not kind.startswith(BIOMECHANICS_PREFIX):
            entries.append(entry)
            continue
        if biomechanics is None:
            biomechanics = {"type": "biomechanics", "title": BIOMECHANICS_HEADING, "children": []}
            entries.append(biomechanics)
        intro = _intro_of(kind)
        parent = intros.get(intro) if intro is not None else None
        (parent or biomechanics)["children"].append(entry)
        if kind in _INTRO_OF_PREFIX.values():
            intros[kind] = entry
    return entries
