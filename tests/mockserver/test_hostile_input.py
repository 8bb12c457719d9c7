"""Hostile input, answered cleanly: one table of bad requests, each a clear 4xx in the envelope.

Every row runs against a mock holding reports in several states (completed, cancelled, still
processing) for two tenants. The row's request must get its documented status and
message, never a 500, and every stored report must look exactly the same through the API
before and after (signed URLs compared without their expiry and signature, which a later GET
re-mints).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver.core import messages

KEY = {"X-API-Key": "sk-test-tenant-one"}
OTHER_KEY = {"X-API-Key": "sk-test-tenant-two"}
LIMIT = 1024 * 1024
LONG_ID = "rpt_" + "x" * 5000


@dataclass
class World:
    """The reports every row runs against (completed, cancelled by its owner, processing for
    ever), and the signed URLs of the completed one."""

    reports: list[tuple[dict[str, str], str]] = field(default_factory=list)
    cases: list[tuple[str, str]] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)


def local(url: str, **changes: str) -> str:
    """The path and query of a signed URL, with some query parameters changed."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


def build_world(client: FlaskClient) -> World:
    world = World()

    def create(headers: dict[str, str], case_id: str, scenario: str | None = None) -> str:
        extra = {"X-Mock-Scenario": scenario} if scenario else {}
        response = client.post(
            "/api/reports",
            json={"case_id": case_id, "type": "technical_report"},
            headers={**headers, **extra},
        )
        assert response.status_code == 200, response.get_json()
        report_id: str = response.get_json()["data"]["id"]
        world.reports.append((headers, report_id))
        world.cases.append((headers["X-API-Key"], case_id))
        return report_id

    done = create(KEY, "case_done")
    cancelled = create(OTHER_KEY, "case_cancelled")
    client.delete(f"/api/reports/{cancelled}", headers=OTHER_KEY)
    client.post("/_mock/clock/advance", json={"seconds": 3600})
    world.urls["stuck_id"] = create(KEY, "case_stuck", "stuck")
    output = client.get(f"/api/reports/{done}", headers=KEY).get_json()["data"]["output"]
    world.urls.update(done_pdf=output["pdf_url"], done_docx=output["docx_url"], done_id=done)
    return world


def snapshot(client: FlaskClient, world: World) -> list[Any]:
    """Every report as its owner sees it, and the case lists rows could add to."""

    def without_signatures(report: dict[str, Any] | None) -> Any:
        if report and report.get("output"):
            output = dict(report["output"])
            for key in ("pdf_url", "docx_url"):
                output[key] = urlsplit(output[key]).path
            report = {**report, "output": output}
        return report

    seen: list[Any] = []
    for headers, report_id in world.reports:
        response = client.get(f"/api/reports/{report_id}", headers=headers)
        seen.append(without_signatures(response.get_json()["data"]))
    # Each tenant's case lists, so a report that a row created would show too.
    listed = {*world.cases, (KEY["X-API-Key"], "case_x"), (OTHER_KEY["X-API-Key"], "case_x")}
    for key, case_id in sorted(listed):
        response = client.get(f"/api/reports?case_id={case_id}", headers={"X-API-Key": key})
        seen.append(response.get_json())
    return seen


@dataclass(frozen=True)
class Hostile:
    """One bad request and its documented answer.

    ``path`` may name the world's signed URLs (``{done_pdf}``...); ``error`` is the exact
    message, or its start when ``prefix``; ``data_null`` rows expect the documented
    ``200 {"success": true, "data": null}`` instead of an error.
    """

    method: str
    path: str | Callable[[World], str]
    status: int
    error: str | None = None
    headers: dict[str, str] = field(default_factory=lambda: dict(KEY))
    json: Any = None
    data: bytes | None = None
    prefix: bool = False
    advance: float = 0


def create_with(body: Any, status: int, error: str, **options: Any) -> Hostile:
    return Hostile("POST", "/api/reports", status, error, json=body, **options)


def raw_create(data: bytes, error: str, **options: Any) -> Hostile:
    return Hostile("POST", "/api/reports", 400, error, data=data, prefix=True, **options)


def bad_type(name: str, value: Any, kind: str) -> Hostile:
    body = {"case_id": "case_x", "type": "technical_report", name: value}
    if name == "case_id":
        error = messages.CASE_ID_NOT_STRING.format(kind=kind)
    elif name == "type":
        error = messages.REPORT_TYPE_NOT_STRING.format(kind=kind)
    else:
        error = messages.OPTIONS_NOT_OBJECT.format(kind=kind)
    return create_with(body, 400, error)


def bad_option(name: str, value: Any, kind: str) -> Hostile:
    body = {"case_id": "case_x", "type": "technical_report", "options": {name: value}}
    return create_with(body, 400, messages.OPTION_NOT_BOOLEAN.format(name=name, kind=kind))


def unknown_type(value: str) -> Hostile:
    body = {"case_id": "case_x", "type": value}
    return create_with(body, 400, messages.INVALID_REPORT_TYPE.format(type=value))


def download(edit: Callable[[World], str], status: int, error: str, **options: Any) -> Hostile:
    return Hostile("GET", edit, status, error, headers={}, **options)


def not_allowed(method: str, path: str) -> Hostile:
    return Hostile(method, path, 405, f"Method {method} is not allowed on ", prefix=True)


def no_document(filename: str) -> str:
    return messages.DOWNLOAD_NOT_FOUND.format(filename=filename)


INVALID = messages.DOWNLOAD_SIGNATURE_INVALID
MISSING = messages.DOWNLOAD_SIGNATURE_MISSING
NOT_JSON = "Request body is not valid JSON: "
TOO_LARGE = messages.REQUEST_BODY_TOO_LARGE.format(limit=LIMIT)
DOCX_OF_DONE = lambda w: local(w.urls["done_pdf"]).replace(".pdf", ".docx")  # noqa: E731

HOSTILE: dict[str, Hostile] = {
    # --- bodies that are not JSON, or not an object -----------------------------------------------
    "malformed-json": raw_create(b"{not json", NOT_JSON),
    "truncated-json": raw_create(b'{"case_id": "case_x", "type": "technical', NOT_JSON),
    "empty-body": raw_create(b"", messages.REQUEST_BODY_EMPTY),
    "whitespace-body": raw_create(b" \n\t ", messages.REQUEST_BODY_EMPTY),
    "not-utf8": raw_create(b'{"case_id": "\xff"}', messages.REQUEST_BODY_NOT_UTF8),
    "nan": raw_create(b'{"case_id": NaN}', NOT_JSON),
    "infinity": raw_create(b'{"case_id": "c", "options": -Infinity}', NOT_JSON),
    "deeply-nested": raw_create(b"[" * 100_000, NOT_JSON),
    "json-array": raw_create(b"[]", messages.REQUEST_BODY_NOT_OBJECT.format(kind="an array")),
    "json-string": raw_create(b'"x"', messages.REQUEST_BODY_NOT_OBJECT.format(kind="a string")),
    "json-number": raw_create(b"42", messages.REQUEST_BODY_NOT_OBJECT.format(kind="a number")),
    "json-null": raw_create(b"null", messages.REQUEST_BODY_NOT_OBJECT.format(kind="null")),
    "json-true": raw_create(b"true", messages.REQUEST_BODY_NOT_OBJECT.format(kind="a boolean")),
    # --- wrong types for every field --------------------------------------------------------------
    "case_id-number": bad_type("case_id", 42, "a number"),
    "case_id-float": bad_type("case_id", 1.5, "a number"),
    "case_id-array": bad_type("case_id", ["case_x"], "an array"),
    "case_id-object": bad_type("case_id", {"id": "case_x"}, "an object"),
    "case_id-boolean": bad_type("case_id", True, "a boolean"),
    "case_id-missing": create_with({"type": "technical_report"}, 400, messages.CASE_ID_REQUIRED),
    "case_id-empty": create_with(
        {"case_id": "", "type": "technical_report"}, 400, "case_id is required"
    ),
    "type-number": bad_type("type", 1, "a number"),
    "type-array": bad_type("type", ["technical_report"], "an array"),
    "type-object": bad_type("type", {}, "an object"),
    "type-boolean": bad_type("type", False, "a boolean"),
    "options-string": bad_type("options", "yes", "a string"),
    "options-array": bad_type("options", [], "an array"),
    "options-number": bad_type("options", 1, "a number"),
    "options-boolean": bad_type("options", True, "a boolean"),
    "use_demo_data-string": bad_option("use_demo_data", "true", "a string"),
    "use_demo_data-number": bad_option("use_demo_data", 1, "a number"),
    "use_demo_data-object": bad_option("use_demo_data", {}, "an object"),
    "include_biomechanics-string": bad_option("include_biomechanics", "no", "a string"),
    "include_biomechanics-array": bad_option("include_biomechanics", [], "an array"),
    # --- unknown report types ---------------------------------------------------------------------
    "type-demand_letter": unknown_type("demand_letter"),
    "type-cross_examination": unknown_type("cross_examination"),
    "type-empty": unknown_type(""),
    "type-upper-case": unknown_type("TECHNICAL_REPORT"),
    "type-trailing-space": unknown_type("technical_report "),
    "type-non-ascii": unknown_type("téchnical_repört 📄"),
    "type-missing": create_with(
        {"case_id": "case_x"}, 400, messages.INVALID_REPORT_TYPE.format(type=None)
    ),
    # --- mock-only headers ------------------------------------------------------------------------
    "unknown-scenario": create_with(
        {"case_id": "case_x", "type": "technical_report"},
        400,
        "Unknown scenario 'explode' in X-Mock-Scenario. Known scenarios: ",
        prefix=True,
        headers={**KEY, "X-Mock-Scenario": "explode"},
    ),
    "bad-faults-header": create_with(
        {"case_id": "case_x", "type": "technical_report"},
        400,
        "Invalid X-Mock-Faults header: Invalid fault rule 'explode'",
        prefix=True,
        headers={**KEY, "X-Mock-Faults": "explode"},
    ),
    "non-ascii-scenario": create_with(
        {"case_id": "case_x", "type": "technical_report"},
        400,
        messages.HEADER_NOT_ASCII.format(name="X-Mock-Scenario"),
        headers={**KEY, "X-Mock-Scenario": "st\xfcck"},
    ),
    "non-ascii-faults": create_with(
        {"case_id": "case_x", "type": "technical_report"},
        400,
        messages.HEADER_NOT_ASCII.format(name="X-Mock-Faults"),
        headers={**KEY, "X-Mock-Faults": "latency=5\xe9"},
    ),
    "blank-scenario": create_with(
        {"case_id": "case_x", "type": "technical_report"},
        400,
        "Unknown scenario ' ' in X-Mock-Scenario. Known scenarios: ",
        prefix=True,
        headers={**KEY, "X-Mock-Scenario": " "},
    ),
    # --- strings and numbers no field can hold ----------------------------------------------------
    "lone-surrogate-case_id": raw_create(
        b'{"case_id": "case_\\ud800", "type": "technical_report"}',
        messages.REQUEST_BODY_LONE_SURROGATE.format(escape="\\ud800"),
    ),
    "lone-surrogate-key": raw_create(
        b'{"case_id": "case_x", "type": "technical_report", "\\udfff": 1}',
        messages.REQUEST_BODY_LONE_SURROGATE.format(escape="\\udfff"),
    ),
    "lone-surrogate-control": Hostile(
        "PUT",
        "/_mock/faults",
        400,
        messages.REQUEST_BODY_LONE_SURROGATE.format(escape="\\udbff"),
        headers={},
        data=b'{"rules": ["\\udbff"]}',
    ),
    "huge-advance-seconds": Hostile(
        "POST",
        "/_mock/clock/advance",
        400,
        "Request body has a number too large for this API (",
        headers={},
        data=b'{"seconds": 1' + b"0" * 400 + b"}",
        prefix=True,
    ),
    "huge-after-seconds": Hostile(
        "POST",
        "/_mock/reports",
        400,
        "Request body has a number too large for this API (",
        headers={},
        data=b'{"api_key": "sk-test-tenant-one", "case_id": "case_x", "timeline": '
        b'[{"after_seconds": 0, "status": "pending"}, {"after_seconds": 1'
        + b"0" * 400
        + b', "status": "completed"}]}',
        prefix=True,
    ),
    "overflowing-float": raw_create(
        b'{"case_id": "case_x", "type": "technical_report", "options": {"x": 1e400}}',
        "Request body has a number too large for this API (1e400)",
    ),
    "journal-limit-superscript": Hostile(
        "GET",
        "/_mock/requests?limit=%C2%B2",
        400,
        "limit must be a whole number",
        headers={},
        prefix=True,
    ),
    "journal-limit-5000-digits": Hostile(
        "GET",
        "/_mock/requests?limit=" + "9" * 5000,
        400,
        "limit must be a whole number",
        headers={},
        prefix=True,
    ),
    "overview-limit-superscript": Hostile(
        "GET",
        "/_mock/reports?limit=%C2%B2",
        400,
        "limit must be a whole number",
        headers={},
        prefix=True,
    ),
    "overview-limit-5000-digits": Hostile(
        "GET",
        "/_mock/reports?limit=" + "9" * 5000,
        400,
        "limit must be a whole number",
        headers={},
        prefix=True,
    ),
    "overview-limit-arabic-digit": Hostile(
        "GET",
        "/_mock/reports?limit=%D9%A3",
        400,
        "limit must be a whole number",
        headers={},
        prefix=True,
    ),
    # --- very long and non-ASCII ids --------------------------------------------------------------
    "get-long-id": Hostile("GET", f"/api/reports/{LONG_ID}", 200),
    "get-non-ascii-id": Hostile("GET", "/api/reports/rpt_%E2%98%83%C3%BC", 200),
    "get-nul-id": Hostile("GET", "/api/reports/rpt_%00", 200),
    "get-full-width-id": Hostile("GET", "/api/reports/%EF%BD%92%EF%BD%90%EF%BD%94", 200),
    "cancel-long-id": Hostile("DELETE", f"/api/reports/{LONG_ID}", 404, messages.REPORT_NOT_FOUND),
    "cancel-non-ascii-id": Hostile("DELETE", "/api/reports/%C3%BC", 404, messages.REPORT_NOT_FOUND),
    "list-long-case-id": Hostile("GET", f"/api/reports?case_id={'c' * 5000}", 200),
    "list-empty-case-id": Hostile(
        "GET", "/api/reports?case_id=", 400, messages.CASE_ID_QUERY_REQUIRED
    ),
    # --- oversized bodies -------------------------------------------------------------------------
    "oversized-create": Hostile(
        "POST", "/api/reports", 413, TOO_LARGE, data=b'{"case_id": "' + b"x" * 2 * LIMIT + b'"}'
    ),
    "oversized-control": Hostile(
        "POST", "/_mock/clock/advance", 413, TOO_LARGE, headers={}, data=b"1" * (LIMIT + 1)
    ),
    # --- wrong methods ----------------------------------------------------------------------------
    "put-report": not_allowed("PUT", "/api/reports/rpt_1"),
    "patch-report": not_allowed("PATCH", "/api/reports/rpt_1"),
    "post-report": not_allowed("POST", "/api/reports/rpt_1"),
    "delete-reports": not_allowed("DELETE", "/api/reports"),
    "put-download": not_allowed("PUT", "/storage/reports/rpt_1.pdf"),
    "get-reset": not_allowed("GET", "/_mock/reset"),
    # --- missing and wrong API keys ---------------------------------------------------------------
    "no-key": Hostile("GET", "/api/reports/rpt_1", 401, messages.MISSING_API_KEY, headers={}),
    "empty-key": Hostile(
        "GET", "/api/reports/rpt_1", 401, messages.MISSING_API_KEY, headers={"X-API-Key": ""}
    ),
    "blank-key": Hostile(
        "GET", "/api/reports/rpt_1", 401, messages.MISSING_API_KEY, headers={"X-API-Key": "   "}
    ),
    "publishable-key": Hostile(
        "POST", "/api/reports", 401, messages.INVALID_API_KEY, headers={"X-API-Key": "pk-live-1"}
    ),
    "bearer-not-key": Hostile(
        "GET",
        "/api/reports/rpt_1",
        401,
        messages.MISSING_API_KEY,
        headers={"Authorization": "Bearer sk-test-tenant-one"},
    ),
    "other-tenant-cancels": Hostile(
        "DELETE",
        lambda w: f"/api/reports/{w.urls['done_id']}",
        404,
        messages.REPORT_NOT_FOUND,
        headers=OTHER_KEY,
    ),
    "other-tenant-reads": Hostile(
        "GET", lambda w: f"/api/reports/{w.urls['done_id']}", 200, headers=OTHER_KEY
    ),
    "cancel-completed": Hostile(
        "DELETE",
        lambda w: f"/api/reports/{w.urls['done_id']}",
        400,
        messages.CANNOT_CANCEL.format(status="completed"),
    ),
    # --- path traversal and encoded slashes in download paths -------------------------------------
    "traversal-encoded": download(
        lambda w: "/storage/reports/..%2F..%2Fetc%2Fpasswd", 404, no_document("../../etc/passwd")
    ),
    "traversal-dots": download(
        lambda w: "/storage/reports/%2e%2e/%2e%2e/app.py", 404, no_document("../../app.py")
    ),
    "traversal-signed-shape": download(
        lambda w: local(w.urls["done_pdf"]).replace("/reports/", "/reports/..%2F..%2F"),
        403,
        INVALID,
    ),
    "encoded-slash-in-id": download(
        lambda w: local(w.urls["done_pdf"]).replace("rpt_", "rpt%2F"), 403, INVALID
    ),
    "backslashes": download(
        lambda w: "/storage/reports/..%5C..%5Cwin.ini.pdf?expires=1&signature=00", 403, INVALID
    ),
    "nul-in-filename": download(
        lambda w: local(w.urls["done_pdf"]).replace(".pdf", ".pdf%00.txt"),
        404,
        "No document rpt_",
        prefix=True,
    ),
    "executable-extension": download(
        lambda w: "/storage/reports/rpt_1.exe", 404, no_document("rpt_1.exe")
    ),
    # --- tampered, truncated and replayed signatures ----------------------------------------------
    "unsigned": download(lambda w: urlsplit(w.urls["done_pdf"]).path, 403, MISSING),
    "empty-signature": download(lambda w: local(w.urls["done_pdf"], signature=""), 403, MISSING),
    "tampered-signature": download(
        lambda w: local(w.urls["done_pdf"], signature=flip(w.urls["done_pdf"])), 403, INVALID
    ),
    "truncated-signature": download(
        lambda w: local(w.urls["done_pdf"], signature=signature(w.urls["done_pdf"])[:32]),
        403,
        INVALID,
    ),
    "upper-case-signature": download(
        lambda w: local(w.urls["done_pdf"], signature=signature(w.urls["done_pdf"]).upper()),
        403,
        INVALID,
    ),
    "non-ascii-signature": download(
        lambda w: local(w.urls["done_pdf"], signature="é" * 64), 403, INVALID
    ),
    "extended-expiry": download(
        lambda w: local(w.urls["done_pdf"], expires="9999999999"), 403, INVALID
    ),
    "huge-expiry": download(lambda w: local(w.urls["done_pdf"], expires="9" * 40), 403, INVALID),
    "negative-expiry": download(lambda w: local(w.urls["done_pdf"], expires="-1"), 403, INVALID),
    "non-ascii-expiry": download(
        lambda w: local(w.urls["done_pdf"], expires="１２３"), 403, INVALID
    ),
    "replayed-after-expiry": download(
        lambda w: local(w.urls["done_pdf"]),
        403,
        "Download URL expired at ",
        prefix=True,
        advance=3601,
    ),
    "pdf-signature-for-docx": download(DOCX_OF_DONE, 403, INVALID),
    "signed-for-another-report": download(
        lambda w: local(w.urls["done_pdf"]).replace(w.urls["done_id"], w.urls["stuck_id"]),
        403,
        INVALID,
    ),
    # --- the control API --------------------------------------------------------------------------
    "advance-negative": Hostile(
        "POST",
        "/_mock/clock/advance",
        400,
        'Send {"seconds": N}',
        headers={},
        json={"seconds": -1},
        prefix=True,
    ),
    "advance-huge": Hostile(
        "POST",
        "/_mock/clock/advance",
        400,
        'Send {"seconds": N}',
        headers={},
        json={"seconds": 1e308},
        prefix=True,
    ),
    "journal-limit": Hostile(
        "GET",
        "/_mock/requests?limit=-1",
        400,
        "limit must be a whole number",
        headers={},
        prefix=True,
    ),
    "faults-plan-garbage": Hostile(
        "PUT",
        "/_mock/faults",
        400,
        "Invalid fault plan: ",
        headers={},
        json={"rules": "explode"},
        prefix=True,
    ),
    "scripted-garbage": Hostile(
        "POST",
        "/_mock/reports",
        400,
        "Invalid scripted report",
        headers={},
        json={"surprise": 1},
        prefix=True,
    ),
}


def flip(url: str) -> str:
    original = signature(url)
    return original[:-1] + ("0" if original[-1] != "0" else "1")


def signature(url: str) -> str:
    return parse_qs(urlsplit(url).query)["signature"][0]


@pytest.mark.parametrize("case", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_input_gets_a_clear_error_and_changes_nothing(
    app: Flask, client: FlaskClient, case: Hostile
) -> None:
    world = build_world(client)
    if case.advance:  # part of the setting, not of the hostile request
        client.post("/_mock/clock/advance", json={"seconds": case.advance})
    before = snapshot(client, world)
    path = case.path(world) if callable(case.path) else case.path
    options: dict[str, Any] = {"headers": case.headers}
    if case.data is not None:
        options["data"] = case.data
        options["content_type"] = "application/json"
    elif case.json is not None:
        options["json"] = case.json
    response = client.open(path, method=case.method, **options)

    assert response.status_code == case.status, response.get_data(as_text=True)[:500]
    body = json.loads(response.get_data())
    if case.status == 200:
        assert body["success"] is True
        assert body["data"] is None or body["data"] == {"reports": [], "total": 0}
    else:
        assert set(body) == {"success", "error"} and body["success"] is False
        if case.error is not None:
            assert (
                body["error"].startswith(case.error) if case.prefix else body["error"] == case.error
            )
    assert snapshot(client, world) == before
