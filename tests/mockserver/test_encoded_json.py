"""Pre-encoded objects: the poll path writes their cached text, byte for byte what
``json.dumps`` would have written."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.encoded_json import PreEncodedObject, dumps_compact

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=10,
)
objects = st.dictionaries(st.text(max_size=4), json_values, max_size=4)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=80, deadline=None)
@given(envelope=objects, first=objects, second=objects)
def test_dumps_compact_writes_what_json_dumps_writes(
    envelope: dict[str, Any], first: dict[str, Any], second: dict[str, Any]
) -> None:
    body = {
        **envelope,
        "data": {"output": {"report": PreEncodedObject(first)}, "other": PreEncodedObject(second)},
    }
    plain = {**envelope, "data": {"output": {"report": first}, "other": second}}
    assert dumps_compact(body) == compact(plain)


def test_a_pre_encoded_object_is_still_a_plain_dict() -> None:
    report = PreEncodedObject({"schema_version": "1.0", "sections": []})
    assert report == {"schema_version": "1.0", "sections": []} and isinstance(report, dict)


def test_an_answer_without_pre_encoded_objects_is_encoded_as_usual() -> None:
    body = {"success": True, "data": {"progress": {"message": "Starting analysis..."}}}
    assert dumps_compact(body) == compact(body)


def test_a_string_that_looks_like_the_placeholder_is_left_alone() -> None:
    body = {"a": "pre-encoded-0", "b": PreEncodedObject({"x": 1})}
    assert dumps_compact(body) == '{"a":"pre-encoded-0","b":{"x":1}}'
