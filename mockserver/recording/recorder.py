"""What the recording proxy saw, per report, written as scenario files as it happens.

:class:`LifecycleRecorder` is told of every exchange the proxy passed through (create, poll,
cancel, download) and keeps an :class:`~mockserver.core.lifecycle_observer.ObservedLifecycle`
per report. Each time a report's scenario changes, its file ``<out>/<report id>.json`` is
rewritten (atomically), so a proxy stopped at any moment leaves every file whole.

Times are the report's own where the API sends them: ``updated_at`` minus ``created_at``
(whole seconds, as the API writes them), so a recording made in front of a mock at 100x or
of a live deployment reads the same; only without usable timestamps does the proxy's own
clock, from the create answer on, stand in. Documents are checked once a report completes
(a GET of each signed URL, which needs no key) unless that is switched off, and any
download that passes through the proxy counts too. The API key is never written anywhere.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mockserver.core.lifecycle_observer import ObservedLifecycle
from schemas.scenario_files import scenario_problems

__all__ = ["DocumentFetch", "LifecycleRecorder"]

_REPORT_PATH = re.compile(r"^/api/reports/([^/]+)/?$")
_DOWNLOAD_PATH = re.compile(r"^/storage/reports/(.+)\.(pdf|docx)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

#: Downloads a document's signed URL; the status it answered, or ``None`` if it did not.
DocumentFetch = Callable[[str], int | None]


def _timestamp(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _report_data(body: bytes) -> Mapping[str, Any] | None:
    """The ``data`` report object of a JSON answer, if it is one."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    data = parsed.get("data") if isinstance(parsed, dict) else None
    return data if isinstance(data, dict) and isinstance(data.get("id"), str) else None


def scenario_name(report_id: str) -> str:
    """A report id as a scenario name and file stem (letters, digits, ``_ . -``)."""
    cleaned = _UNSAFE.sub("_", report_id).lstrip("_.-") or "report"
    return cleaned[:100]


class LifecycleRecorder:
    """Scenario files of every report seen through the proxy, in ``out_dir``."""

    def __init__(
        self,
        upstream: str,
        out_dir: Path,
        *,
        fetch_document: DocumentFetch | None,
        log: TextIO | None = None,
    ) -> None:
        self.upstream = upstream
        self.out_dir = out_dir
        self._fetch = fetch_document
        self._log = log
        self._lock = threading.Lock()
        self._reports: dict[str, ObservedLifecycle] = {}
        self._created_real: dict[str, float] = {}
        self._fetches = ThreadPoolExecutor(max_workers=2, thread_name_prefix="recorder-fetch")
        self.written: set[Path] = set()
        self._finished: set[Path] = set()  # files whose report reached a terminal status
        self._warned: dict[Path, str] = {}  # the problems last printed for a file

    # --- what the proxy tells ---------------------------------------------------------------

    def exchanged(
        self, method: str, path: str, request_body: bytes, status: int, response_body: bytes
    ) -> None:
        """One request passed through and its answer (the body as the client got it)."""
        if path.rstrip("/") == "/api/reports" and method == "POST" and status in (200, 201):
            self._created(request_body, response_body)
        elif _REPORT_PATH.match(path) and status == 200 and method in ("GET", "DELETE"):
            report_id = _REPORT_PATH.match(path).group(1)  # type: ignore[union-attr]
            if method == "DELETE":
                with self._lock:
                    found = self._reports.get(report_id)
                    if found is not None:
                        found.saw_cancel()
                return
            data = _report_data(response_body)
            if data is not None:
                self._seen(data)
        elif (download := _DOWNLOAD_PATH.match(path)) and method == "GET":
            self._document(download.group(1), download.group(2), status)

    def _created(self, request_body: bytes, response_body: bytes) -> None:
        data = _report_data(response_body)
        if data is None:
            return
        try:
            asked = json.loads(request_body)
        except (ValueError, RecursionError):
            asked = {}
        asked = asked if isinstance(asked, dict) else {}
        options = asked.get("options")
        with self._lock:
            self._created_real[data["id"]] = time.monotonic()
            seen = self._lifecycle(data)
            seen.saw_request(asked.get("type"), options if isinstance(options, dict) else None)
        self._seen(data)

    def _lifecycle(self, data: Mapping[str, Any]) -> ObservedLifecycle:
        report_id = data["id"]
        found = self._reports.get(report_id)
        if found is None:
            case_id = data.get("case_id")
            found = ObservedLifecycle(
                name=scenario_name(report_id),
                report_id=report_id,
                case_id=case_id if isinstance(case_id, str) else None,
                source=self.upstream,
            )
            self._reports[report_id] = found
        return found

    def _after_seconds(self, seen: ObservedLifecycle, data: Mapping[str, Any]) -> float:
        created, updated = _timestamp(data.get("created_at")), _timestamp(data.get("updated_at"))
        if created is not None and updated is not None and updated >= created:
            return updated - created
        seen.timing = "proxy"
        started = self._created_real.get(seen.report_id)
        return 0.0 if started is None else time.monotonic() - started

    def _seen(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            seen = self._lifecycle(data)
            was_terminal = seen.terminal
            changed = seen.saw_report(data, self._after_seconds(seen, data))
            completed_now = was_terminal is None and seen.terminal == "completed"
            if changed:
                self._write(seen)
        if completed_now and self._fetch is not None and seen.output:
            for kind in ("pdf", "docx"):
                url = seen.output.get(f"{kind}_url")
                if isinstance(url, str):
                    self._fetches.submit(self._check_document, seen, kind, url)

    def _check_document(self, seen: ObservedLifecycle, kind: str, url: str) -> None:
        assert self._fetch is not None
        status = self._fetch(url)
        if status in (200, 404):
            with self._lock:
                if seen.saw_document(kind, available=status == 200):
                    self._write(seen)

    def _document(self, report_id: str, kind: str, status: int) -> None:
        with self._lock:
            seen = self._reports.get(report_id)
            if seen is None or seen.terminal != "completed" or status not in (200, 404):
                return
            if seen.saw_document(kind, available=status == 200):
                self._write(seen)

    # --- the files --------------------------------------------------------------------------

    def _write(self, seen: ObservedLifecycle) -> None:
        """Rewrite one report's file (under the lock)."""
        document = seen.document(_now_text())
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"{seen.name}.json"
        temporary = path.with_name(f".{path.name}.tmp")
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        news = path not in self.written or (seen.terminal and path not in self._finished)
        self.written.add(path)
        if seen.terminal:
            self._finished.add(path)
        if self._log is None:
            return
        problems = "; ".join(scenario_problems(document))
        if problems and problems != self._warned.get(path):
            self._warned[path] = problems
            print(
                f"recorded {path}, but it will not replay: {problems}", file=self._log, flush=True
            )
        elif news and not problems:
            print(f"recorded {path}: {seen.summary()}", file=self._log, flush=True)

    def close(self) -> None:
        """Finish the document checks under way (their results are written)."""
        self._fetches.shutdown(wait=True)
