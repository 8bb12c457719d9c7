"""The wire contract as JSON Schemas (Draft 2020-12) and an OpenAPI 3.1 document, and the one
loader that the mock server, the contract-testing kit and the tests all use.

Every ``*.json`` file next to this module is read once. Each schema file has an ``$id`` of the
form ``https://reports-mock.dev/schemas/<file name>`` and refers to the others by relative file
name; ``openapi.json`` refers to them by their full ``$id``. A :class:`referencing.Registry`
holds them all, so every ``$ref`` resolves offline::

    >>> import schemas
    >>> schemas.errors({"success": True, "data": None}, "report-response")
    []
    >>> schemas.errors({"success": True, "data": {"status": "done"}}, "report-response")[0]
    "$.data: 'case_id' is a required property"

:func:`errors` reports every problem of an instance (``iter_errors``), not only the first.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any, cast
from urllib.parse import quote, urljoin

# jsonschema ships no type information (no py.typed, and types-jsonschema is not a dependency).
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012, SchemaRegistry

__all__ = [
    "SCHEMA_BASE_URI",
    "ContractViolation",
    "SchemaError",
    "errors",
    "openapi",
    "registry",
    "response_errors",
    "response_schema_ref",
    "schema",
    "schema_names",
    "validate",
    "validator",
]

#: The base of every schema's ``$id``; a schema's URI is this plus its file name.
SCHEMA_BASE_URI = "https://reports-mock.dev/schemas/"

_OPENAPI_NAME = "openapi"
_OPENAPI_URI = SCHEMA_BASE_URI + "openapi.json"
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Messages quote the failing instance; a whole report would drown the path and the reason.
_MESSAGE_LIMIT = 300
_MESSAGE_TAIL = 80


class SchemaError(Exception):
    """Base exception of the package; raised as such for an unknown schema name or a schema
    file that breaks the package's own conventions (a wrong ``$id``, invalid JSON)."""


class ContractViolation(SchemaError):
    """Raised by :func:`validate` when an instance breaks a schema; carries every error.

    ``schema_name`` is the schema validated against; ``errors`` the messages of
    :func:`errors`, each ``"<json path>: <message>"``.
    """

    def __init__(self, schema_name: str, errors: list[str]) -> None:
        super().__init__(schema_name, list(errors))  # both in args, so it pickles
        self.schema_name = schema_name
        self.errors = list(errors)

    def __str__(self) -> str:
        count = len(self.errors)
        lines = "".join(f"\n  - {error}" for error in self.errors)
        return f"{count} error{'s' if count != 1 else ''} against {self.schema_name}:{lines}"


@cache
def _documents() -> Mapping[str, dict[str, Any]]:
    """Every ``*.json`` of the package by name (file name without ``.json``), read once."""
    documents: dict[str, dict[str, Any]] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        name = entry.name.removesuffix(".json")
        try:
            document = json.loads(entry.read_text(encoding="utf-8"))
        except ValueError as error:
            raise SchemaError(f"{entry.name} is not valid JSON: {error}") from error
        if not isinstance(document, dict):
            raise SchemaError(f"{entry.name} must hold a JSON object")
        expected_id = SCHEMA_BASE_URI + entry.name
        if name != _OPENAPI_NAME and document.get("$id") != expected_id:
            raise SchemaError(f"{entry.name} must have $id {expected_id!r}")
        documents[name] = document
    return documents


def schema_names() -> list[str]:
    """The names of the schemas, sorted: file names without ``.json``, ``openapi`` excluded."""
    return sorted(name for name in _documents() if name != _OPENAPI_NAME)


def _document(name: str) -> dict[str, Any]:
    documents = _documents()
    if name == _OPENAPI_NAME or name not in documents:
        known = ", ".join(schema_names())
        hint = " (use openapi() for the OpenAPI document)" if name == _OPENAPI_NAME else ""
        raise SchemaError(f"Unknown schema {name!r}{hint}. Known schemas: {known}")
    return documents[name]


def schema(name: str) -> dict[str, Any]:
    """A copy of the parsed schema ``name`` (e.g. ``"report"``); :class:`SchemaError` listing
    the known names when there is no such schema."""
    return copy.deepcopy(_document(name))


def openapi() -> dict[str, Any]:
    """A copy of the parsed OpenAPI 3.1 document (``openapi.json``)."""
    return copy.deepcopy(_documents()[_OPENAPI_NAME])


@cache
def registry() -> SchemaRegistry:
    """Every schema under its ``$id``, and the OpenAPI document under
    ``https://reports-mock.dev/schemas/openapi.json``, crawled and ready to resolve."""
    resources_by_uri = [
        (
            SCHEMA_BASE_URI + f"{name}.json",
            Resource.from_contents(document, default_specification=DRAFT202012),
        )
        for name, document in _documents().items()
    ]
    empty: SchemaRegistry = Registry()
    return empty.with_resources(resources_by_uri).crawl()


def _bound_validator(contents: Mapping[str, Any]) -> Validator:
    return cast(
        Validator,
        Draft202012Validator(contents, registry=registry(), format_checker=FormatChecker()),
    )


@cache
def validator(name: str) -> Validator:
    """A Draft 2020-12 validator of schema ``name``, bound to :func:`registry`, with format
    checking on (formats whose checker library is not installed, such as ``uri``, pass)."""
    return _bound_validator(_document(name))


@cache
def _validator_for_uri(uri: str) -> Validator:
    return _bound_validator({"$ref": uri})


def _path_key(error: ValidationError) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.absolute_path)


def _shortened(message: str) -> str:
    if len(message) <= _MESSAGE_LIMIT:
        return message
    head = _MESSAGE_LIMIT - _MESSAGE_TAIL - 5
    return f"{message[:head]} ... {message[-_MESSAGE_TAIL:]}"


def _mismatches_type(branch: list[ValidationError]) -> bool:
    """Whether a failed ``anyOf``/``oneOf`` branch was for another JSON type altogether."""
    return any(error.validator == "type" and not error.relative_path for error in branch)


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """The error itself, or, for an ``anyOf``/``oneOf`` whose only branch of the instance's
    type failed (a nullable ``$ref``), that branch's own errors, so the path points at the
    field at fault rather than at the whole object."""
    branches: dict[object, list[ValidationError]] = {}
    for child in error.context or ():
        branch = child.relative_schema_path[0] if child.relative_schema_path else None
        branches.setdefault(branch, []).append(child)
    candidates = [branch for branch in branches.values() if not _mismatches_type(branch)]
    if len(candidates) != 1:
        yield error
        return
    for child in candidates[0]:
        yield from _leaf_errors(child)


def _described(found: Iterable[ValidationError]) -> list[str]:
    leaves = [leaf for error in found for leaf in _leaf_errors(error)]
    leaves.sort(key=lambda leaf: (_path_key(leaf), leaf.message))
    return [f"{leaf.json_path}: {_shortened(leaf.message)}" for leaf in leaves]


def errors(instance: object, name: str) -> list[str]:
    """Every way ``instance`` breaks schema ``name``, each ``"<json path>: <message>"``
    (``$.data.status: 'done' is not one of [...]``), sorted by path; ``[]`` when valid."""
    return _described(validator(name).iter_errors(instance))


def validate(instance: object, name: str) -> None:
    """Raise :class:`ContractViolation` listing every error unless ``instance`` matches
    schema ``name``."""
    problems = errors(instance, name)
    if problems:
        raise ContractViolation(name, problems)


def _escape_pointer(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _resolve_local(node: Any, pointer: str) -> tuple[Any, str]:
    """Follow ``{"$ref": "#/..."}`` objects (e.g. shared responses) inside the OpenAPI
    document; returns the target and its JSON pointer."""
    document = _documents()[_OPENAPI_NAME]
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = node["$ref"]
        if not target.startswith("#/") or target in seen:
            break
        seen.add(target)
        pointer = target[1:]
        node = document
        for raw in pointer[1:].split("/"):
            segment = raw.replace("~1", "/").replace("~0", "~")
            node = node[int(segment)] if isinstance(node, list) else node[segment]
    return node, pointer


def _operation(method: str, path_template: str) -> dict[str, Any] | None:
    paths = _documents()[_OPENAPI_NAME].get("paths", {})
    operation = paths.get(path_template, {}).get(method.lower())
    if method.lower() not in _HTTP_METHODS or not isinstance(operation, dict):
        return None
    return operation


def _declared_response(
    method: str, path_template: str, status: int
) -> tuple[dict[str, Any], str] | None:
    """The response object an operation declares for ``status`` (falling back to ``4XX``
    and ``default``), with its JSON pointer, or ``None``."""
    operation = _operation(method, path_template)
    if operation is None:
        return None
    responses = operation.get("responses", {})
    pointer = "/paths/" + _escape_pointer(path_template) + "/" + method.lower() + "/responses/"
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in responses:
            node, where = _resolve_local(responses[key], pointer + _escape_pointer(key))
            return (node, where) if isinstance(node, dict) else None
    return None


def response_schema_ref(
    method: str, path_template: str, status: int, content_type: str = "application/json"
) -> str | None:
    """The URI of the schema OpenAPI declares for the ``content_type`` body of ``method
    path_template`` (``"GET"``, ``"/api/reports/{report_id}"``) answering ``status``.

    Falls back to a ``4XX``-style range and to ``default``; ``None`` when the document
    declares no such operation, status or body. An inline schema is named by its JSON pointer
    inside ``openapi.json``; either way the URI resolves through :func:`registry`.
    """
    found = _declared_response(method, path_template, status)
    if found is None:
        return None
    response, pointer = found
    media_type = content_type.split(";", 1)[0].strip().lower()
    content = response.get("content", {}).get(media_type)
    if not isinstance(content, dict) or "schema" not in content:
        return None
    body_schema = content["schema"]
    target = body_schema.get("$ref") if isinstance(body_schema, dict) else None
    if isinstance(target, str):
        return urljoin(_OPENAPI_URI, target)
    fragment = quote(f"{pointer}/content/{_escape_pointer(media_type)}/schema", safe="/~")
    return f"{_OPENAPI_URI}#{fragment}"


def response_errors(method: str, path_template: str, status: int, body: object) -> list[str]:
    """Every way the JSON ``body`` breaks the schema OpenAPI declares for this response, as
    :func:`errors` words them; one error when the document declares no such operation, no
    such status (``"GET /api/reports/{report_id} does not declare status 418"``) or no JSON
    body for it."""
    operation = f"{method.upper()} {path_template}"
    if _operation(method, path_template) is None:
        return [f"{operation} is not an operation of the OpenAPI document"]
    if _declared_response(method, path_template, status) is None:
        return [f"{operation} does not declare status {status}"]
    uri = response_schema_ref(method, path_template, status)
    if uri is None:
        return [f"{operation} declares no application/json body for status {status}"]
    return _described(_validator_for_uri(uri).iter_errors(body))
