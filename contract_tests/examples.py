"""Explicit lifecycles and reports that every check runs, whatever ``--examples`` says.

One per lifecycle path and per report shape family, so that the coverage table is complete
even for a quick run; the generated examples then explore around them.
"""

from __future__ import annotations

from typing import Any

from contract_tests.documented import (
    BIOMECHANICS_REGIONS,
    CANCELLED_MESSAGE,
    FAILURES,
    MESSAGE_GENERATION_COMPLETE,
    MESSAGE_STARTING,
    STEP_BIOMECHANICS,
    STEP_DELTA_V,
    STEP_MESSAGES,
    STEP_REPORT_GENERATION,
)
from contract_tests.model import (
    FAULT_KINDS,
    RATE_LIMIT_RETRY_AFTER_RANGE,
    Analysis,
    InjectedFault,
    Lifecycle,
    Observation,
)

__all__ = [
    "explicit_consumer_reports",
    "explicit_fault_lifecycles",
    "explicit_lifecycles",
    "report_shape_family",
]

_GAP = 40.0


def _steps(analysis: Analysis) -> list[str]:
    if analysis == "accident_only":
        return [STEP_DELTA_V, STEP_REPORT_GENERATION]
    return [STEP_DELTA_V, STEP_BIOMECHANICS, STEP_REPORT_GENERATION]


def _walk(analysis: Analysis, until: str | None) -> tuple[list[Observation], list[str], float]:
    """Pending, then one observation per step up to ``until`` (all steps when None)."""
    timeline = [Observation(0.0, "pending", {"message": MESSAGE_STARTING})]
    elapsed, done = 0.0, list[str]()
    for step in _steps(analysis):
        elapsed += _GAP
        timeline.append(
            Observation(
                elapsed,
                "processing",
                {
                    "current_step": step,
                    "steps_completed": list(done),
                    "message": STEP_MESSAGES[step],
                },
            )
        )
        if step == until:
            break
        done.append(step)
    return timeline, done, elapsed


def _ending(analysis: Analysis, status: str, until: str | None, message: str) -> list[Observation]:
    timeline, done, elapsed = _walk(analysis, until)
    current = timeline[-1].progress["current_step"] if timeline[-1].progress else None
    # Walking every step leaves them all in ``done``; stopping at one leaves those before it.
    timeline.append(
        Observation(
            elapsed + _GAP,
            status,
            {"current_step": current, "steps_completed": done, "message": message},
        )
    )
    return timeline


def _split_report(regions: tuple[str, ...]) -> dict[str, Any]:
    chart = {
        "chartType": "CERVICAL_COMPRESSION",
        "title": "Cervical Compression",
        "labels": ["Walking", "Crash"],
        "datasets": [{"label": "Force (lbf)", "data": [22, 215]}],
        "ylabel": "lbf",
    }
    types = [
        "header",
        "assignment",
        "opinions",
        "ar_intro",
        "ar_similar_cases",
        "ar_acceleration",
        "ar_liability",
        "biomechanics_alleged_injuries_and_health",
        "biomechanics_injury_mechanisms_intro",
        *[f"biomechanics_injury_mechanism_{r}" for r in regions],
        "biomechanics_occupant_motion",
        "biomechanics_occupant_motion_analysis",
        "biomechanics_forces_intro",
        *(["biomechanics_forces_tbi"] if "tbi" in regions else []),
        *[f"biomechanics_forces_{r}" for r in regions if r != "tbi"],
        "biomechanics_loading_considerations",
        "references",
    ]
    sections = []
    for kind in types:
        section: dict[str, Any] = {
            "id": f"sec_{kind}",
            "type": kind,
            "title": kind.replace("_", " ").title(),
            "markdown": "Text.",
        }
        if kind == "biomechanics_loading_considerations":
            section["data"] = {"charts": [chart]}
        elif kind == "biomechanics_occupant_motion_analysis":
            section["data"] = {"motion_tables": []}
        elif kind.startswith("biomechanics_forces_") and kind not in (
            "biomechanics_forces_intro",
            "biomechanics_forces_tbi",
        ):
            section["data"] = {"forces_tables": []}
        sections.append(section)
    return {"schema_version": "1.0", "sections": sections}


_MONOLITHIC = {
    "schema_version": "1.0",
    "sections": [
        {
            "id": "sec_header",
            "type": "header",
            "title": "Report Header",
            "markdown": "**Case:** Doe v. Miller",
        },
        {
            "id": "sec_biomechanics",
            "type": "biomechanics",
            "title": "Biomechanical Analysis",
            "markdown": "###",
            "data": {"charts": [], "motion_tables": [], "forces_tables": []},
        },
    ],
}
_ACCIDENT_ONLY = {
    "schema_version": "1.0",
    "sections": [
        {"id": f"sec_{k}", "type": k, "title": k, "markdown": "Text."}
        for k in ("header", "opinions", "ar_intro", "references")
    ],
}


def explicit_lifecycles() -> list[Lifecycle]:
    """One plain lifecycle per path, and one completed report per shape family."""
    completed = _ending("biomechanics", "completed", None, MESSAGE_GENERATION_COMPLETE)
    lifecycles = [
        Lifecycle(
            "completed",
            "accident_only",
            tuple(_ending("accident_only", "completed", None, MESSAGE_GENERATION_COMPLETE)),
        ),
        Lifecycle(
            "completed",
            "demo",
            (
                Observation(0.0, "pending", {"message": MESSAGE_STARTING}),
                Observation(50.0, "completed", {"message": MESSAGE_GENERATION_COMPLETE}),
            ),
        ),
        Lifecycle("completed", "biomechanics", tuple(completed), report=None, derive_report=False),
        Lifecycle(
            "completed",
            "biomechanics",
            tuple(completed),
            report=_split_report(BIOMECHANICS_REGIONS),
            derive_report=False,
            extra_fields={"eta_seconds": 0},
        ),
        Lifecycle(
            "completed", "biomechanics", tuple(completed), report=_MONOLITHIC, derive_report=False
        ),
        Lifecycle(
            "completed",
            "accident_only",
            tuple(_ending("accident_only", "completed", None, MESSAGE_GENERATION_COMPLETE)),
            report=_ACCIDENT_ONLY,
            derive_report=False,
        ),
        # Tolerated shapes on the way: null progress, an empty one, no message, extra fields.
        Lifecycle(
            "completed",
            "accident_only",
            (
                Observation(0.0, "pending", None),
                Observation(20.0, "processing", {}),
                Observation(
                    40.0, "processing", {"current_step": STEP_DELTA_V, "steps_completed": []}
                ),
                Observation(
                    60.0,
                    "processing",
                    {
                        "current_step": STEP_REPORT_GENERATION,
                        "message": "Analysis complete. Building report documents...",
                        "eta_seconds": 30,
                    },
                ),
                Observation(90.0, "completed", None),
            ),
        ),
    ]
    for reason, (step, message) in FAILURES.items():
        analysis: Analysis = "biomechanics" if step == STEP_BIOMECHANICS else "accident_only"
        lifecycles.append(
            Lifecycle(
                f"failed: {reason}", analysis, tuple(_ending(analysis, "failed", step, message))
            )
        )
    lifecycles.append(
        Lifecycle(
            "cancelled while pending",
            "accident_only",
            (
                Observation(0.0, "pending", {"message": MESSAGE_STARTING}),
                Observation(30.0, "cancelled", {"message": CANCELLED_MESSAGE}),
            ),
        )
    )
    lifecycles.append(
        Lifecycle(
            "cancelled while processing",
            "biomechanics",
            tuple(_ending("biomechanics", "cancelled", STEP_BIOMECHANICS, CANCELLED_MESSAGE)),
        )
    )
    stuck, _, _ = _walk("accident_only", STEP_REPORT_GENERATION)
    lifecycles.append(Lifecycle("never terminal", "accident_only", tuple(stuck)))
    lifecycles.append(Lifecycle("not found", "accident_only", ()))
    # Finishing just inside each documented timeout (less the margin): clients must wait.
    for analysis in ("accident_only", "biomechanics", "demo"):
        limit = {"accident_only": 270.0, "biomechanics": 570.0, "demo": 90.0}[analysis]
        lifecycles.append(
            Lifecycle(
                "completed",
                analysis,
                (
                    Observation(0.0, "pending", {"message": MESSAGE_STARTING}),
                    Observation(
                        10.0,
                        "processing",
                        {
                            "current_step": STEP_DELTA_V,
                            "steps_completed": [],
                            "message": MESSAGE_STARTING,
                        },
                    ),
                    Observation(
                        limit - 10,
                        "completed",
                        {
                            "current_step": STEP_REPORT_GENERATION,
                            "steps_completed": _steps(analysis),
                            "message": MESSAGE_GENERATION_COMPLETE,
                        },
                    ),
                ),
            )
        )
    return lifecycles


def explicit_fault_lifecycles() -> list[Lifecycle]:
    """For ``--strict``: each transient fault on the first poll, then on the second poll, of a
    plain completed report (a first poll that fails is where clients written for the happy
    path break most often), and the longest and shortest ``Retry-After`` the documented rate
    limit sends."""
    plain = tuple(_ending("accident_only", "completed", None, MESSAGE_GENERATION_COMPLETE))
    return [
        Lifecycle("completed", "accident_only", plain, faults=(InjectedFault(poll, kind, 5),))
        for poll in (1, 2)
        for kind in FAULT_KINDS
    ] + [
        Lifecycle("completed", "accident_only", plain, faults=(InjectedFault(1, "429", seconds),))
        for seconds in (RATE_LIMIT_RETRY_AFTER_RANGE[0], RATE_LIMIT_RETRY_AFTER_RANGE[1])
    ]


def explicit_consumer_reports() -> list[dict[str, Any]]:
    """A completed report's data for each structured-report shape family."""
    reports: list[dict[str, Any] | None] = [
        None,
        _split_report(BIOMECHANICS_REGIONS),
        _split_report(("knee",)),
        _MONOLITHIC,
        _ACCIDENT_ONLY,
        {"schema_version": "1.0", "sections": []},
    ]
    return [
        {
            "id": "rpt_contract",
            "case_id": "case_contract",
            "type": "technical_report",
            "status": "completed",
            "progress": {
                "current_step": STEP_REPORT_GENERATION,
                "steps_completed": _steps("biomechanics"),
                "message": MESSAGE_GENERATION_COMPLETE,
            },
            "output": {
                "pdf_url": "http://127.0.0.1/storage/reports/rpt_contract.pdf?expires=1&signature=00",
                "docx_url": "http://127.0.0.1/storage/reports/rpt_contract.docx?expires=1&signature=00",
                "report": report,
            },
            "created_at": "2026-01-15T10:30:00Z",
            "updated_at": "2026-01-15T10:34:00Z",
        }
        for report in reports
    ]


def report_shape_family(report: Any, derived: bool = False) -> str:
    """The coverage-table name of a structured report's shape."""
    if derived:
        return "report: the mock's own"
    if report is None:
        return "report: null"
    types = [s.get("type", "") for s in report.get("sections", [])]
    if "biomechanics" in types:
        return "report: monolithic biomechanics"
    if any(t.startswith("biomechanics_") for t in types):
        return "report: split biomechanics"
    if not types:
        return "report: no sections"
    return "report: accident-only"
