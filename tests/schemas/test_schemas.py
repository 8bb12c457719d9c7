"""The JSON Schemas of the wire contract and the loader that serves them."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import schemas

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# --- the reference's own examples, verbatim (docs/reference-examples/, see docs/api-contract.md)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "reference-examples"


def _reference_example(name: str) -> dict[str, Any]:
    example: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return example


SEED_PROCESSING = _reference_example("get-report-processing")
SEED_COMPLETED = _reference_example("get-report-completed")
SEED_NOT_FOUND = _reference_example("get-report-not-found")

#: The create answer as docs/api-contract.md describes it (pending, "Starting analysis...").
PENDING_CREATE: dict[str, Any] = {
    "success": True,
    "data": {
        "id": "rpt_xyz789",
        "case_id": "case_abc123",
        "type": "technical_report",
        "status": "pending",
        "progress": {"message": "Starting analysis..."},
        "output": None,
        "created_at": "2024-01-15T10:30:00Z",
        "updated_at": "2024-01-15T10:30:00Z",
    },
}


def completed_report(**changes: Any) -> dict[str, Any]:
    """The seed's completed report object (``data``), with some fields changed."""
    report: dict[str, Any] = copy.deepcopy(SEED_COMPLETED["data"])
    report.update(changes)
    return report


def processing_report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = copy.deepcopy(SEED_PROCESSING["data"])
    report.update(changes)
    return report


def section(type_: str, **changes: Any) -> dict[str, Any]:
    return {"id": f"sec_{type_}", "type": type_, "title": "T", "markdown": "...", **changes}


CHART: dict[str, Any] = copy.deepcopy(
    SEED_COMPLETED["data"]["output"]["report"]["sections"][3]["data"]["charts"][0]
)
SCRIPT: dict[str, Any] = {
    "api_key": "sk-test",
    "case_id": "case_abc123",
    "timeline": [
        {"after_seconds": 0, "status": "pending", "progress": {"message": "Starting analysis..."}},
        {"after_seconds": 5, "status": "processing", "progress": None},
        {"after_seconds": 9.5, "status": "failed", "progress": {"message": "x"}},
    ],
}


def all_refs(node: object, where: str = "") -> Iterator[tuple[str, str]]:
    """Every ``$ref`` string in a document, with its JSON pointer."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from all_refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from all_refs(value, f"{where}/{index}")


def paths_of(problems: list[str]) -> list[str]:
    return [problem.partition(": ")[0] for problem in problems]


# --- the schema files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", schemas.schema_names())
def test_every_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    Draft202012Validator.check_schema(schemas.schema(name))


@pytest.mark.parametrize("name", schemas.schema_names())
def test_every_schema_declares_the_dialect_and_its_id(name: str) -> None:
    document = schemas.schema(name)
    assert document["$schema"] == DIALECT
    assert document["$id"] == f"{schemas.SCHEMA_BASE_URI}{name}.json"


@pytest.mark.parametrize("name", [*schemas.schema_names(), "openapi"])
def test_every_ref_resolves_through_the_registry(name: str) -> None:
    document = schemas.openapi() if name == "openapi" else schemas.schema(name)
    resolver = schemas.registry().resolver(base_uri=f"{schemas.SCHEMA_BASE_URI}{name}.json")
    for where, ref in all_refs(document):
        assert resolver.lookup(ref).contents is not None, f"{name}.json{where}: {ref}"


def test_schema_names_are_the_files_without_openapi_sorted() -> None:
    names = schemas.schema_names()
    assert names == sorted(names)
    assert "openapi" not in names
    assert {"report", "report-response", "section", "scripted-report-request"} <= set(names)


# --- the reference's examples and what clients must tolerate ----------------------------------


@pytest.mark.parametrize(
    "body",
    [SEED_PROCESSING, SEED_COMPLETED, SEED_NOT_FOUND],
    ids=["processing", "completed-monolithic-biomechanics", "not-found"],
)
def test_seed_examples_validate_as_report_responses(body: dict[str, Any]) -> None:
    assert schemas.errors(body, "report-response") == []


def test_seed_pending_create_answer_validates() -> None:
    assert schemas.errors(PENDING_CREATE, "created-report-response") == []


def test_created_report_response_requires_a_report() -> None:
    assert paths_of(schemas.errors(SEED_NOT_FOUND, "created-report-response")) == ["$.data"]


@pytest.mark.parametrize(
    "report",
    [
        completed_report(
            output={"pdf_url": "https://a/x.pdf", "docx_url": "https://a/x.docx", "report": None}
        ),
        completed_report(output={"pdf_url": "http://a/x.pdf", "docx_url": "http://a/x.docx"}),
        processing_report(progress=None),
        processing_report(progress={}),
        {k: v for k, v in processing_report().items() if k not in {"progress", "output"}},
        processing_report(eta_seconds=30, priority={"level": "high"}),
        processing_report(progress={"current_step": None, "steps_completed": [], "extra": 1}),
        processing_report(progress={"current_step": "ocr_upload"}),
        processing_report(status="failed", progress={"message": "Report generation timed out"}),
        processing_report(created_at="2024-01-15T10:30:00.123Z"),
    ],
    ids=[
        "completed-report-null",
        "completed-report-absent",
        "progress-null",
        "progress-empty",
        "progress-and-output-absent",
        "unknown-fields",
        "progress-unknown-field",
        "unknown-step",
        "failed",
        "fractional-seconds",
    ],
)
def test_reports_clients_must_tolerate_validate(report: dict[str, Any]) -> None:
    assert schemas.errors({"success": True, "data": report}, "report-response") == []


SPLIT_TYPES = [
    "ar_intro", "ar_similar_cases", "ar_acceleration", "ar_liability", "references",
    "biomechanics_alleged_injuries_and_health", "biomechanics_injury_mechanisms_intro",
    "biomechanics_injury_mechanism_cervical_spine", "biomechanics_injury_mechanism_tbi",
    "biomechanics_injury_mechanism_foot_ankle", "biomechanics_occupant_motion",
    "biomechanics_occupant_motion_analysis", "biomechanics_forces_intro",
    "biomechanics_forces_tbi", "biomechanics_forces_lumbar_spine",
    "biomechanics_forces_foot_ankle", "biomechanics_loading_considerations",
]  # fmt: skip


@pytest.mark.parametrize("type_", SPLIT_TYPES)
def test_documented_section_types_validate(type_: str) -> None:
    assert schemas.errors(section(type_), "section") == []


def test_section_data_with_open_table_rows_validates() -> None:
    data = {"motion_tables": [{"rows": [[1, "a"]]}, "free"], "forces_tables": [{"x": None}]}
    assert schemas.errors(section("biomechanics_forces_knee", data=data), "section") == []


@pytest.mark.parametrize(
    ("instance", "name"),
    [
        ({"success": False, "error": "Report not found"}, "error-envelope"),
        (
            {"success": False, "error": "Unauthorized", "error_code": "AUTH", "request_id": "r"},
            "error-envelope",
        ),
        ({"case_id": "c", "type": "technical_report"}, "create-request"),
        (
            {"case_id": "c", "type": "technical_report", "x": 1,
             "options": {"use_demo_data": True, "include_biomechanics": False}},
            "create-request",
        ),
        (
            {"success": True, "data": {"reports": [
                {"id": "rpt_1", "case_id": "c", "type": "technical_report",
                 "status": "pending", "created_at": "2024-01-15T10:30:00Z"}], "total": 1}},
            "report-list-response",
        ),
        ({"success": True, "data": {"reports": [], "total": 0}}, "report-list-response"),
        (
            {"success": True, "data": {"id": "rpt_1", "status": "cancelled",
                                       "message": "Report generation cancelled"}},
            "cancel-response",
        ),
        ({"success": True, "data": {"status": "ok", "store": "memory"}}, "health"),
        (
            {"success": True, "data": {"now": "2026-01-15T10:30:00Z", "epoch_seconds": 1.5,
                                       "time_scale": 0, "advanced_seconds": 0}},
            "clock",
        ),
        ({"seconds": 31536000}, "clock-advance-request"),
        ({"success": True, "data": {"reports_removed": 0}}, "reset-result"),
        (
            {"success": True, "data": {"total": 1, "requests": [
                {"method": "GET", "path": "/api/reports/rpt_1", "query": "", "status": 200,
                 "at": "2026-01-15T10:30:00Z", "epoch_seconds": 1.0, "report_id": None,
                 "scenario": None, "extra": True}]}},
            "journal",
        ),
        (
            {"success": True, "data": {"default": "happy", "scenarios": [
                {"name": "stuck", "description": "never ends", "outcome": "never"}]}},
            "scenario-list",
        ),
        (SCRIPT, "scripted-report-request"),
        (
            {**SCRIPT, "type": "demand_letter", "report": None, "extra_fields": {"a": 1}},
            "scripted-report-request",
        ),
        (
            {**SCRIPT, "report": SEED_COMPLETED["data"]["output"]["report"]},
            "scripted-report-request",
        ),
    ],
    ids=[
        "error", "error-extra-fields", "create", "create-options", "list", "list-empty",
        "cancel", "health", "clock", "clock-advance-max", "reset", "journal", "scenarios",
        "script", "script-all-fields", "script-with-report",
    ],
)  # fmt: skip
def test_valid_instances_validate(instance: object, name: str) -> None:
    assert schemas.errors(instance, name) == []


# --- what the contract rejects -----------------------------------------------------------------

OUTPUT = {"pdf_url": "https://a/x.pdf", "docx_url": "https://a/x.docx"}


def report_body(report: object) -> dict[str, Any]:
    return {"success": True, "data": report}


def with_section(section_object: dict[str, Any]) -> dict[str, Any]:
    output = {**OUTPUT, "report": {"schema_version": "1.0", "sections": [section_object]}}
    return report_body(completed_report(output=output))


INVALID: list[tuple[str, str, object, str]] = [
    ("bad-status", "report-response", report_body(processing_report(status="done")),
     "$.data.status"),
    ("completed-output-null", "report-response", report_body(completed_report(output=None)),
     "$.data.output"),
    ("completed-output-absent", "report-response",
     report_body({k: v for k, v in completed_report().items() if k != "output"}), "$.data"),
    ("processing-with-output", "report-response", report_body(processing_report(output=OUTPUT)),
     "$.data.output"),
    ("missing-id", "report-response",
     report_body({k: v for k, v in processing_report().items() if k != "id"}), "$.data"),
    ("timestamp-without-z", "report-response",
     report_body(processing_report(created_at="2024-01-15T10:30:00")), "$.data.created_at"),
    ("timestamp-with-offset", "report-response",
     report_body(processing_report(updated_at="2024-01-15T10:30:00+00:00")), "$.data.updated_at"),
    ("timestamp-unicode-digits", "report-response",
     report_body(processing_report(created_at="２024-01-15T10:30:00Z")), "$.data.created_at"),
    ("progress-a-string", "report-response", report_body(processing_report(progress="50%")),
     "$.data.progress"),
    ("steps-not-strings", "report-response",
     report_body(processing_report(progress={"steps_completed": [1]})),
     "$.data.progress.steps_completed[0]"),
    ("success-false-on-success", "report-response", {"success": False, "data": None},
     "$.success"),
    ("pdf-url-not-http", "report-response",
     report_body(completed_report(output={**OUTPUT, "pdf_url": "ftp://a/x.pdf"})),
     "$.data.output.pdf_url"),
    ("docx-url-missing", "report-response",
     report_body(completed_report(output={"pdf_url": "https://a/x.pdf"})), "$.data.output"),
    ("schema-version-missing", "report-response",
     report_body(completed_report(output={**OUTPUT, "report": {"sections": []}})),
     "$.data.output.report"),
    ("section-unknown-type", "report-response", with_section(section("appendix")),
     "$.data.output.report.sections[0].type"),
    ("section-unknown-region", "report-response",
     with_section(section("biomechanics_forces_elbow")), "$.data.output.report.sections[0].type"),
    ("forces-tbi-by-pattern-only", "section", section("biomechanics_forces_tbi_extra"), "$.type"),
    ("section-without-markdown", "section",
     {k: v for k, v in section("header").items() if k != "markdown"}, "$"),
    ("section-data-not-object", "section", section("header", data=[1]), "$.data"),
    ("chart-without-labels", "chart", {k: v for k, v in CHART.items() if k != "labels"}, "$"),
    ("dataset-data-with-a-string", "chart",
     {**CHART, "datasets": [{"label": "Force", "data": [1, "2"]}]}, "$.datasets[0].data[1]"),
    ("dataset-data-with-a-boolean", "chart",
     {**CHART, "datasets": [{"label": "Force", "data": [True]}]}, "$.datasets[0].data[0]"),
    ("dataset-without-label", "chart", {**CHART, "datasets": [{"data": [1]}]}, "$.datasets[0]"),
    ("motion-tables-not-array", "biomechanics-data", {"motion_tables": {}}, "$.motion_tables"),
    ("error-envelope-success-true", "error-envelope", {"success": True, "error": "x"},
     "$.success"),
    ("error-envelope-empty-message", "error-envelope", {"success": False, "error": ""},
     "$.error"),
    ("create-missing-case-id", "create-request", {"type": "technical_report"}, "$"),
    ("create-empty-case-id", "create-request", {"case_id": "", "type": "technical_report"},
     "$.case_id"),
    ("create-unknown-type", "create-request", {"case_id": "c", "type": "demand_letter"},
     "$.type"),
    ("create-option-not-boolean", "create-request",
     {"case_id": "c", "type": "technical_report", "options": {"use_demo_data": "yes"}},
     "$.options.use_demo_data"),
    ("list-negative-total", "report-list", {"reports": [], "total": -1}, "$.total"),
    ("summary-bad-status", "report-summary",
     {"id": "r", "case_id": "c", "type": "t", "status": "queued",
      "created_at": "2024-01-15T10:30:00Z"}, "$.status"),
    ("cancel-status-not-cancelled", "cancel-result",
     {"id": "r", "status": "completed", "message": "m"}, "$.status"),
    ("clock-advance-negative", "clock-advance-request", {"seconds": -1}, "$.seconds"),
    ("clock-advance-too-far", "clock-advance-request", {"seconds": 31536001}, "$.seconds"),
    ("clock-advance-extra", "clock-advance-request", {"seconds": 1, "minutes": 1}, "$"),
    ("clock-negative-scale", "clock",
     {"success": True, "data": {"now": "2026-01-15T10:30:00Z", "epoch_seconds": 1,
                                "time_scale": -1, "advanced_seconds": 0}}, "$.data.time_scale"),
    ("health-not-ok", "health", {"success": True, "data": {"status": "down"}}, "$.data.status"),
    ("reset-negative", "reset-result", {"success": True, "data": {"reports_removed": -1}},
     "$.data.reports_removed"),
    ("journal-report-id-number", "journal",
     {"success": True, "data": {"total": 1, "requests": [
         {"method": "GET", "path": "/", "query": "", "status": 200, "at": "2026-01-15T10:30:00Z",
          "epoch_seconds": 1.0, "report_id": 7, "scenario": None}]}},
     "$.data.requests[0].report_id"),
    ("scenario-unknown-outcome", "scenario-list",
     {"success": True, "data": {"default": "happy", "scenarios": [
         {"name": "n", "description": "d", "outcome": "maybe"}]}},
     "$.data.scenarios[0].outcome"),
    ("script-extra-field", "scripted-report-request", {**SCRIPT, "surprise": 1}, "$"),
    ("script-key-without-sk", "scripted-report-request", {**SCRIPT, "api_key": "pk-1"},
     "$.api_key"),
    ("script-empty-timeline", "scripted-report-request", {**SCRIPT, "timeline": []},
     "$.timeline"),
    ("script-timeline-too-long", "scripted-report-request",
     {**SCRIPT, "timeline": [SCRIPT["timeline"][0]] * 201}, "$.timeline"),
    ("script-bad-status", "scripted-report-request",
     {**SCRIPT, "timeline": [{"after_seconds": 0, "status": "done"}]},
     "$.timeline[0].status"),
    ("script-negative-offset", "scripted-report-request",
     {**SCRIPT, "timeline": [{"after_seconds": -1, "status": "pending"}]},
     "$.timeline[0].after_seconds"),
    ("script-timeline-typo", "scripted-report-request",
     {**SCRIPT, "timeline": [{"after_seconds": 0, "status": "pending", "progres": {}}]},
     "$.timeline[0]"),
    ("script-bad-report", "scripted-report-request",
     {**SCRIPT, "report": {"schema_version": "1.0", "sections": [section("nope")]}},
     "$.report.sections[0].type"),
    ("script-extra-fields-not-object", "scripted-report-request",
     {**SCRIPT, "extra_fields": []}, "$.extra_fields"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "instance", "path"),
    [(name, instance, path) for _, name, instance, path in INVALID],
    ids=[case for case, *_ in INVALID],
)
def test_invalid_instances_are_rejected_at_the_faulty_path(
    name: str, instance: object, path: str
) -> None:
    assert path in paths_of(schemas.errors(instance, name))


def test_errors_reports_every_problem_not_only_the_first() -> None:
    report = processing_report(status="done", created_at="yesterday", progress={"message": 1})
    del report["case_id"]
    problems = schemas.errors(report_body(report), "report-response")
    assert paths_of(problems) == [
        "$.data",
        "$.data.created_at",
        "$.data.progress.message",
        "$.data.status",
    ]
    assert "'case_id' is a required property" in problems[0]


def test_errors_are_sorted_by_path_with_indexes_in_numeric_order() -> None:
    sections = [section("header") for _ in range(11)]
    sections[2]["type"] = sections[10]["type"] = "nope"
    report = {"schema_version": "1.0", "sections": sections}
    assert paths_of(schemas.errors(report, "structured-report")) == [
        "$.sections[2].type",
        "$.sections[10].type",
    ]


def test_long_messages_are_shortened_but_keep_the_reason() -> None:
    huge_output = {**OUTPUT, "padding": "x" * 5000}
    [problem] = schemas.errors(
        report_body(processing_report(output=huge_output)), "report-response"
    )
    assert len(problem) < 400
    assert problem.endswith("is not of type 'null'")


def test_validate_raises_a_contract_violation_listing_every_error() -> None:
    body = report_body(processing_report(status="done", updated_at="now"))
    with pytest.raises(schemas.ContractViolation) as raised:
        schemas.validate(body, "report-response")
    violation = raised.value
    assert violation.schema_name == "report-response"
    assert paths_of(violation.errors) == ["$.data.status", "$.data.updated_at"]
    assert all(error in str(violation) for error in violation.errors)
    assert str(violation).startswith("2 errors against report-response")
    assert isinstance(violation, schemas.SchemaError)


def test_contract_violations_survive_pickling() -> None:
    violation = schemas.ContractViolation("report", ["$: 'id' is a required property"])
    copied = pickle.loads(pickle.dumps(violation))
    assert (copied.schema_name, copied.errors, str(copied)) == (
        violation.schema_name,
        violation.errors,
        str(violation),
    )


def test_validate_returns_none_for_a_valid_instance() -> None:
    schemas.validate(SEED_COMPLETED, "report-response")


@pytest.mark.parametrize("name", ["reports", "report.json", "openapi"])
def test_unknown_schema_names_list_the_known_ones(name: str) -> None:
    with pytest.raises(schemas.SchemaError, match="Known schemas: biomechanics-data, "):
        schemas.schema(name)


def test_schema_returns_a_copy_the_caller_may_change() -> None:
    schemas.schema("report")["required"].clear()
    assert "id" in schemas.schema("report")["required"]
    assert schemas.errors({}, "report") != []


def test_validators_are_built_once_and_check_formats() -> None:
    assert schemas.validator("report") is schemas.validator("report")
    assert schemas.validator("report").format_checker is not None


def test_the_registry_holds_every_schema_and_the_openapi_document() -> None:
    resolver = schemas.registry().resolver()
    for name in [*schemas.schema_names(), "openapi"]:
        resolver.lookup(f"{schemas.SCHEMA_BASE_URI}{name}.json")
