"""Every JSON response goes out through here: the documented envelopes, self-validated.

With ``VALIDATE_RESPONSES`` at ``raise`` (the test suite's setting) a response that does not
match ``schemas/`` raises :class:`ResponseContractViolation` before it leaves the server; at
``log`` it is logged as an error; at ``off`` nothing is checked (the fast path).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, request

import schemas
from mockserver.core.encoded_json import dumps_compact

__all__ = [
    "ResponseContractViolation",
    "check_against_contract",
    "read_json_body",
    "send_error",
    "send_success",
]

_RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


class ResponseContractViolation(AssertionError):
    """Raised when the mock is about to send a response that breaks its own schemas."""


def _openapi_path() -> str | None:
    rule = request.url_rule
    return None if rule is None else _RULE_ARGUMENT.sub(r"{\1}", rule.rule)


def check_against_contract(
    body: Mapping[str, Any],
    status: int,
    *,
    method: str,
    openapi_path: str | None,
    path: str,
    mode: str,
    log: Any,
) -> None:
    """Hold a response to ``schemas/`` under ``VALIDATE_RESPONSES`` ``mode`` (raise/log/off)."""
    if mode == "off":
        return
    declared = openapi_path is not None and schemas.response_schema_ref(
        method, openapi_path, status
    )
    if declared and openapi_path is not None:
        problems = schemas.response_errors(method, openapi_path, status, body)
    elif status >= 400:
        problems = schemas.errors(body, "error-envelope")
    else:
        problems = [f"{method} {openapi_path} does not declare status {status}"]
    if not problems:
        return
    summary = f"{method} {path} -> {status} breaks schemas/: " + "; ".join(problems)
    if mode == "raise":
        raise ResponseContractViolation(summary)
    log.error(summary)


def _check_against_contract(body: Mapping[str, Any], status: int) -> None:
    mode = current_app.config.get("VALIDATE_RESPONSES", "off")
    if mode == "off":
        return
    check_against_contract(
        body,
        status,
        # A HEAD answer is the GET answer without its body (RFC 9110, 9.3.2): held to GET's.
        method="GET" if request.method == "HEAD" else request.method,
        openapi_path=_openapi_path(),
        path=request.path,
        mode=mode,
        log=current_app.logger,
    )


def _json_response(
    body: Mapping[str, Any], status: int, headers: Mapping[str, str] | None
) -> Response:
    _check_against_contract(body, status)
    text = dumps_compact(body)  # the cached structured report is not encoded again
    response = Response(text, status=status, mimetype="application/json")
    if headers:
        response.headers.update(headers)
    return response


def send_success(data: Any, status: int = 200) -> Response:
    """``{"success": true, "data": ...}``."""
    return _json_response({"success": True, "data": data}, status, None)


def send_error(message: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """``{"success": false, "error": "..."}``, the documented error envelope."""
    return _json_response({"success": False, "error": message}, status, headers)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class _UnusableNumber(ValueError):
    """A JSON number no field of the API can hold (more digits than a double's range)."""


#: A double holds at most 309 integer digits; longer integers would only overflow later.
_MAX_INTEGER_DIGITS = 308


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INTEGER_DIGITS:
        shown = f"{text[:12]}... ({len(text.lstrip('-'))} digits)"
        raise _UnusableNumber(shown)
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _UnusableNumber(text if len(text) <= 24 else f"{text[:12]}...")
    return value


_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate(value: object) -> str | None:
    """The first lone surrogate in any string (key or value) of ``value``, escaped, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return f"\\u{ord(value[error.start]):04x}"
        return None
    if isinstance(value, dict):
        items: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found = _lone_surrogate(item)
        if found is not None:
            return found
    return None


def read_json_body() -> object:
    """The request body parsed as JSON, or a 400 naming what is wrong with it.

    Raises :class:`mockserver.service.RequestRejected` so the same error handler answers.
    """
    from mockserver.core import messages
    from mockserver.service import RequestRejected

    raw = request.get_data(cache=True)
    if not raw.strip():
        raise RequestRejected(messages.REQUEST_BODY_EMPTY)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestRejected(messages.REQUEST_BODY_NOT_UTF8) from error
    try:
        parsed = json.loads(
            text, parse_constant=_reject_constant, parse_int=_bounded_int, parse_float=_finite_float
        )
    except _UnusableNumber as error:
        raise RequestRejected(messages.REQUEST_BODY_NUMBER_TOO_LARGE.format(text=error)) from error
    except json.JSONDecodeError as error:
        detail = f"{error.msg} at line {error.lineno} column {error.colno}"
        raise RequestRejected(messages.REQUEST_BODY_NOT_JSON.format(detail=detail)) from error
    except (ValueError, RecursionError) as error:
        raise RequestRejected(messages.REQUEST_BODY_NOT_JSON.format(detail=error)) from error
    # Only an escape can make a lone surrogate (decoded UTF-8 has none): look only then.
    if _LONE_SURROGATE_ESCAPE.search(text):
        escape = _lone_surrogate(parsed)
        if escape is not None:
            raise RequestRejected(messages.REQUEST_BODY_LONE_SURROGATE.format(escape=escape))
    return parsed
