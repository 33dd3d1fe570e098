"""Check reports for people (rich table) and machines (JSON, SARIF 2.1.0, JUnit XML).

Every format shows waived findings as waived, with the waiver and its expiry.
"""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..text import json_bytes, plural, styled
from .results import CheckReport, Result, results_pieces

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def to_json(report: CheckReport) -> bytes:
    """The report as JSON (``text.json_document``), in bytes: written to a file as they are.

    Exactly ``json_bytes(report.as_dict())``; the "results" array is joined from the stacks'
    fragments (kept by the verdict cache for stacks unchanged since checked)."""
    return b"".join(json_pieces(report))


def json_pieces(report: CheckReport) -> list[bytes | memoryview]:
    """``to_json`` in the pieces it is joined from: a file takes them as they are."""
    marker = f"govcloud-results-{secrets.token_hex(16)}"  # stands where the array goes; no text holds it
    document = json_bytes({**report.as_dict(results=False), "results": marker})
    head, tail = document.split(json_bytes(marker).rstrip(b"\n"), 1)
    return results_pieces((s.fragment for s in report.stacks), head, tail)


# --- SARIF 2.1.0 ---------------------------------------------------------------------------
def _sarif_level(result: Result) -> str:
    if result.status == "passed":
        return "none"
    return "error" if result.enforcement == "mandatory" else "warning"


def to_sarif(report: CheckReport) -> str:
    rules = list(report.rules)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    descriptors = []
    for rule in rules:
        descriptors.append({
            "id": rule["id"],
            "name": rule["id"].replace("-", ""),
            "shortDescription": {"text": rule["title"]},
            "fullDescription": {"text": f"{rule['title']} ({rule.get('clause', '')})"},
            "help": {"text": rule.get("remediation", "")},
            "defaultConfiguration": {
                "level": "error" if rule["enforcement"] == "mandatory" else "warning" if rule["enforcement"] == "advisory" else "none",
                "enabled": rule["enforcement"] != "disabled",
            },
            "properties": {
                "standard": rule.get("standard", ""),
                "clause": rule.get("clause", ""),
                "severity": rule.get("severity", ""),
                "enforcement": rule["enforcement"],
                "tags": [rule.get("standard", ""), rule.get("severity", "")],
            },
        })
    artifacts = {s.stack: s.state_file for s in report.stacks}
    results = []
    seen: Counter = Counter()
    for result in report.results:
        if result.status == "passed":
            continue
        rendered = {
            "physicalLocation": {"artifactLocation": {"uri": artifacts[result.stack]}},
            "logicalLocations": [{"fullyQualifiedName": result.urn, "kind": "resource"}],
        }
        if result.source is not None:
            # The finding is fixed in the inventory (in git, with a line); the rendered resource is related.
            location: dict[str, Any] = {
                "physicalLocation": {"artifactLocation": {"uri": result.source["file"]},
                                     "region": {"startLine": max(1, int(result.source["line"]))}},
                "logicalLocations": [{"fullyQualifiedName": result.urn, "kind": "resource"}],
            }
            if result.source.get("field"):
                location["message"] = {"text": f"{result.source['field']} in {result.source['file']}"}
            related = [{"id": 1, **rendered, "message": {"text": f"rendered resource in {artifacts[result.stack]}"}}]
        else:
            location, related = rendered, []
        # Stable across runs: the same finding keeps its fingerprint when its message or a waiver
        # note changes wording (two findings of one rule on one resource are told apart by order).
        key = (result.stack, result.rule, result.urn)
        seen[key] += 1
        entry: dict[str, Any] = {
            "ruleId": result.rule,
            "ruleIndex": index.get(result.rule, -1),
            "kind": "fail",
            "level": _sarif_level(result),
            "message": {"text": result.message or result.rule},
            "locations": [location],
            **({"relatedLocations": related} if related else {}),
            "partialFingerprints": {"govcloud/v2": f"{result.stack}|{result.rule}|{result.urn}|{seen[key]}"},
            "properties": {"stack": result.stack, "status": result.status, "resourceType": result.resource_type,
                           **({"note": result.note} if result.note else {})},
        }
        if result.waiver is not None:
            entry["suppressions"] = [{
                "kind": "external",
                "status": "accepted",
                "justification": f"{result.waiver.id} (approved by {result.waiver.approver}, expires {result.waiver.expires}): {result.waiver.reason}",
                "properties": {"waiver": result.waiver.as_dict()},
            }]
        results.append(entry)
    counts = Counter(r.status for r in report.results)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "govcloud-policy",
                "fullName": f"govcloud policy pack {report.pack['name']} {report.pack['version']}",
                "version": report.pack["version"],
                "semanticVersion": report.pack["version"],
                "informationUri": "https://govcloud.example.gov.cn/policy",
                "rules": descriptors,
            }},
            "invocations": [{
                "executionSuccessful": True,
                "properties": {"env": report.env, "today": report.today, "blocking": report.blocking,
                               "passed": counts.get("passed", 0), "packDigest": report.pack["digest"],
                               "configDigest": report.pack["config_digest"]},
            }],
            "artifacts": [{"location": {"uri": s.state_file}, "hashes": {"sha-256": s.digest.split(":", 1)[1]}} for s in report.stacks],
            "results": results,
            "properties": {"env": report.env},
        }],
    }
    return json.dumps(log, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# --- JUnit XML -----------------------------------------------------------------------------
def to_junit(report: CheckReport) -> str:
    """One testsuite per stack, one testcase per (rule, resource) verdict. Only what fails the
    check fails a test: a mandatory finding is a <failure>; an advisory finding (exit status 0)
    and a waived one are <skipped> with the reason, so CI dashboards agree with the exit status."""
    suites = ET.Element("testsuites", name=f"govcloud check {report.env}")
    totals: Counter[str] = Counter()
    for stack in report.stacks:
        counts = stack.counts
        advisory = sum(1 for r in stack.results if r.status == "failed" and not r.blocking)
        suite = ET.SubElement(suites, "testsuite", name=stack.stack, tests=str(len(stack.results)),
                              failures=str(stack.blocking), skipped=str(counts["waived"] + advisory), errors="0")
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="digest", value=stack.digest)
        for result in stack.results:
            case = ET.SubElement(suite, "testcase", classname=f"{stack.stack}.{result.rule}", name=f"{result.rule} {result.urn}")
            where = f"\n{result.source['file']}:{result.source['line']} {result.source['field']}" if result.source else ""
            if result.blocking:
                failure = ET.SubElement(case, "failure", message=result.message, type=result.enforcement)
                failure.text = result.message + (f"\n{result.note}" if result.note else "") + where
            elif result.status == "failed":
                skipped = ET.SubElement(case, "skipped", message=f"advisory (not enforced): {result.message}")
                skipped.text = result.message + (f"\n{result.note}" if result.note else "") + where
            elif result.status == "waived":
                waiver = result.waiver
                assert waiver is not None
                ET.SubElement(case, "skipped", message=f"waived by {waiver.id} until {waiver.expires}: {result.message}")
        totals.update({"tests": len(stack.results), "failures": stack.blocking, "skipped": counts["waived"] + advisory})
    for key in ("tests", "failures", "skipped"):
        suites.set(key, str(totals[key]))
    suites.set("errors", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# --- people --------------------------------------------------------------------------------
def print_table(report: CheckReport, console: Console) -> None:
    """The report for people. Every cell is a Text, never markup: messages quote resources and
    waiver reasons, and print as written on any console."""
    stacks = Table(title=Text(f"govcloud check: {report.env} (pack {report.pack['name']} {report.pack['version']}, as of {report.today})"))
    for column in ("stack", "kind", "passed", "failed", "waived", "verdict"):
        stacks.add_column(column, justify="right" if column in ("passed", "failed", "waived") else "left")
    for stack in report.stacks:
        counts = stack.counts
        verdict = Text("fail", style="red") if stack.blocking else Text("pass", style="green")
        stacks.add_row(*map(Text, (stack.stack, stack.kind, str(counts["passed"]), str(counts["failed"]), str(counts["waived"]))), verdict)
    console.print(stacks)
    findings = [r for r in report.results if r.status != "passed"]
    if findings:
        table = Table(title="findings")
        for column in ("stack", "rule", "status", "resource", "message"):
            table.add_column(column, overflow="fold")
        for r in findings:
            if r.status == "failed":
                status = Text("failed", style="red") if r.enforcement == "mandatory" else Text("advisory", style="yellow")
            else:
                status = styled("[cyan]waived[/] {} until {}", r.waiver.id, r.waiver.expires) if r.waiver else Text("waived")
            message = styled("{} [dim]({})[/]", r.message, r.note) if r.note else Text(r.message)
            table.add_row(Text(r.stack), Text(r.rule), status, Text(r.urn.rsplit("::", 1)[-1]), message)
        console.print(table)
    summary = Counter(r.status for r in report.results)
    verdict = styled("[bold red]FAIL[/]") if report.blocking else styled("[bold green]PASS[/]")
    console.print(verdict + Text(f": {plural(len(report.stacks), 'stack')}, {summary['passed']} passed, {summary['failed']} failed "
                                 f"({report.blocking} blocking), {summary['waived']} waived"))
