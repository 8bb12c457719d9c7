"""Provider verification: is a live deployment still what the mock says?

:func:`verify_provider` runs the documented workflow once against a deployment and holds every
response and every transition it sees to ``schemas/`` and to the lifecycle of
docs/api-contract.md:

1. a wrong key answers 401 in the error envelope; ``GET /api/reports`` without ``case_id``
   answers 400; an unknown report id answers 200 with ``data: null``;
2. ``POST /api/reports`` (by default with ``options.use_demo_data: true``: it costs nothing)
   answers a pending report, "Starting analysis...", ``output: null``, ``created_at ==
   updated_at``;
3. polls every ``poll_interval`` seconds (documented: 5) until a terminal status: statuses
   only go forward, progress messages and steps come in the documented order, timestamps
   never go back, and the report ends within its documented window (2 minutes with demo
   data, 5 without biomechanics, 10 with it), measured on the server's own timestamps;
4. the completed report's signed URLs download a PDF (``%PDF-``) and a DOCX (a zip with
   ``word/document.xml``) and expire after about an hour; a second GET mints fresh ones;
5. the case's list shows the report, newest first.

It writes nothing but the one report. The key is sent only to the API, never to a download
host, and never appears in the :class:`~contract_tests.drift.DriftReport`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import schemas
from contract_tests import documented
from contract_tests.drift import DriftReport
from contract_tests.errors import UsageError
from contract_tests.verify_downloads import DownloadChecks
from contract_tests.verify_http import Answer, ProviderHttp
from contract_tests.verify_lifecycle import (
    TERMINAL_STATUSES,
    LifecycleWatcher,
    epoch,
    message_of,
    record,
)

__all__ = [
    "DEFAULT_CASE_ID",
    "DOCUMENTED_POLL_SECONDS",
    "UNKNOWN_REPORT_ID",
    "documented_window",
    "verify_provider",
]

DEFAULT_CASE_ID = "case_contract_verify"
#: An id no deployment hands out (documented ids look like rpt_xyz789).
UNKNOWN_REPORT_ID = "rpt_contract_verify_no_such_report"
#: A key the service cannot accept: it does not start with the documented ``sk-``.
WRONG_KEY = "wrong-key-from-contract-verify"
#: Documented: "Poll every 5 seconds".
DOCUMENTED_POLL_SECONDS = 5.0
#: Real seconds past the documented window before verification gives up waiting.
DEADLINE_MARGIN_SECONDS = 30.0

_UNAUTHORIZED = "Unauthorized: Invalid or missing API key"
_LIST_NEEDS_CASE_ID = "case_id query parameter is required"
_REPORT = "/api/reports/{report_id}"
#: Documented answers of a busy or failing service (rate limit, server errors).
_TRANSIENT = frozenset({429, 500, 502, 503, 504})


def documented_window(*, demo: bool, biomechanics: bool) -> float:
    """Seconds a report may take (documented client timeouts): 2, 5 or 10 minutes."""
    if demo:
        return 120.0
    return 600.0 if biomechanics else 300.0


def verify_provider(
    base_url: str,
    api_key: str,
    *,
    case_id: str = DEFAULT_CASE_ID,
    use_demo_data: bool = True,
    timeout: float | None = None,
    poll_interval: float = DOCUMENTED_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> DriftReport:
    """Verify the deployment at ``base_url``; the drift report (empty when none).

    ``timeout`` is how many real seconds to wait for a terminal status (default: the
    documented window plus 30 s). Raises :class:`UsageError` for bad arguments and
    :class:`~contract_tests.verify_http.ProviderUnreachable` when the host does not answer.
    """
    if not api_key:
        raise UsageError("--api-key is empty; pass the deployment's key (it is never printed)")
    if not case_id:
        raise UsageError("--case-id is empty; pass a case id of the deployment")
    if timeout is not None and not timeout > 0:
        raise UsageError(f"--timeout {timeout}: pass a number of seconds above 0")
    if not poll_interval > 0:
        raise UsageError(
            f"--poll-every {poll_interval}: pass a number of seconds above 0 (5 is documented)"
        )
    http = ProviderHttp(base_url, api_key)
    report = DriftReport(http.base_url, http.masked_key)
    try:
        run = _Verification(http, report, case_id, use_demo_data, poll_interval, sleep)
        run.run(timeout)
    finally:
        http.close()
        report.scrub(http.scrub)  # the key, wherever a server may have echoed it
    return report


def _object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else ``{}`` (a drift the schema check reports)."""
    return value if isinstance(value, dict) else {}


class _Verification:
    """One run of the workflow, recording drifts into ``report``."""

    def __init__(
        self,
        http: ProviderHttp,
        report: DriftReport,
        case_id: str,
        demo: bool,
        poll_interval: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.http = http
        self.report = report
        self.case_id = case_id
        self.demo = demo
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.watcher = LifecycleWatcher(report)
        self.downloads = DownloadChecks(http, report)

    # -- helpers ------------------------------------------------------------------------

    def drift(self, check: str, answer: Answer | None, what: str, where: str = "") -> None:
        record(self.report, check, answer, what, where)

    def schema(self, answer: Answer, method: str, template: str) -> bool:
        """Check the answer's envelope and body against the OpenAPI schema; whether it holds."""
        self.report.ran("schema")
        if not answer.is_json:
            self.drift("envelope", answer, "the body is not JSON; documented: a JSON envelope")
            return False
        problems = schemas.response_errors(method, template, answer.status, answer.body)
        for problem in problems:
            self.drift("schema", answer, problem)
        self.report.ran("envelope")
        success = answer.body.get("success") if isinstance(answer.body, dict) else None
        if success is not (answer.status < 400):
            self.drift(
                "envelope",
                answer,
                f"success is {success!r} on HTTP {answer.status}; documented: true on a "
                "success, false (with error) on an error",
            )
        return not problems

    # -- the workflow ---------------------------------------------------------------------

    def run(self, timeout: float | None) -> None:
        self.check_unauthorized()
        self.check_list_needs_case_id()
        self.check_unknown_id()
        created = self.create()
        if created is None:
            return
        self.report.report_id = created["id"]
        final = self.poll(created, timeout)
        if final is not None:
            window = documented_window(demo=self.demo, biomechanics=self.watcher.saw_biomechanics)
            self.check_timing(created, final, window)
            if final["status"] == "completed":
                self.check_completed(final)
            else:
                self.drift(
                    "completes",
                    None,
                    f"the {'demo ' if self.demo else ''}report ended {final['status']} "
                    f"({message_of(final)!r}); the documented workflow completes",
                    where=f"GET /api/reports/{created['id']}",
                )
        self.check_list(created["id"])

    def check_unauthorized(self) -> None:
        """A wrong key and no key: 401, worded as documented (a hint may follow)."""
        for label, key in (("a wrong key", WRONG_KEY), ("no key", "")):
            answer = self.http.api(
                "GET", "/api/reports", params={"case_id": self.case_id}, api_key=key
            )
            self.report.ran("unauthorized")
            if answer.status != 401:
                self.drift(
                    "unauthorized",
                    answer,
                    f"{label} answered HTTP {answer.status}; documented: 401",
                )
                continue
            self.schema(answer, "GET", "/api/reports")
            error = answer.body.get("error") if isinstance(answer.body, dict) else None
            if not str(error).startswith(_UNAUTHORIZED):
                self.drift(
                    "unauthorized",
                    answer,
                    f"the 401 says {error!r}; documented: it starts {_UNAUTHORIZED!r}",
                )

    def check_list_needs_case_id(self) -> None:
        answer = self.http.api("GET", "/api/reports")
        self.report.ran("list_requires_case_id")
        if answer.status != 400:
            self.drift("list_requires_case_id", answer, f"HTTP {answer.status}; documented: 400")
            return
        self.schema(answer, "GET", "/api/reports")
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        if error != _LIST_NEEDS_CASE_ID:
            self.drift(
                "list_requires_case_id",
                answer,
                f"the 400 says {error!r}; documented: {_LIST_NEEDS_CASE_ID!r}",
            )

    def check_unknown_id(self) -> None:
        answer = self.http.api("GET", f"/api/reports/{UNKNOWN_REPORT_ID}")
        self.report.ran("unknown_id")
        if (
            answer.status != 200
            or not isinstance(answer.body, dict)
            or answer.body.get("data", 0) is not None
        ):
            self.drift(
                "unknown_id",
                answer,
                'an unknown id must answer HTTP 200 {"success": true, "data": null} (not a 404)',
            )
            return
        self.schema(answer, "GET", _REPORT)

    def create(self) -> dict[str, Any] | None:
        body: dict[str, Any] = {"case_id": self.case_id, "type": "technical_report"}
        if self.demo:
            body["options"] = {"use_demo_data": True}
        answer = self.http.api("POST", "/api/reports", json_body=body)
        self.report.ran("create")
        if answer.status not in (200, 201) or not self.schema(answer, "POST", "/api/reports"):
            if answer.status not in (200, 201):
                self.drift(
                    "create",
                    answer,
                    f"creating a report answered HTTP {answer.status}; documented: 200 or 201",
                )
            return None
        data = answer.body["data"]
        expected = {
            "status": "pending",
            "case_id": self.case_id,
            "type": "technical_report",
            "output": None,
            "updated_at": data.get("created_at"),
        }
        for name, value in expected.items():
            if data.get(name, "(absent)") != value:
                self.drift(
                    "create",
                    answer,
                    f"data.{name} is {data.get(name, '(absent)')!r}; documented: {value!r}",
                )
        if message_of(data) != documented.MESSAGE_STARTING:
            self.drift(
                "create",
                answer,
                f"progress.message is {message_of(data)!r}; documented: {documented.MESSAGE_STARTING!r}",
            )
        self.watcher.observe(data, answer)
        return dict(data)

    def poll(self, created: dict[str, Any], timeout: float | None) -> dict[str, Any] | None:
        window = documented_window(demo=self.demo, biomechanics=True)
        limit = timeout if timeout is not None else window + DEADLINE_MARGIN_SECONDS
        deadline = time.monotonic() + limit
        number = 0
        while time.monotonic() < deadline:
            self.sleep(self.poll_interval)
            number += 1
            answer = self.http.api("GET", f"/api/reports/{created['id']}")
            found = self.report_of(answer, created["id"], f"poll {number}")
            if found is None:
                continue
            data, answer = found
            self.watcher.observe(data, answer)
            if data.get("status") in TERMINAL_STATUSES:
                return data
        self.drift(
            "timing",
            None,
            f"no terminal status after {limit:g} s of polling (last seen: "
            f"{(self.watcher.last or created).get('status')!r}); documented: within {window:g} s",
            where=f"GET /api/reports/{created['id']}",
        )
        return None

    def report_of(
        self, answer: Answer, report_id: str, label: str
    ) -> tuple[dict[str, Any], Answer] | None:
        """The report in a poll's answer, and the answer labelled with the poll; ``None``
        when it holds no such report. A schema drift is recorded but does not stop the run,
        so the rest of the lifecycle is still checked."""
        answer = Answer(
            f"{answer.where} ({label})",
            answer.status,
            answer.content,
            answer.body,
            answer.is_json,
            answer.text,
        )
        if answer.status in _TRANSIENT:
            # Documented statuses of a busy or failing service, not drift: the next poll
            # retries. Their body is still held to the error envelope.
            self.schema(answer, "GET", _REPORT)
            self.report.notes.append(f"{answer.where} answered HTTP {answer.status}; polled on")
            return None
        if answer.status != 200:
            self.drift("poll", answer, f"a poll answered HTTP {answer.status}; documented: 200")
            return None
        self.schema(answer, "GET", _REPORT)
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(data, dict) or data.get("id") != report_id:
            self.drift("poll", answer, f"the poll of {report_id} did not answer that report")
            return None
        return data, answer

    def check_timing(self, created: dict[str, Any], final: dict[str, Any], window: float) -> None:
        self.report.ran("timing")
        start, end = epoch(created.get("created_at")), epoch(final.get("updated_at"))
        if start is None or end is None:
            return
        if end - start > window:
            self.drift(
                "timing",
                None,
                f"the report took {end - start:g} s (created_at {created.get('created_at')} to updated_at {final.get('updated_at')}); documented: within {window:g} s",
                where=f"GET /api/reports/{final.get('id')}",
            )
        self.report.final_status = str(final.get("status"))

    def check_completed(self, final: dict[str, Any]) -> None:
        output = _object(final.get("output"))
        self.report.final_status = "completed"
        first = (output.get("pdf_url"), output.get("docx_url"))
        for kind, url in zip(("pdf", "docx"), first, strict=True):
            if isinstance(url, str):
                self.downloads.check_download(kind, url)
                self.downloads.check_expiry(kind, url, final)
            else:
                self.drift(
                    "downloads",
                    None,
                    f"the completed report has no output.{kind}_url to download (documented)",
                    where=f"GET /api/reports/{final['id']}",
                )
        self.sleep(self.poll_interval)
        answer = self.http.api("GET", f"/api/reports/{final['id']}")
        found = self.report_of(answer, str(final["id"]), "second GET after completion")
        self.report.ran("fresh_urls")
        if found is None:
            return
        again, answer = found
        self.watcher.observe(again, answer)
        second_output = _object(again.get("output"))
        for kind, url in zip(("pdf", "docx"), first, strict=True):
            fresh = second_output.get(f"{kind}_url")
            if not isinstance(url, str):
                continue
            if fresh == url:
                self.drift(
                    "fresh_urls",
                    answer,
                    f"a second GET returned the same {kind}_url; documented: every GET mints fresh signed URLs",
                )
            elif isinstance(fresh, str):
                self.downloads.check_download(kind, fresh)

    def check_list(self, report_id: str) -> None:
        answer = self.http.api("GET", "/api/reports", params={"case_id": self.case_id})
        self.report.ran("list")
        if answer.status != 200:
            self.drift(
                "list",
                answer,
                f"listing the case's reports answered HTTP {answer.status}; documented: 200",
            )
            return
        if not self.schema(answer, "GET", "/api/reports"):
            return
        summaries = (answer.body.get("data") or {}).get("reports") or []
        ours = [s for s in summaries if isinstance(s, dict) and s.get("id") == report_id]
        if not ours:
            self.drift("list", answer, f"the case's list does not show {report_id}")
        elif self.watcher.last is not None and ours[0].get("status") != self.watcher.last.get(
            "status"
        ):
            self.drift(
                "list",
                answer,
                f"the list shows {report_id} {ours[0].get('status')!r}; GET showed {self.watcher.last.get('status')!r}",
            )
        times = [epoch(s.get("created_at")) for s in summaries if isinstance(s, dict)]
        known = [t for t in times if t is not None]
        if known != sorted(known, reverse=True):
            self.drift("list", answer, "the list is not newest first (documented)")
