"""Every human-readable text the mock sends, as constants that tests import and assert on.

Texts marked *documented* are quoted from the public API reference, as ``docs/api-contract.md``
states it; the others are the mock's own (*inferred*) and say what to do next.
"""

from __future__ import annotations

__all__ = [
    "CANCEL_SUCCEEDED",
    "CANNOT_CANCEL",
    "CASE_ID_NOT_STRING",
    "CASE_ID_QUERY_REQUIRED",
    "CASE_ID_REQUIRED",
    "CONTROL_BAD_SECONDS",
    "DOWNLOAD_EXPIRED",
    "DOWNLOAD_MISSING_IN_RECORDING",
    "DOWNLOAD_NOT_FOUND",
    "DOWNLOAD_SIGNATURE_INVALID",
    "DOWNLOAD_SIGNATURE_MISSING",
    "FAULT_BAD_GATEWAY",
    "FAULT_BAD_LATENCY",
    "FAULT_BAD_POLLS",
    "FAULT_BAD_RATE",
    "FAULT_BAD_REPORT_ID",
    "FAULT_BAD_RETRY_AFTER",
    "FAULT_BAD_ROUTES",
    "FAULT_BAD_SEED",
    "FAULT_FIELD_NOT_FOR_KIND",
    "FAULT_HEADER_INVALID",
    "FAULT_INTERNAL_ERROR",
    "FAULT_NOT_A_RULE",
    "FAULT_PLAN_INVALID",
    "FAULT_POLLS_NOT_ON_POLL",
    "FAULT_RATE_AND_POLLS",
    "FAULT_RULE_INVALID",
    "FAULT_SERVICE_UNAVAILABLE",
    "FAULT_TAKES_NO_ARGUMENT",
    "FAULT_TOO_MANY_REQUESTS",
    "FAULT_TOO_MANY_RULES",
    "FAULT_UNKNOWN_CONDITION",
    "FAULT_UNKNOWN_FIELD",
    "FAULT_UNKNOWN_KIND",
    "HEADER_NOT_ASCII",
    "INVALID_API_KEY",
    "INVALID_REPORT_TYPE",
    "JOURNAL_BAD_FORMAT",
    "JOURNAL_REPORT_NOT_SEEN",
    "MESSAGE_ANALYSIS_COMPLETE",
    "MESSAGE_BIOMECHANICS_FAILED",
    "MESSAGE_BIOMECHANICS_RUNNING",
    "MESSAGE_CANCELLED",
    "MESSAGE_DELTA_V_FAILED",
    "MESSAGE_GENERATION_COMPLETE",
    "MESSAGE_GENERATION_TIMED_OUT",
    "MESSAGE_INTERNAL_ERROR",
    "MESSAGE_STARTING",
    "MISSING_API_KEY",
    "NO_SCENARIO_FILES",
    "OPTIONS_NOT_OBJECT",
    "OPTION_NOT_BOOLEAN",
    "RATE_LIMIT_EXCEEDED",
    "REPORT_NOT_FOUND",
    "REPORT_TYPE_NOT_STRING",
    "REQUEST_BODY_EMPTY",
    "REQUEST_BODY_LONE_SURROGATE",
    "REQUEST_BODY_NOT_JSON",
    "REQUEST_BODY_NOT_OBJECT",
    "REQUEST_BODY_NOT_UTF8",
    "REQUEST_BODY_NUMBER_TOO_LARGE",
    "REQUEST_BODY_TOO_LARGE",
    "UNKNOWN_SCENARIO",
    "UNKNOWN_SCENARIO_FILE",
]

# --- progress messages (documented, in the order the polling guide lists them) ---------------
MESSAGE_STARTING = "Starting analysis..."
MESSAGE_BIOMECHANICS_RUNNING = "Running biomechanics analysis..."
MESSAGE_ANALYSIS_COMPLETE = "Analysis complete. Building report documents..."
MESSAGE_GENERATION_COMPLETE = "Report generation complete"

# --- failure messages (documented in the polling guide's "Common Failure Reasons") ------------
MESSAGE_DELTA_V_FAILED = "Delta-V calculation failed: insufficient image quality"
MESSAGE_BIOMECHANICS_FAILED = "Biomechanics analysis failed"
MESSAGE_GENERATION_TIMED_OUT = "Report generation timed out"
# Inferred: the guide names "internal errors" as retryable but quotes no message.
MESSAGE_INTERNAL_ERROR = "Internal error during report generation. Wait a minute, then retry."
# Inferred: the cancel response's message, reused as the cancelled report's progress message.
MESSAGE_CANCELLED = "Report generation cancelled"

# --- request errors -----------------------------------------------------------------------------
CASE_ID_REQUIRED = "case_id is required"  # documented
CASE_ID_NOT_STRING = "case_id must be a string, got {kind}"
INVALID_REPORT_TYPE = "Invalid report type: {type}. Supported types: technical_report"  # documented
REPORT_TYPE_NOT_STRING = "type must be a string, got {kind}. Supported types: technical_report"
OPTIONS_NOT_OBJECT = "options must be a JSON object, got {kind}"
OPTION_NOT_BOOLEAN = "options.{name} must be true or false, got {kind}"
CASE_ID_QUERY_REQUIRED = "case_id query parameter is required"  # documented
REQUEST_BODY_EMPTY = (
    'Request body is empty: send a JSON object such as {"case_id": "case_abc123", '
    '"type": "technical_report"}'
)
REQUEST_BODY_NOT_JSON = "Request body is not valid JSON: {detail}"
HEADER_NOT_ASCII = (
    "The {name} header has a byte outside ASCII: scenario names and fault rules are ASCII; "
    "see GET /_mock/scenarios and the README's fault rules"
)
REQUEST_BODY_LONE_SURROGATE = (
    "Request body has a lone surrogate ({escape}) in a JSON string: a \\ud800-\\udfff escape "
    "must be one half of a pair; send the character itself in UTF-8 instead"
)
REQUEST_BODY_NUMBER_TOO_LARGE = (
    "Request body has a number too large for this API ({text}): use a number below 1e308"
)
REQUEST_BODY_NOT_UTF8 = "Request body must be UTF-8 encoded JSON"
REQUEST_BODY_NOT_OBJECT = "Request body must be a JSON object, got {kind}"
REQUEST_BODY_TOO_LARGE = "Request body is larger than the limit of {limit} bytes"
UNKNOWN_SCENARIO = "Unknown scenario {name!r} in X-Mock-Scenario. Known scenarios: {known}"
UNKNOWN_SCENARIO_FILE = (
    "Unknown scenario file {name!r} in X-Mock-Scenario: file:{name}. Loaded scenario files: {known}"
)
NO_SCENARIO_FILES = "none (start the mock with --scenario-file PATH)"

# --- authentication (documented wording: "Unauthorized: Invalid or missing API key") -------
MISSING_API_KEY = "Unauthorized: Invalid or missing API key. Send your key in the X-API-Key header"
INVALID_API_KEY = "Unauthorized: Invalid or missing API key. API keys start with 'sk-'"

# --- reports ------------------------------------------------------------------------------------
REPORT_NOT_FOUND = "Report not found"  # documented (DELETE of an unknown id)
CANNOT_CANCEL = "Cannot cancel a {status} report"  # documented for status=completed
CANCEL_SUCCEEDED = MESSAGE_CANCELLED  # documented: the cancel response's message

# --- signed downloads ---------------------------------------------------------------------------
DOWNLOAD_SIGNATURE_MISSING = (
    "Download URL is not signed: both 'expires' and 'signature' query parameters are required. "
    "Use the pdf_url/docx_url from GET /api/reports/:id"
)
DOWNLOAD_SIGNATURE_INVALID = (
    "Download URL signature is invalid: the URL was altered or signed for another file. "
    "Use the pdf_url/docx_url from GET /api/reports/:id"
)
DOWNLOAD_EXPIRED = (
    "Download URL expired at {expired_at}. Signed URLs are valid for one hour: call "
    "GET /api/reports/:id again for fresh ones"
)
DOWNLOAD_NOT_FOUND = "No document {filename}: the report does not exist or has no documents"
DOWNLOAD_MISSING_IN_RECORDING = (
    "No document {filename}: its download answered 404 in the recorded run this report "
    "replays (scenario file {name})"
)

# --- control API --------------------------------------------------------------------------------
JOURNAL_BAD_FORMAT = (
    "format={format!r} is unknown: leave it out for the journal, or use format=scenario for "
    "scenario files"
)
JOURNAL_REPORT_NOT_SEEN = (
    "The journal has no request about report {report_id!r} that is still stored: list the "
    "reports it saw with GET /_mock/requests?format=scenario"
)
CONTROL_BAD_SECONDS = 'Send {{"seconds": N}} with N a number of seconds from 0 to {maximum}'

# --- rate limit (documented: 100 requests per minute per key, then 429; wording inferred) ------
RATE_LIMIT_EXCEEDED = (
    "Rate limit exceeded: {limit} requests per minute per API key. "
    "Retry after {seconds} seconds (see the Retry-After and X-RateLimit-Reset headers)"
)

# --- injected faults (mock-only: they say so, so a log line is never mistaken for a real bug) --
FAULT_INTERNAL_ERROR = "Internal server error (a fault injected by the mock): retry later"
FAULT_BAD_GATEWAY = "Bad gateway (a fault injected by the mock): retry later"
FAULT_SERVICE_UNAVAILABLE = "Service unavailable (a fault injected by the mock): retry later"
FAULT_TOO_MANY_REQUESTS = (
    "Too many requests (a fault injected by the mock): retry after {seconds} seconds"
)
FAULT_RULE_INVALID = "Invalid fault rule {rule}: {problem}"
FAULT_HEADER_INVALID = (
    "Invalid X-Mock-Faults header: {problem}. Example: X-Mock-Faults: 503@polls=3,4; "
    "latency=100-900@rate=0.5"
)
FAULT_PLAN_INVALID = (
    'Invalid fault plan: {problem}. Send {{"rules": [...], "seed": N}} (seed optional), each '
    'rule a spec such as "503@polls=3,4" or an object such as {{"fault": "503", "polls": [3, 4]}}'
)
# What is wrong with one rule (the {problem} above).
FAULT_UNKNOWN_KIND = "unknown fault {kind!r}. Faults: {known}"
FAULT_UNKNOWN_CONDITION = "unknown condition {name!r}. Conditions: rate, polls, on, report"
FAULT_UNKNOWN_FIELD = "unknown field {name!r}. Fields: {known}"
FAULT_BAD_RATE = "rate must be a number from 0 to 1 or a percentage such as 25%, got {value!r}"
FAULT_BAD_POLLS = "polls must be poll numbers from 1 to {maximum}, such as polls=3,4, got {value!r}"
FAULT_RATE_AND_POLLS = "give rate or polls, not both"
FAULT_BAD_ROUTES = "on must name routes among {known}, got {value!r}"
FAULT_POLLS_NOT_ON_POLL = (
    "polls counts the GETs of a report, so on must be poll or left out, got {value!r}"
)
FAULT_BAD_LATENCY = (
    "latency takes milliseconds from 0 to {maximum}, fixed (latency=250) or a range "
    "(latency=100-900), got {value!r}"
)
FAULT_BAD_RETRY_AFTER = (
    "{kind} takes Retry-After in whole seconds from 0 to {maximum}, got {value!r}"
)
FAULT_FIELD_NOT_FOR_KIND = (
    "{field} does not apply to {kind}: ms is for latency, retry_after for 429 and 503"
)
FAULT_TAKES_NO_ARGUMENT = "{kind} takes no argument, got {value!r}"
FAULT_BAD_REPORT_ID = "report must be a report id such as rpt_0123456789abcdef, got {value!r}"
FAULT_TOO_MANY_RULES = "at most {maximum} rules, got {count}"
FAULT_NOT_A_RULE = (
    "a rule is a spec string such as '503@polls=3,4' or an object with a \"fault\" field, "
    "got {kind}"
)
FAULT_BAD_SEED = "seed must be a whole number from 0 to 2**63 - 1, got {value}"
