"""Hypothesis strategies for every lifecycle and report shape the contract allows.

Everything generated validates against ``schemas/``; what the schemas cannot say (section
order, which sections go together, steps advancing in order) holds by construction. Every
choice shrinks towards the plainest case: fewer observations, shorter waits, fully populated
progress objects, no biomechanics, no extra fields, so counterexamples come out small.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from contract_tests.documented import (
    BIOMECHANICS_REGIONS,
    CANCELLED_MESSAGE,
    FAILURES,
    MESSAGE_GENERATION_COMPLETE,
    MESSAGE_STARTING,
    NON_BIOMECHANICS_SECTIONS,
    STEP_BIOMECHANICS,
    STEP_DELTA_V,
    STEP_MESSAGES,
    STEP_REPORT_GENERATION,
)
from contract_tests.errors import UsageError
from contract_tests.model import (
    FAULT_KINDS,
    RATE_LIMIT_RETRY_AFTER_RANGE,
    Analysis,
    InjectedFault,
    Lifecycle,
    Observation,
)

ANALYSES: tuple[Analysis, ...] = ("accident_only", "biomechanics", "demo")

__all__ = [
    "PATHS",
    "PROGRESS_SHAPES",
    "charts",
    "completed_report_data",
    "fault_plans",
    "lifecycles",
    "progress_objects",
    "strict_lifecycles",
    "structured_reports",
]

#: Every lifecycle path family, as the coverage table names them.
PATHS = (
    "completed",
    "failed: delta-V",
    "failed: biomechanics",
    "failed: timeout",
    "failed: internal error",
    "cancelled while pending",
    "cancelled while processing",
    "never terminal",
    "not found",
)
#: How a progress object may look on the wire; the first is the documented full form.
PROGRESS_SHAPES = ("full", "null", "empty", "no message", "no steps_completed", "extra fields")

_EXTRA_VALUES = st.sampled_from(["x", 0, True, None, {"nested": [1, 2]}, ["a"]])
_EXTRA_NAMES = st.sampled_from(["eta_seconds", "queue_position", "x_request_id", "worker"])


def progress_objects(
    step: str | None,
    steps_completed: list[str],
    message: str,
    *,
    shapes: tuple[str, ...] = PROGRESS_SHAPES,
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Progress objects for one moment, in any tolerated shape (``shapes`` limits them).

    Shrinks to the full documented object.
    """
    unknown = set(shapes) - set(PROGRESS_SHAPES)
    if unknown or not shapes:
        raise UsageError(f"shapes={shapes!r}: choose from {PROGRESS_SHAPES}")

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any] | None:
        shape = draw(st.sampled_from(shapes))
        full: dict[str, Any] = {
            "current_step": step,
            "steps_completed": list(steps_completed),
            "message": message,
        }
        if shape == "null":
            return None
        if shape == "empty":
            return {}
        if shape == "no message":
            del full["message"]
        elif shape == "no steps_completed":
            del full["steps_completed"]
        elif shape == "extra fields":
            full.update(draw(st.dictionaries(_EXTRA_NAMES, _EXTRA_VALUES, min_size=1, max_size=2)))
        return full

    return build()


def _gap() -> st.SearchStrategy[int]:
    # Seconds between two observations: from instant changes to four-minute stretches, so
    # finishing times land inside, around and beyond every documented timeout.
    return st.integers(min_value=1, max_value=240)


@st.composite
def _lifecycle(draw: st.DrawFn, path: str) -> Lifecycle:
    if path == "not found":
        return Lifecycle(path=path, analysis="accident_only", timeline=())
    analysis: Analysis = draw(st.sampled_from(ANALYSES))
    if path == "failed: biomechanics" and analysis == "accident_only":
        analysis = "biomechanics"
    steps = [STEP_DELTA_V, STEP_REPORT_GENERATION]
    if analysis != "accident_only":
        steps.insert(1, STEP_BIOMECHANICS)

    elapsed = 0
    timeline = [Observation(0, "pending", draw(progress_objects(None, [], MESSAGE_STARTING)))]
    for _ in range(draw(st.integers(0, 2))):
        elapsed += draw(_gap())
        timeline.append(
            Observation(elapsed, "pending", draw(progress_objects(None, [], MESSAGE_STARTING)))
        )

    if path == "cancelled while pending":
        elapsed += draw(_gap())
        timeline.append(Observation(elapsed, "cancelled", {"message": CANCELLED_MESSAGE}))
        return Lifecycle(path=path, analysis=analysis, timeline=tuple(timeline))

    if path.startswith("failed: "):
        failing_step, failure_message = FAILURES[path.removeprefix("failed: ")]
        walked = steps[: steps.index(failing_step) + 1]
    elif path in ("cancelled while processing", "never terminal"):
        walked = steps[: draw(st.integers(1, len(steps)))]
    else:
        walked = steps

    done: list[str] = []
    for step in walked:
        minimum = (
            1
            if path in ("cancelled while processing", "never terminal") and step == walked[-1]
            else 0
        )
        for _ in range(draw(st.integers(minimum, 2))):
            elapsed += draw(_gap())
            progress = draw(progress_objects(step, done, STEP_MESSAGES[step]))
            timeline.append(Observation(elapsed, "processing", progress))
        if step != walked[-1]:
            done.append(step)

    if path == "never terminal":
        return Lifecycle(path=path, analysis=analysis, timeline=tuple(timeline))
    elapsed += draw(_gap())
    current = walked[-1]
    if path == "completed":
        final = {
            "current_step": current,
            "steps_completed": [*done, current],
            "message": MESSAGE_GENERATION_COMPLETE,
        }
        derive = draw(st.booleans())
        report = None if derive else draw(st.none() | structured_reports())
        extra = draw(st.dictionaries(_EXTRA_NAMES, _EXTRA_VALUES, max_size=2))
        timeline.append(Observation(elapsed, "completed", final))
        return Lifecycle(
            path, analysis, tuple(timeline), report=report, derive_report=derive, extra_fields=extra
        )
    message = CANCELLED_MESSAGE if path.startswith("cancelled") else failure_message
    status = "cancelled" if path.startswith("cancelled") else "failed"
    timeline.append(
        Observation(
            elapsed, status, {"current_step": current, "steps_completed": done, "message": message}
        )
    )
    return Lifecycle(path=path, analysis=analysis, timeline=tuple(timeline))


def lifecycles(paths: tuple[str, ...] = PATHS) -> st.SearchStrategy[Lifecycle]:
    """Lifecycles along ``paths`` (default: all of :data:`PATHS`).

    Any number of pending and processing observations with the documented steps in order
    (biomechanics only where it applies), ending completed (with any structured report, or
    null), failed with each documented reason, cancelled from either state, never, or an id
    that does not exist. Shrinks towards few observations, short waits, full progress objects.
    """
    unknown = [p for p in paths if p not in PATHS]
    if unknown or not paths:
        raise UsageError(f"paths={paths!r}: choose from {PATHS}")
    return st.sampled_from(paths).flatmap(_lifecycle)


def fault_plans(max_poll: int = 6) -> st.SearchStrategy[tuple[InjectedFault, ...]]:
    """Transient faults on any of the first ``max_poll`` GETs of a report, the first included
    (at most three); a 429's ``Retry-After`` is any value the documented rate limit can send.

    Shrinks towards one 503 on the first poll.
    """
    if max_poll < 1:
        raise UsageError(f"max_poll={max_poll!r}: pass 1 or more")
    fault = st.builds(
        InjectedFault,
        poll=st.integers(1, max_poll),
        kind=st.sampled_from(FAULT_KINDS),
        retry_after=st.integers(*RATE_LIMIT_RETRY_AFTER_RANGE),
    )
    plans = st.lists(fault, min_size=1, max_size=3, unique_by=lambda f: f.poll)
    return plans.map(lambda faults: tuple(sorted(faults, key=lambda f: f.poll)))


def strict_lifecycles(paths: tuple[str, ...] = PATHS) -> st.SearchStrategy[Lifecycle]:
    """Like :func:`lifecycles`, with transient faults injected into some polls (``--strict``)."""
    found = tuple(p for p in paths if p != "not found") or ("completed",)
    return st.tuples(lifecycles(found), fault_plans()).map(
        lambda pair: Lifecycle(
            pair[0].path,
            pair[0].analysis,
            pair[0].timeline,
            report=pair[0].report,
            derive_report=pair[0].derive_report,
            extra_fields=pair[0].extra_fields,
            faults=pair[1],
        )
    )


def charts() -> st.SearchStrategy[dict[str, Any]]:
    """Chart objects: ``chartType``, ``title``, ``labels``, ``datasets``, ``ylabel``."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        labels = draw(
            st.lists(
                st.sampled_from(["Walking", "Sneeze", "Stairs", "Crash"]), max_size=4, unique=True
            )
        )
        values = st.lists(
            st.integers(0, 500) | st.floats(0, 500, allow_nan=False),
            min_size=len(labels),
            max_size=len(labels),
        )
        datasets = draw(
            st.lists(st.builds(lambda d: {"label": "Force (lbf)", "data": d}, values), max_size=2)
        )
        return {
            "chartType": draw(
                st.sampled_from(["CERVICAL_COMPRESSION", "LUMBAR_COMPRESSION", "PEAK_ACCELERATION"])
            ),
            "title": "Crash vs ADL",
            "labels": labels,
            "datasets": datasets,
            "ylabel": "Loading (lbf)",
        }

    return build()


def _section(
    kind: str, title: str, data: dict[str, Any] | None, extra: dict[str, Any]
) -> dict[str, Any]:
    section: dict[str, Any] = {
        "id": f"sec_{kind}",
        "type": kind,
        "title": title,
        "markdown": f"### {title}\n\nText.",
    }
    if data is not None:
        section["data"] = data
    section.update(extra)
    return section


@st.composite
def structured_reports(draw: st.DrawFn) -> dict[str, Any]:
    """Structured reports (``schema_version`` 1.0) in every documented shape.

    Any subset of the non-biomechanics sections; with or without biomechanics; the split
    biomechanics sections in wire order for any subset of regions (TBI or not, forces or
    not), or the seed's single monolithic ``biomechanics`` section; sections with and without
    ``data``; unknown extra keys on sections. Shrinks to a report with every plain section.
    """
    maybe_extra: st.SearchStrategy[dict[str, Any]] = st.just({}) | st.dictionaries(
        _EXTRA_NAMES, _EXTRA_VALUES, min_size=1, max_size=1
    )

    def with_data(payload: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any] | None:
        return draw(st.none() | payload)

    sections = [
        _section(kind, title, None, draw(maybe_extra))
        for kind, title in NON_BIOMECHANICS_SECTIONS
        if not draw(st.booleans())  # False (keep) is the shrink target
    ]
    form = draw(st.sampled_from(("none", "split", "monolithic")))
    tables = st.lists(st.dictionaries(st.sampled_from(["title", "rows"]), st.just("t")), max_size=2)
    if form == "monolithic":
        data = {
            "charts": draw(st.lists(charts(), max_size=2)),
            "motion_tables": [],
            "forces_tables": [],
        }
        sections.append(_section("biomechanics", "Biomechanical Analysis", data, {}))
    elif form == "split":
        chosen = draw(st.sets(st.sampled_from(BIOMECHANICS_REGIONS), min_size=1))
        regions = [r for r in BIOMECHANICS_REGIONS if r in chosen]
        forces = [r for r in regions if r != "tbi" and draw(st.booleans())]
        sections.append(
            _section(
                "biomechanics_alleged_injuries_and_health",
                "Alleged Injuries & Health Considerations",
                None,
                {},
            )
        )
        sections.append(
            _section(
                "biomechanics_injury_mechanisms_intro", "Injury Mechanisms & Tolerances", None, {}
            )
        )
        sections += [
            _section(f"biomechanics_injury_mechanism_{r}", r.replace("_", " ").title(), None, {})
            for r in regions
        ]
        sections.append(_section("biomechanics_occupant_motion", "Occupant Motion", None, {}))
        motion = with_data(st.builds(lambda t: {"motion_tables": t}, tables))
        sections.append(
            _section(
                "biomechanics_occupant_motion_analysis", "Occupant Motion Analysis", motion, {}
            )
        )
        if forces or "tbi" in regions:
            sections.append(
                _section("biomechanics_forces_intro", "Forces Exerted On The Occupant", None, {})
            )
        if "tbi" in regions:
            sections.append(_section("biomechanics_forces_tbi", "Traumatic Brain Injury", None, {}))
        for region in forces:
            data_for_region = with_data(st.builds(lambda t: {"forces_tables": t}, tables))
            sections.append(
                _section(
                    f"biomechanics_forces_{region}",
                    region.replace("_", " ").title(),
                    data_for_region,
                    {},
                )
            )
        loading = with_data(st.builds(lambda c: {"charts": c}, st.lists(charts(), max_size=2)))
        sections.append(
            _section("biomechanics_loading_considerations", "Loading Considerations", loading, {})
        )
    if not draw(st.booleans()):
        sections.append(_section("references", "References", None, {}))
    return {"schema_version": "1.0", "sections": sections}


@st.composite
def completed_report_data(draw: st.DrawFn) -> dict[str, Any]:
    """The ``data`` object of a completed report, as a consumer receives it.

    ``output.report`` is any structured report or null; ``progress`` may be null or partial;
    unknown extra fields may appear anywhere the contract allows them.
    """
    steps = [STEP_DELTA_V, STEP_BIOMECHANICS, STEP_REPORT_GENERATION]
    progress = draw(progress_objects(STEP_REPORT_GENERATION, steps, MESSAGE_GENERATION_COMPLETE))
    report = draw(st.none() | structured_reports())
    data: dict[str, Any] = {
        "id": "rpt_contract",
        "case_id": "case_contract",
        "type": "technical_report",
        "status": "completed",
        "progress": progress,
        "output": {
            "pdf_url": "http://127.0.0.1/storage/reports/rpt_contract.pdf?expires=1&signature=00",
            "docx_url": "http://127.0.0.1/storage/reports/rpt_contract.docx?expires=1&signature=00",
            "report": report,
        },
        "created_at": "2026-01-15T10:30:00Z",
        "updated_at": "2026-01-15T10:34:00Z",
    }
    data.update(draw(st.dictionaries(_EXTRA_NAMES, _EXTRA_VALUES, max_size=2)))
    return data
