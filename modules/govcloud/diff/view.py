"""The diff report prepared for people: one view model for the Markdown and the HTML forms.

Both follow the same order: what destroys data first (namespace deletions), the summary (counts
per stack and per kind of change), then deletions and replacements, additions and updates,
zone flows, policy verdicts and waivers. Markdown stays short (``MD_ITEMS`` per list; the JSON
evidence has everything); HTML shows all. Values are plain text here: the templates escape.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..pages import pretty, value_text, zonemap
from ..text import plural
from .changes import OPS, ResourceChange
from .report import DiffReport

MD_ITEMS = 40  # resources listed per section in Markdown
MD_FIELDS = 8  # field changes listed per resource in Markdown
MD_VALUE = 80  # characters of a value in Markdown
SECTIONS = (("delete", "Deletions"), ("replace", "Replacements"), ("create", "Additions"), ("update", "Updates"))
OP_NOUNS = {"delete": "deletion", "replace": "replacement", "create": "addition", "update": "update"}


def _side(side: dict[str, Any]) -> str:
    if side.get("commit"):
        label = side.get("rev") or side["commit"][:12]
        return f"{label} ({side['commit'][:12]})" if label != side["commit"] else side["commit"][:12]
    return str(side.get("label") or side.get("rev") or side.get("path") or "?")


def title(report: DiffReport) -> str:
    source = report.source
    return f"govcloud diff: {report.env}, {_side(source.get('from', {}))} → {_side(source.get('to', {}))}"


def provenance(report: DiffReport) -> list[tuple[str, str]]:
    """Where the two sides come from, as (text | code, words) segments."""
    source = report.source
    mode = source.get("mode")
    if mode == "revisions":
        code = source.get("rendered_with", {})
        commit = code.get("commit")
        what = f"{commit[:12]}{' with local modifications' if code.get('modified') else ''}" if commit else f"govcloud {code.get('govcloud', '')}"
        plan = source.get("plan", {})
        how = ("every stack rendered on both sides" if plan.get("full") else
               f"{plural(plan.get('unchanged_not_rendered', 0), 'stack')} proven unchanged from their input digests, "
               f"{plan.get('rendered', {}).get('to', 0)} rendered")
        return [("text", f"Both sides rendered with the current code ({what}), so only inventory changes count; {how}.")]
    if mode == "preview":
        return [("text", "From "), ("code", "pulumi preview --json"), ("text", " (" + ", ".join(source.get("previews", [])) + ").")]
    return [("text", "Render directories "), ("code", str(source.get("from", {}).get("path"))), ("text", " → "),
            ("code", str(source.get("to", {}).get("path"))), ("text", ".")]


def _short(value: Any) -> str:
    text = value_text(value)
    return text if len(text) <= MD_VALUE else text[: MD_VALUE - 1] + "…"


def _short_pair(old: Any, new: Any) -> tuple[str, str]:
    """Both values cut to the part that differs when they are long (e.g. a JSON annotation)."""
    a, b = value_text(old), value_text(new)
    if len(a) <= MD_VALUE and len(b) <= MD_VALUE:
        return a, b
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    keep = MD_VALUE // 4
    begin = max(0, start - keep)

    def cut(text: str) -> str:
        middle = text[begin:len(text) - max(0, end - keep)]
        if len(middle) > MD_VALUE:
            middle = middle[:MD_VALUE - 1] + "…"
        return ("…" if begin else "") + middle + ("…" if end > keep else "")

    return cut(a), cut(b)


def field_view(field: dict[str, Any]) -> dict[str, Any]:
    """A field change with its full values (HTML) and values cut to what differs (Markdown)."""
    view = {"path": field["path"], "change": field["change"], "old": None, "new": None, "old_short": None, "new_short": None}
    if field["change"] != "add":
        view["old"] = value_text(field.get("old"))
    if field["change"] != "delete":
        view["new"] = value_text(field.get("new"))
    if field["change"] == "add":
        view["new_short"] = _short(field.get("new"))
    elif field["change"] == "delete":
        view["old_short"] = _short(field.get("old"))
    else:
        view["old_short"], view["new_short"] = _short_pair(field.get("old"), field.get("new"))
    return view


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(plural(counts[op], OP_NOUNS[op]) for op in OPS if counts[op]) or "no resource changes"


def _change_view(stack, change: ResourceChange) -> dict[str, Any]:
    return {"stack": stack.stack, "kind": change.kind, "name": change.name, "urn": change.urn, "cluster": change.cluster or "",
            "reasons": list(change.reasons), "warnings": list(change.warnings),
            "fields": [field_view(f.as_dict()) for f in change.fields],
            "object": pretty(change.inputs) if change.inputs is not None else None}


def _finding_view(finding: dict[str, Any], fixed: bool) -> dict[str, Any]:
    status, waiver, blocking = finding["status"], finding.get("waiver"), bool(finding.get("blocking"))
    note = f" ({waiver['id']} until {waiver.get('expires')})" if waiver else ""
    if status == "waived" and waiver:
        text = f"waived by {waiver['id']} until {waiver.get('expires')}"
    elif blocking:
        text = "failed, blocking" + note
    else:
        text = status + note
    before = ""
    if finding.get("before"):
        before = finding["before"] + (f" by {finding['waiver_before']}" if finding.get("waiver_before") else "")
    return {"rule": finding["rule"], "stack": finding["stack"], "urn": finding["urn"], "resource": finding["urn"].rsplit("::", 1)[-1],
            "status": f"was {text}" if fixed else text, "before": before, "blocking": blocking and not fixed,
            "severity": finding.get("severity", ""), "message": finding.get("message", ""), "note": finding.get("note", "")}


def _scope(waiver: dict[str, Any]) -> str:
    scope = waiver.get("scope") or {}
    return ", ".join(f"{k} {v}" for k, v in sorted(scope.items())) or "no scope"


def _namespace_warning(item: dict[str, Any]) -> str:
    verb = "Replacing" if item["op"] == "replace" else "Deleting"
    text = (f"{verb} namespace {item['namespace']}" + (f" on {item['cluster']}" if item["cluster"] else "")
            + " deletes everything inside it: " + (f"the {plural(item['objects'], 'object')} govcloud manages there, and " if item["objects"] else "")
            + "every workload, volume claim, secret and config map the department deployed there.")
    if item["renamed_to"]:
        text += (f" It looks like a rename to {item['renamed_to']}: Kubernetes cannot rename a namespace, and the new one starts empty;"
                 " move the department's workloads and data first.")
    elif item["op"] == "replace":
        text += " The namespace is made again, empty."
    return text


def view(report: DiffReport) -> dict[str, Any]:
    summary = report.summary()
    stacks = report.changed_stacks
    policy_line = None
    if summary["policy"] is not None:
        p = summary["policy"]
        policy_line = f"{plural(p['new_findings'], 'new finding')} ({p['new_blocking']} blocking), {p['fixed_findings']} fixed"
        if p["status_changes"]:
            policy_line += f", {p['status_changes']} waived/unwaived"
    waiver_line = None
    if summary["waivers"] is not None:
        w = summary["waivers"]
        parts = [f"{w[k]} {k}" for k in ("added", "removed", "changed") if w[k]]
        if w["expiring"]:
            assert report.waivers is not None
            parts.append(f"{w['expiring']} expiring within {report.waivers['within_days']} days")
        waiver_line = ", ".join(parts) or None
    sections = []
    for op, heading in SECTIONS:
        items = report.changes(op)
        if not items:
            continue
        whole_status = {"create": "added", "delete": "removed"}.get(op)
        whole = [s for s in stacks if s.status == whole_status]
        sections.append({
            "op": op, "heading": heading, "count": len(items),
            # A stack added or removed whole is one line in Markdown: what it holds, by kind.
            "whole": [{"stack": s.stack, "verb": "added" if op == "create" else "removed",
                       "kinds": ", ".join(f"{n} {k}" for k, n in sorted(Counter(c.kind for c in s.changes if c.op == op).items()))}
                      for s in whole],
            "items": [_change_view(s, c) for s, c in items],
            "md_items": [_change_view(s, c) for s, c in items if s not in whole],
        })
    tenants = []
    for row in report.tenants:
        tenants.append({
            "tenant": row["tenant"], "department": row.get("department", ""), "status": row["status"],
            "requested_by": row.get("requested_by", ""), "reason": row.get("reason", ""),
            "approvals": [" ".join(str(a.get(k)) for k in ("reference", "by", "role", "date") if a.get(k)) for a in row.get("approvals", [])],
            "request_changes": [field_view(c) for c in row.get("request_changes", [])],
        })
    network = report.network or {}
    touched = [f for f in network.get("flows", []) if f["status"] != "unchanged"]
    zone_map = None
    if network.get("zones"):
        zones = [{"id": z["id"], "state": "changed" if z.get("changed") else "unchanged",
                  "note": (f"{plural(z['stacks_changed'], 'stack')} {'changes' if z['stacks_changed'] == 1 else 'change'}"
                           if z.get("stacks_changed") else (z.get("kind") or "") if z.get("kind") != z["id"] else "")}
                 for z in network["zones"]]
        flows = [{"from": f["from"], "to": f["to"], "label": f["label"], "state": f["status"]} for f in network.get("flows", [])]
        zone_map = zonemap.layout(zones, flows, title=f"zones and flows of {report.env}: what this change touches")
    policy = None
    if report.policy is not None:
        pol = report.policy
        pack = pol.get("pack") or {}
        policy = {
            "meta": (f"Pack {pack.get('name', '')} {pack.get('version', '')}, waivers judged on {pol.get('today')}. "
                     f"Findings before: {pol['before']['failed']} failed ({pol['before']['blocking']} blocking), "
                     f"{pol['before']['waived']} waived; after: {pol['after']['failed']} failed "
                     f"({pol['after']['blocking']} blocking), {pol['after']['waived']} waived (stacks checked)."),
            "groups": [{"key": key, "heading": heading, "items": [_finding_view(f, key == "fixed_findings") for f in pol[key]]}
                       for key, heading in (("new_findings", "New findings"), ("fixed_findings", "Fixed findings"),
                                            ("status_changes", "Waived or unwaived")) if pol[key]],
        }
    waivers = None
    if report.waivers:
        ws = report.waivers
        rows = []
        for key in ("added", "removed", "changed", "expiring", "expired"):
            for waiver in ws[key]:
                if key == "changed":
                    detail = "; ".join(f"{k}: {value_text(v['old'])} → {value_text(v['new'])}" for k, v in waiver["fields"].items())
                elif key == "expiring":
                    detail = f"expires {waiver['expires']} ({waiver['days_left']} days from {ws['today']})"
                elif key == "expired":
                    detail = f"expired on {waiver['expires']}"
                else:
                    detail = waiver.get("reason", "")
                rows.append({"change": key, "id": waiver["id"], "rule": waiver.get("rule", ""), "scope": _scope(waiver),
                             "approver": waiver.get("approver", ""), "expires": waiver.get("expires", ""), "reason": waiver.get("reason", ""),
                             "detail": detail, "warn": key in ("expiring", "expired")})
        waivers = {"rows": rows, "within_days": ws["within_days"], "today": ws["today"]}
    deletions = report.namespace_deletions()
    return {
        "title": title(report), "provenance": provenance(report), "env": report.env,
        "no_changes": report.no_changes, "summary": summary,
        "headline": f"{len(stacks)} of {summary['stacks_compared']} stacks change",
        "counts": counts_text(summary["resources"]), "policy_line": policy_line, "waiver_line": waiver_line,
        "cards": [(summary["stacks_changed"], f"of {summary['stacks_compared']} stacks change")]
                 + [(summary["resources"][op], f"{OP_NOUNS[op]}s") for op in OPS]
                 + ([(summary["policy"]["new_findings"], "new findings"), (summary["policy"]["new_blocking"], "new blocking"),
                     (summary["policy"]["fixed_findings"], "fixed findings")] if summary["policy"] is not None else []),
        "namespace_deletions": [{**d, "text": _namespace_warning(d)} for d in deletions],
        "stacks": [{"stack": s.stack, "status": s.status, "counts": [s.counts()[op] for op in OPS]} for s in stacks],
        "ops": OPS, "tenants": tenants, "sections": sections,
        "flows": [{"label": f["label"], "status": f["status"], "opened_by": f["opened_by"], "closed_by": f["closed_by"]} for f in touched],
        "zone_map": zone_map, "policy": policy, "policy_note": report.policy_note, "waivers": waivers,
        "md_items": MD_ITEMS, "md_fields": MD_FIELDS,
    }
