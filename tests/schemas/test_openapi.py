"""The OpenAPI 3.1 document, and looking up response schemas through it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import schemas

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ERROR_ENVELOPE = f"{schemas.SCHEMA_BASE_URI}error-envelope.json"
OPENAPI_URI = f"{schemas.SCHEMA_BASE_URI}openapi.json"

ROUTES = [
    ("post", "/api/reports", {"200", "400", "401", "413", "415", "422", "429"}),
    ("get", "/api/reports", {"200", "400", "401", "429"}),
    ("get", "/api/reports/{report_id}", {"200", "401", "429"}),
    ("delete", "/api/reports/{report_id}", {"200", "400", "401", "404", "429"}),
    ("get", "/storage/reports/{filename}", {"200", "403", "404"}),
    ("get", "/healthz", {"200"}),
    ("get", "/_mock/clock", {"200"}),
    ("post", "/_mock/clock/advance", {"200", "400"}),
    ("post", "/_mock/reset", {"200"}),
    ("get", "/_mock/requests", {"200"}),
    ("delete", "/_mock/requests", {"200"}),
    ("get", "/_mock/scenarios", {"200"}),
    ("post", "/_mock/reports", {"200", "400"}),
]


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schemas.openapi()["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def resolved(node: dict[str, Any]) -> dict[str, Any]:
    """A response or parameter object, following a local ``$ref``."""
    document = schemas.openapi()
    while "$ref" in node:
        target: Any = document
        for segment in node["$ref"].removeprefix("#/").split("/"):
            target = target[segment]
        node = target
    return node


def json_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every application/json schema of a request body or response, with where it is."""
    for method, path, operation in operations():
        bodies = [("requestBody", operation.get("requestBody", {}))]
        bodies += [(status, resolved(r)) for status, r in operation["responses"].items()]
        for where, body in bodies:
            content = body.get("content", {}).get("application/json")
            if content is not None:
                yield f"{method.upper()} {path} {where}", content["schema"]


def test_the_document_is_openapi_3_1_with_the_2020_12_dialect() -> None:
    document = schemas.openapi()
    assert document["openapi"] == "3.1.0"
    assert document["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(("method", "path", "statuses"), ROUTES)
def test_every_route_of_the_mock_is_declared_with_its_statuses(
    method: str, path: str, statuses: set[str]
) -> None:
    operation = schemas.openapi()["paths"][path][method]
    assert statuses <= set(operation["responses"])


def test_every_operation_has_a_unique_operation_id_and_a_summary() -> None:
    ids = [operation["operationId"] for _, _, operation in operations()]
    assert len(ids) == len(set(ids)) >= len(ROUTES)
    assert all(operation.get("summary") for _, _, operation in operations())


def test_every_json_body_references_a_schema_that_exists() -> None:
    resolver = schemas.registry().resolver(base_uri=OPENAPI_URI)
    found = list(json_schemas())
    assert found
    for where, body_schema in found:
        if where.endswith("requestBody") and "$ref" not in body_schema:
            continue  # an inline request schema of a mock-only route
        assert isinstance(resolver.lookup(body_schema["$ref"]).contents, dict), where


def test_the_documented_api_bodies_are_schema_files_of_the_package() -> None:
    for where, body_schema in json_schemas():
        if " /api/" in where:
            ref = body_schema["$ref"]
            assert ref.startswith(schemas.SCHEMA_BASE_URI), where
            name = ref.removeprefix(schemas.SCHEMA_BASE_URI).removesuffix(".json")
            assert name in schemas.schema_names(), where


def test_every_error_response_is_the_error_envelope() -> None:
    for where, body_schema in json_schemas():
        status = where.rsplit(" ", 1)[1]
        if status[0] in "45":
            assert body_schema == {"$ref": ERROR_ENVELOPE}, where


def test_only_the_api_operations_require_the_api_key() -> None:
    document = schemas.openapi()
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert "security" not in document
    for method, path, operation in operations():
        expected = [{"ApiKey": []}] if path.startswith("/api/") else []
        assert operation.get("security", []) == expected, f"{method} {path}"


def test_mock_only_parts_say_so() -> None:
    for method, path, operation in operations():
        if path.startswith("/_mock/") or path == "/healthz":
            assert "Mock-only" in operation["description"], f"{method} {path}"
    parameters = schemas.openapi()["paths"]["/api/reports"]["post"]["parameters"]
    mock_headers = [resolved(p) for p in parameters if resolved(p)["name"].startswith("X-Mock-")]
    assert "X-Mock-Scenario" in [header["name"] for header in mock_headers]
    assert all("Mock-only" in header["description"] for header in mock_headers)


def test_downloads_declare_both_document_types() -> None:
    ok = schemas.openapi()["paths"]["/storage/reports/{filename}"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }


# --- response_schema_ref ---------------------------------------------------------------------


def test_response_schema_ref_of_a_declared_status() -> None:
    ref = schemas.response_schema_ref("GET", "/api/reports/{report_id}", 200)
    assert ref == f"{schemas.SCHEMA_BASE_URI}report-response.json"


def test_response_schema_ref_follows_shared_responses() -> None:
    assert schemas.response_schema_ref("get", "/api/reports", 401) == ERROR_ENVELOPE


def test_response_schema_ref_falls_back_to_a_status_range() -> None:
    assert schemas.response_schema_ref("DELETE", "/api/reports/{report_id}", 503) == (
        ERROR_ENVELOPE
    )


def test_response_schema_ref_ignores_media_type_parameters() -> None:
    ref = schemas.response_schema_ref("GET", "/healthz", 200, "application/json; charset=utf-8")
    assert ref == f"{schemas.SCHEMA_BASE_URI}health.json"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/reports/{report_id}", 418),
        ("GET", "/healthz", 500),
        ("PATCH", "/api/reports", 200),
        ("GET", "/api/nowhere", 200),
    ],
    ids=["undeclared-status", "no-range-fallback", "undeclared-method", "undeclared-path"],
)
def test_response_schema_ref_is_none_when_nothing_is_declared(
    method: str, path: str, status: int
) -> None:
    assert schemas.response_schema_ref(method, path, status) is None


def test_response_schema_ref_of_a_binary_download_resolves_to_the_inline_schema() -> None:
    path = "/storage/reports/{filename}"
    assert schemas.response_schema_ref("GET", path, 200) is None
    ref = schemas.response_schema_ref("GET", path, 200, "application/pdf")
    assert ref is not None and ref.startswith(f"{schemas.SCHEMA_BASE_URI}openapi.json#/paths/")
    assert schemas.registry().resolver().lookup(ref).contents["type"] == "string"


# --- response_errors ---------------------------------------------------------------------------


def test_response_errors_accepts_a_valid_body() -> None:
    body = {"success": True, "data": None}
    assert schemas.response_errors("GET", "/api/reports/{report_id}", 200, body) == []


def test_response_errors_lists_what_breaks_the_declared_schema() -> None:
    body = {"success": True, "data": {"reports": [], "total": "0"}}
    assert schemas.response_errors("GET", "/api/reports", 200, body) == [
        "$.data.total: '0' is not of type 'integer'"
    ]


def test_response_errors_checks_errors_against_the_envelope() -> None:
    problems = schemas.response_errors("DELETE", "/api/reports/{report_id}", 404, {"x": 1})
    assert sorted(problems) == [
        "$: 'error' is a required property",
        "$: 'success' is a required property",
    ]


def test_response_errors_of_an_undeclared_status_is_one_error() -> None:
    assert schemas.response_errors("GET", "/api/reports/{report_id}", 418, {}) == [
        "GET /api/reports/{report_id} does not declare status 418"
    ]


def test_response_errors_of_an_undeclared_operation_is_one_error() -> None:
    assert schemas.response_errors("put", "/_mock/clock", 200, {}) == [
        "PUT /_mock/clock is not an operation of the OpenAPI document"
    ]


def test_response_errors_of_a_response_without_a_json_body_is_one_error() -> None:
    assert schemas.response_errors("GET", "/storage/reports/{filename}", 200, {}) == [
        "GET /storage/reports/{filename} declares no application/json body for status 200"
    ]
