"""The documented vocabulary the kit generates from (docs/api-contract.md, the public reference in our words).

The kit keeps its own copy rather than importing the mock's: it checks clients against the
documentation, and must not share a mistake with the server.
"""

from __future__ import annotations

__all__ = [
    "BIOMECHANICS_REGIONS",
    "CANCELLED_MESSAGE",
    "FAILURES",
    "MESSAGE_ANALYSIS_COMPLETE",
    "MESSAGE_BIOMECHANICS_RUNNING",
    "MESSAGE_GENERATION_COMPLETE",
    "MESSAGE_STARTING",
    "NON_BIOMECHANICS_SECTIONS",
    "STEP_BIOMECHANICS",
    "STEP_DELTA_V",
    "STEP_MESSAGES",
    "STEP_REPORT_GENERATION",
]

STEP_DELTA_V = "delta_v_calculation"
STEP_BIOMECHANICS = "biomechanics_analysis"
STEP_REPORT_GENERATION = "report_generation"

MESSAGE_STARTING = "Starting analysis..."
MESSAGE_BIOMECHANICS_RUNNING = "Running biomechanics analysis..."
MESSAGE_ANALYSIS_COMPLETE = "Analysis complete. Building report documents..."
MESSAGE_GENERATION_COMPLETE = "Report generation complete"
CANCELLED_MESSAGE = "Report generation cancelled"

STEP_MESSAGES = {
    STEP_DELTA_V: MESSAGE_STARTING,
    STEP_BIOMECHANICS: MESSAGE_BIOMECHANICS_RUNNING,
    STEP_REPORT_GENERATION: MESSAGE_ANALYSIS_COMPLETE,
}

#: Failure reason -> (the step it happens in, the message of progress.message).
FAILURES = {
    "delta-V": (STEP_DELTA_V, "Delta-V calculation failed: insufficient image quality"),
    "biomechanics": (STEP_BIOMECHANICS, "Biomechanics analysis failed"),
    "timeout": (STEP_REPORT_GENERATION, "Report generation timed out"),
    "internal error": (STEP_DELTA_V, "Internal error during report generation"),
}

NON_BIOMECHANICS_SECTIONS = (
    ("header", "Report Header"),
    ("assignment", "Assignment"),
    ("opinions", "Opinions"),
    ("ar_intro", "Accident Reconstruction"),
    ("ar_similar_cases", "Similar Crash Tests"),
    ("ar_acceleration", "Vehicle Acceleration"),
    ("ar_liability", "Liability"),
)

BIOMECHANICS_REGIONS = (
    "cervical_spine",
    "thoracic_spine",
    "lumbar_spine",
    "shoulder",
    "hip",
    "knee",
    "foot_ankle",
    "tbi",
)
