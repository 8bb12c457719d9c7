"""Report consumers with one planted bug each, for proving that the contract kit catches it.

Each is a small variation of :func:`clients_under_test.consumers.outline` or of the obvious
chart extraction, named after its defect, with a one-line docstring saying what is wrong;
the changed line is marked ``# planted:``. :data:`EXPECTED_RULE` names the rule each breaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "EXPECTED_RULE",
    "assumes_report_present",
    "expects_monolithic_biomechanics",
    "indexes_sections_by_position",
    "requires_data_on_every_biomechanics_section",
]


def indexes_sections_by_position(data: Mapping[str, Any]) -> str:
    """Takes ``sections[8]`` as the biomechanics heading, as in one full report it was."""
    report = (data.get("output") or {}).get("report")
    if report is None:
        return ""
    return str(report["sections"][8]["title"])  # planted: find sections by type, not index


def assumes_report_present(data: Mapping[str, Any]) -> list[str]:
    """Reads ``output["report"]["sections"]``, though report is null for older reports."""
    sections = data["output"]["report"]["sections"]  # planted: report may be null
    return [str(section["title"]) for section in sections]


def requires_data_on_every_biomechanics_section(data: Mapping[str, Any]) -> list[Any]:
    """Reads ``section["data"]`` on every biomechanics section, though most carry none."""
    report = (data.get("output") or {}).get("report") or {}
    payloads = []
    for section in report.get("sections", []):
        if str(section["type"]).startswith("biomechanics"):
            payloads.append(section["data"])  # planted: data is optional
    return payloads


def expects_monolithic_biomechanics(data: Mapping[str, Any]) -> list[Any]:
    """Looks up the seed example's single ``biomechanics`` section, absent from split reports."""
    report = (data.get("output") or {}).get("report") or {}
    by_type = {section["type"]: section for section in report.get("sections", [])}
    return list(by_type["biomechanics"]["data"]["charts"])  # planted: the split form has none


#: Each planted consumer -> the rule (``contract_tests.CONSUMER_RULES``) it must be caught breaking.
EXPECTED_RULE: dict[str, str] = {
    "indexes_sections_by_position": "consumer_accepts_every_valid_report",
    "assumes_report_present": "consumer_accepts_every_valid_report",
    "requires_data_on_every_biomechanics_section": "consumer_accepts_every_valid_report",
    "expects_monolithic_biomechanics": "consumer_accepts_every_valid_report",
}
