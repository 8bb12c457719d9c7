"""Reports and journal entries as JSON text: the one wire format of the shared backends.

SQLite and Redis keep a :class:`~mockserver.core.lifecycle.ReportRecord` as the text
:func:`record_to_json` writes, and read it back with :func:`record_from_json`; the round trip
is exact (``record_from_json(record_to_json(r)) == r``) for every record the service builds:
floats keep every bit (JSON writes ``repr``), phase progress and ``extra_fields`` are JSON
objects already, and the :class:`~mockserver.core.case_profile.CaseProfile` tuples come back as
tuples. Decoding is cached by text, so a poll that reads the same stored text again gets the
same record object without parsing it.
"""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from typing import Any

from mockserver.core.case_profile import CaseProfile
from mockserver.core.lifecycle import Phase, ReportRecord
from mockserver.store.base import JournalEntry, StoreError

__all__ = [
    "FORMAT_VERSION",
    "entry_from_json",
    "entry_to_json",
    "record_from_json",
    "record_to_json",
]

#: Written into every stored record; a reader refuses a version it does not know.
FORMAT_VERSION = 1

_PROFILE_FIELDS = tuple(field.name for field in dataclasses.fields(CaseProfile))
_COMPACT = {"separators": (",", ":"), "ensure_ascii": False}


def record_to_json(record: ReportRecord) -> str:
    """The stored text of a report."""
    document: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "id": record.id,
        "owner": record.owner,
        "case_id": record.case_id,
        "type": record.type,
        "scenario": record.scenario,
        "created_at": record.created_at,
        "plan": [
            [phase.after_seconds, phase.status, None if phase.progress is None else phase.progress]
            for phase in record.plan
        ],
        "profile": {name: getattr(record.profile, name) for name in _PROFILE_FIELDS},
        "demo": record.demo,
        "cancelled_at": record.cancelled_at,
        "scripted_report": record.scripted_report,
        "extra_fields": record.extra_fields,
    }
    return json.dumps(document, **_COMPACT)  # type: ignore[arg-type]


@lru_cache(maxsize=4096)
def record_from_json(text: str) -> ReportRecord:
    """The report :func:`record_to_json` wrote; :class:`StoreError` for anything else.

    Cached by text: records are immutable, and a poll reads the same text many times.
    """
    try:
        document = json.loads(text)
        if document.get("v") != FORMAT_VERSION:
            raise StoreError(
                f"Stored report has format version {document.get('v')!r}; this mock reads "
                f"{FORMAT_VERSION}: remove the old store file or flush the Redis keys"
            )
        profile_fields: dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in document["profile"].items()
        }
        profile = CaseProfile(**profile_fields)
        plan = tuple(
            Phase(after_seconds, status, progress)
            for after_seconds, status, progress in document["plan"]
        )
        return ReportRecord(
            id=document["id"],
            owner=document["owner"],
            case_id=document["case_id"],
            type=document["type"],
            scenario=document["scenario"],
            created_at=document["created_at"],
            plan=plan,
            profile=profile,
            demo=document["demo"],
            cancelled_at=document["cancelled_at"],
            scripted_report=document["scripted_report"],
            extra_fields=document["extra_fields"],
        )
    except StoreError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StoreError(f"Stored report is not readable: {error!r}") from error


def entry_to_json(entry: JournalEntry) -> str:
    """The stored text of a journal entry."""
    return json.dumps(dataclasses.asdict(entry), **_COMPACT)  # type: ignore[arg-type]


def entry_from_json(text: str) -> JournalEntry:
    """The journal entry :func:`entry_to_json` wrote."""
    try:
        return JournalEntry(**json.loads(text))
    except (ValueError, TypeError) as error:
        raise StoreError(f"Stored journal entry is not readable: {error!r}") from error
