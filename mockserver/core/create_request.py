"""Reading the body of ``POST /api/reports``, with the documented error messages.

Pure: no Flask, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.core import messages

__all__ = [
    "SUPPORTED_REPORT_TYPES",
    "CreateRequest",
    "InvalidCreateRequest",
    "parse_create_request",
]

#: Documented: only ``technical_report`` today (``demand_letter``, ``cross_examination`` later).
SUPPORTED_REPORT_TYPES = ("technical_report",)


class InvalidCreateRequest(ValueError):
    """Raised for a create body the real API answers with 400; ``str()`` is the message."""


@dataclass(frozen=True)
class CreateRequest:
    """A valid create request."""

    case_id: str
    type: str
    use_demo_data: bool = False
    include_biomechanics: bool | None = None


def json_kind(value: object) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def parse_create_request(body: object) -> CreateRequest:
    """The request in ``body``, or :class:`InvalidCreateRequest` with the documented message."""
    if not isinstance(body, dict):
        raise InvalidCreateRequest(messages.REQUEST_BODY_NOT_OBJECT.format(kind=json_kind(body)))
    case_id = body.get("case_id")
    if case_id is None or case_id == "":
        raise InvalidCreateRequest(messages.CASE_ID_REQUIRED)
    if not isinstance(case_id, str):
        raise InvalidCreateRequest(messages.CASE_ID_NOT_STRING.format(kind=json_kind(case_id)))
    report_type = body.get("type")
    if report_type is not None and not isinstance(report_type, str):
        raise InvalidCreateRequest(
            messages.REPORT_TYPE_NOT_STRING.format(kind=json_kind(report_type))
        )
    if report_type not in SUPPORTED_REPORT_TYPES:
        raise InvalidCreateRequest(messages.INVALID_REPORT_TYPE.format(type=report_type))
    options = body.get("options", {})
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise InvalidCreateRequest(messages.OPTIONS_NOT_OBJECT.format(kind=json_kind(options)))
    flags: dict[str, bool | None] = {}
    for name in ("use_demo_data", "include_biomechanics"):
        value = options.get(name)
        if value is not None and not isinstance(value, bool):
            raise InvalidCreateRequest(
                messages.OPTION_NOT_BOOLEAN.format(name=name, kind=json_kind(value))
            )
        flags[name] = value
    return CreateRequest(
        case_id=case_id,
        type=report_type,
        use_demo_data=bool(flags["use_demo_data"]),
        include_biomechanics=flags["include_biomechanics"],
    )
