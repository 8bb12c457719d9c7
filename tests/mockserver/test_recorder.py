"""The recorder's judgement on what passes through the proxy, exchange by exchange (the
served proxy itself: test_record_replay.py)."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import requests

from mockserver.core import lifecycle_observer
from mockserver.recording import LifecycleRecorder, recording_proxy
from schemas import scenario_files
from schemas.scenario_files import scenario_problems


def body(data: Any) -> bytes:
    return json.dumps({"success": True, "data": data}).encode()


def report(status: str, updated: str | None, **fields: Any) -> dict[str, Any]:
    shown = {
        "id": "rpt_1",
        "case_id": "case_1",
        "type": "technical_report",
        "status": status,
        "progress": {"message": status},
        "output": None,
        "created_at": "2026-01-15T10:00:00Z",
        "updated_at": updated,
        **fields,
    }
    return shown


def written(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "rpt_1.json").read_text())
    return document


def test_a_report_first_seen_after_its_creation_starts_from_it(tmp_path: Path) -> None:
    recorder = LifecycleRecorder("https://api.example.com", tmp_path, fetch_document=None)
    recorder.exchanged(
        "GET", "/api/reports/rpt_1", b"", 200, body(report("processing", "2026-01-15T10:00:40Z"))
    )
    recorder.exchanged(
        "GET", "/api/reports/rpt_1", b"", 200, body(report("failed", "2026-01-15T10:01:30Z"))
    )
    document = written(tmp_path)
    assert [(e["after_seconds"], e["status"]) for e in document["timeline"]] == [
        (0, "processing"),
        (90, "failed"),
    ]
    assert "first seen 40s after its creation" in document["description"]
    assert document["recorded"]["timing"] == "server"
    assert scenario_problems(document) == []


def test_without_timestamps_the_proxy_clock_stands_in(tmp_path: Path) -> None:
    recorder = LifecycleRecorder("https://api.example.com", tmp_path, fetch_document=None)
    created = report("pending", None)
    recorder.exchanged("POST", "/api/reports", b'{"type": "technical_report"}', 200, body(created))
    recorder.exchanged("GET", "/api/reports/rpt_1", b"", 200, body(report("processing", None)))
    document = written(tmp_path)
    assert document["recorded"]["timing"] == "proxy"
    assert document["timeline"][1]["after_seconds"] < 5  # real seconds since the create answer
    assert document["request"] == {"type": "technical_report"}


def test_a_client_cancel_and_states_after_the_end(tmp_path: Path) -> None:
    recorder = LifecycleRecorder("https://api.example.com", tmp_path, fetch_document=None)
    recorder.exchanged(
        "POST", "/api/reports", b"{}", 200, body(report("pending", "2026-01-15T10:00:00Z"))
    )
    recorder.exchanged("DELETE", "/api/reports/rpt_1", b"", 200, body({"id": "rpt_1"}))
    cancelled = report("cancelled", "2026-01-15T10:00:07Z")
    recorder.exchanged("GET", "/api/reports/rpt_1", b"", 200, body(cancelled))
    recorder.exchanged(
        "GET", "/api/reports/rpt_1", b"", 200, body(report("completed", "2026-01-15T10:09:00Z"))
    )
    document = written(tmp_path)
    assert document["outcome"] == {"status": "cancelled", "cancelled_by": "client"}
    assert [e["status"] for e in document["timeline"]] == ["pending", "cancelled"]
    assert document["recorded"]["requests"] == 2  # when the file last changed


def test_a_lifecycle_the_loader_would_refuse_is_written_with_a_warning(tmp_path: Path) -> None:
    log = io.StringIO()
    recorder = LifecycleRecorder("https://api.example.com", tmp_path, fetch_document=None, log=log)
    recorder.exchanged(
        "GET", "/api/reports/rpt_1", b"", 200, body(report("processing", "2026-01-15T10:00:10Z"))
    )
    recorder.exchanged(
        "GET", "/api/reports/rpt_1", b"", 200, body(report("pending", "2026-01-15T10:00:20Z"))
    )
    assert (tmp_path / "rpt_1.json").exists()
    assert "but it will not replay: $.timeline[1].status: 'pending' after 'processing'" in (
        log.getvalue()
    )


def test_documents_checked_and_downloaded(tmp_path: Path) -> None:
    answered = {"https://s/rpt_1.pdf": 200, "https://s/rpt_1.docx": 404}
    recorder = LifecycleRecorder(
        "https://api.example.com", tmp_path, fetch_document=lambda url: answered[url]
    )
    output = {"pdf_url": "https://s/rpt_1.pdf", "docx_url": "https://s/rpt_1.docx", "report": None}
    completed = report("completed", "2026-01-15T10:03:00Z", output=output)
    recorder.exchanged("GET", "/api/reports/rpt_1", b"", 200, body(completed))
    recorder.close()  # the checks run in the background; close waits for them
    shape = written(tmp_path)["outcome"]["output"]
    assert shape == {
        "fields": ["pdf_url", "docx_url", "report"],
        "report": None,
        "documents": {"pdf": "available", "docx": "missing"},
    }
    recorder.exchanged("GET", "/storage/reports/rpt_1.docx", b"", 200, b"PK")  # through the proxy
    assert written(tmp_path)["outcome"]["output"]["documents"]["docx"] == "available"


def test_an_upstream_that_does_not_answer_is_a_502_in_the_envelope(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with recording_proxy(closed, tmp_path) as proxy:
        answer = requests.get(f"{proxy.base_url}/api/reports/rpt_1", timeout=10)
    assert answer.status_code == 502
    assert answer.json() == {
        "success": False,
        "error": f"Recording proxy: the upstream {closed} refused the connection for GET "
        "/api/reports/rpt_1 (nothing listens there): check --upstream and that the API is "
        "running. The proxy answered this 502 in its place and recorded nothing of it; the "
        "scenario files recorded so far are kept.",
    }


def test_the_writer_and_the_loader_agree_on_the_format() -> None:
    assert lifecycle_observer.SCENARIO_FORMAT == scenario_files.SCENARIO_FORMAT
    assert lifecycle_observer.DOCUMENTED_OUTPUT_FIELDS == scenario_files.DOCUMENTED_OUTPUT_FIELDS
