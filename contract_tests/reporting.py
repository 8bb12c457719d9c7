"""Printing a check's outcome: each broken rule once, then the coverage table."""

from __future__ import annotations

from contract_tests.runner import CheckResult

__all__ = ["render_result"]


def render_result(result: CheckResult) -> str:
    """The text ``python -m contract_tests check`` prints."""
    profile = "documented + resilience (--strict)" if result.strict else "documented"
    lines = [f"Checked {result.target} against the {profile} profile"]
    lines.append(
        f"  {result.examples_run} examples (including shrinking) in {result.wall_seconds:.1f}s wall, "
        f"{result.virtual_seconds:,.0f}s of virtual time"
        + (
            f" ({result.virtual_seconds / result.wall_seconds:,.0f}x real time)"
            if result.wall_seconds
            else ""
        )
    )
    lines.append("")
    broken = {violation.rule: violation for violation in result.violations}
    for rule in result.rules:
        violation = broken.get(rule.name)
        if violation is None:
            lines.append(f"  ok      {rule.name}")
            continue
        lines.append(f"  BROKEN  {rule.name}: {rule.title}")
    for rule in result.rules:
        violation = broken.get(rule.name)
        if violation is None:
            continue
        lines += [
            "",
            f"=== {rule.name} ===",
            f"Rule:      {rule.title}",
            f"Source:    {rule.source}",
            f"Expected:  {violation.expected}",
            f"Received:  {violation.received}",
            f"Minimal reproducing {result.example_kind}:",
            violation.lifecycle_text or "  (none)",
        ]
        if violation.requests_text:
            lines += ["Requests the client made:", violation.requests_text]
    covered = (
        "lifecycle path and report shape"
        if result.example_kind == "lifecycle"
        else f"{result.example_kind} path, download path, and what the workflow ran"
    )
    lines += ["", f"Coverage (examples per {covered}):"]
    width = max((len(name) for name in result.coverage), default=10)
    for name in sorted(result.coverage):
        lines.append(f"  {name:<{width}}  {result.coverage[name]:>5}")
    lines.append("")
    verdict = (
        "every rule holds"
        if result.passed
        else f"{len(broken)} rule(s) broken: {', '.join(result.broken_rules)}"
    )
    lines.append(f"Result: {verdict}")
    return "\n".join(lines)
