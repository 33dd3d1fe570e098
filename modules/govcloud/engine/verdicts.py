"""The policy pack's verdicts as the engine reports them (``pulumi ... --event-log FILE``).

Per resource the engine emits a ``policyAnalyzeSummaryEvent`` (the pack's resource policies that
passed and that failed on it; those that declared themselves not applicable are in neither), per
stack a ``policyAnalyzeStackSummaryEvent``, and a ``policyEvent`` for every violation, with the
policy exceptions (govcloud's waivers) that matched it. ``verdicts`` turns these into the same
(rule, URN) -> passed | failed | waived map ``govcloud check`` produces, so the two engines'
verdicts can be compared one for one.
"""

from __future__ import annotations

import json
from pathlib import Path


class EventLogError(Exception):
    """The event log cannot be read; the message names the file."""


def events(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EventLogError(f"{path}: cannot read the engine's event log ({exc.strerror})") from None
    out = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise EventLogError(f"{path}:{number}: not an engine event ({exc})") from None
    return out


def verdicts(path: Path, pack: str, stack_urn: str = "") -> dict[tuple[str, str], str]:
    """(rule, URN) -> "passed" | "failed" | "waived" for the pack named ``pack``. A stack
    policy's pass, and a violation that names no resource, are keyed by ``stack_urn`` (the root
    stack's URN, where `govcloud check` puts them)."""
    found: dict[tuple[str, str], str] = {}
    waived: set[tuple[str, str]] = set()
    for event in events(path):
        summary = event.get("policyAnalyzeSummaryEvent")
        if summary and summary.get("policyPackName") == pack:
            urn = summary.get("resourceUrn", "")
            for rule in summary.get("passed") or []:
                found.setdefault((rule, urn), "passed")
            for rule in summary.get("failed") or []:
                found[(rule, urn)] = "failed"
        stack = event.get("policyAnalyzeStackSummaryEvent")
        if stack and stack.get("policyPackName") == pack:
            for rule in stack.get("passed") or []:
                found.setdefault((rule, stack_urn), "passed")
        violation = event.get("policyEvent")
        if violation and violation.get("policyPackName") == pack:
            key = (violation.get("policyName", ""), violation.get("resourceUrn") or stack_urn)
            found[key] = "failed"
            if violation.get("exceptions"):
                waived.add(key)
    for key in waived:
        found[key] = "waived"
    return found


def differences(engine: dict[tuple[str, str], str], offline: dict[tuple[str, str], str]) -> list[str]:
    """Every (rule, resource) whose verdict differs, one line each, naming rule and resource."""
    lines = []
    for rule, urn in sorted(set(engine) | set(offline)):
        a, b = engine.get((rule, urn), "not reported"), offline.get((rule, urn), "not reported")
        if a != b:
            lines.append(f"{rule} on {urn or 'the stack'}: engine {a}, govcloud check {b}")
    return lines
