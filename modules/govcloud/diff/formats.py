"""The diff report for people: Markdown for a merge-request comment, a self-contained HTML page.

Both follow the same order: the summary (counts per stack and per kind of change), then
deletions and replacements, then additions and updates, then policy verdicts and waivers.
Markdown stays short (long lists are cut, the JSON evidence has everything); HTML shows all.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..webpage import esc, page, table, value_text, zone_map
from .changes import OPS, ResourceChange, StackDiff
from .report import DiffReport
from ..text import plural

MD_ITEMS = 40  # resources listed per section in Markdown
MD_FIELDS = 8  # field changes listed per resource in Markdown
MD_VALUE = 80  # characters of a value in Markdown
SECTIONS = (("delete", "Deletions"), ("replace", "Replacements"), ("create", "Additions"), ("update", "Updates"))


def _side(side: dict[str, Any]) -> str:
    if side.get("commit"):
        label = side.get("rev") or side["commit"][:12]
        return f"{label} ({side['commit'][:12]})" if label != side["commit"] else side["commit"][:12]
    return str(side.get("label") or side.get("rev") or side.get("path") or "?")


def title(report: DiffReport) -> str:
    source = report.source
    return f"govcloud diff: {report.env}, {_side(source.get('from', {}))} → {_side(source.get('to', {}))}"


def provenance(report: DiffReport) -> str:
    source = report.source
    mode = source.get("mode")
    if mode == "revisions":
        code = source.get("rendered_with", {})
        commit = code.get("commit")
        what = f"{commit[:12]}{' with local modifications' if code.get('modified') else ''}" if commit else f"govcloud {code.get('govcloud', '')}"
        plan = source.get("plan", {})
        how = ("every stack rendered on both sides" if plan.get("full") else
               f"{plan.get('unchanged_not_rendered', 0)} stacks proven unchanged from their input digests, "
               f"{plan.get('rendered', {}).get('to', 0)} rendered")
        return (f"Both sides rendered with the current code ({what}), so only inventory changes count; {how}.")
    if mode == "preview":
        return "From `pulumi preview --json` (" + ", ".join(source.get("previews", [])) + ")."
    return f"Render directories {source.get('from', {}).get('path')} → {source.get('to', {}).get('path')}."


def _short(value: Any) -> str:
    text = value_text(value)
    return text if len(text) <= MD_VALUE else text[: MD_VALUE - 1] + "…"


def _md_code(text: str) -> str:
    return "`" + text.replace("`", "ˋ") + "`"


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


def _field_line(field: dict[str, Any]) -> str:
    if field["change"] == "add":
        return f"{_md_code(field['path'])}: added {_md_code(_short(field['new']))}"
    if field["change"] == "delete":
        return f"{_md_code(field['path'])}: removed (was {_md_code(_short(field['old']))})"
    old, new = _short_pair(field["old"], field["new"])
    return f"{_md_code(field['path'])}: {_md_code(old)} → {_md_code(new)}"


def _what(change: ResourceChange) -> str:
    return f"{change.kind} {_md_code(change.name)}" + (f" on {change.cluster}" if change.cluster else "")


def _counts(counts: dict[str, int]) -> str:
    names = {"delete": "deletion", "replace": "replacement", "create": "addition", "update": "update"}
    parts = [f"{counts[op]} {names[op]}{'s' if counts[op] != 1 else ''}" for op in OPS if counts[op]]
    return ", ".join(parts) or "no resource changes"


def to_markdown(report: DiffReport) -> str:
    out = [f"### {title(report)}", "", provenance(report), ""]
    summary = report.summary()
    if report.no_changes:
        out += [f"**No changes**: the desired state of all {summary['stacks_compared']} stacks, the policy verdicts and "
                "the waivers are the same on both sides.", ""]
        return "\n".join(out)
    stacks = report.changed_stacks
    line = f"**{len(stacks)} of {summary['stacks_compared']} stacks change**: {_counts(summary['resources'])}"
    if summary["policy"] is not None:
        policy = summary["policy"]
        line += (f" · policy: {plural(policy['new_findings'], 'new finding')} ({policy['new_blocking']} blocking), "
                 f"{policy['fixed_findings']} fixed")
        if policy["status_changes"]:
            line += f", {policy['status_changes']} waived/unwaived"
    if summary["waivers"] is not None:
        waivers = summary["waivers"]
        parts = [f"{waivers[k]} {k}" for k in ("added", "removed", "changed") if waivers[k]]
        if waivers["expiring"]:
            parts.append(f"{waivers['expiring']} expiring within {report.waivers['within_days']} days")
        if parts:
            line += " · waivers: " + ", ".join(parts)
    out += [line, ""]
    if stacks:
        out += ["| stack | status | delete | replace | create | update |", "| --- | --- | ---: | ---: | ---: | ---: |"]
        for stack in stacks[:MD_ITEMS]:
            counts = stack.counts()
            out.append(f"| {_md_code(stack.stack)} | {stack.status} | " + " | ".join(str(counts[op]) for op in OPS) + " |")
        if len(stacks) > MD_ITEMS:
            out.append(f"| … {len(stacks) - MD_ITEMS} more stacks | | | | | |")
        out.append("")
    if report.tenants:
        out += ["#### Tenant requests", "", "| tenant | change | requested by | reason | approvals | request changes |",
                "| --- | --- | --- | --- | --- | --- |"]
        for row in report.tenants[:MD_ITEMS]:
            approvals = "; ".join(" ".join(str(a.get(k)) for k in ("reference", "by", "role", "date") if a.get(k))
                                  for a in row.get("approvals", [])) or "none"
            reason = str(row.get("reason", "")).replace("|", "\\|")
            edits = row.get("request_changes", [])
            edited = "; ".join(_field_line(c) for c in edits[:3]) + (f"; … {len(edits) - 3} more" if len(edits) > 3 else "")
            edited = edited.replace("|", "\\|")
            out.append(f"| {_md_code(row['tenant'])} | {row['status']} | {row.get('requested_by', '')} | {reason} | {approvals} "
                       f"| {edited} |")
        if len(report.tenants) > MD_ITEMS:
            out.append(f"| … {len(report.tenants) - MD_ITEMS} more | | | | | |")
        out.append("")
    for op, heading in SECTIONS:
        items = report.changes(op)
        if not items:
            continue
        out += [f"#### {heading} ({len(items)})", ""]
        # A stack added or removed whole is one line: what it holds, by kind.
        whole = [s for s in report.changed_stacks if s.status == {"create": "added", "delete": "removed"}.get(op)]
        for stack in whole:
            kinds = Counter(c.kind for c in stack.changes if c.op == op)
            verb = "added" if op == "create" else "removed"
            out.append(f"- {_md_code(stack.stack)} {verb} whole: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
        items = [(s, c) for s, c in items if s not in whole]
        for stack, change in items[:MD_ITEMS]:
            line = f"- {_md_code(stack.stack)} {_what(change)}"
            if change.reasons:
                line += " — replaced because " + ", ".join(_md_code(r) for r in change.reasons) + " changes"
            out.append(line)
            for warning in change.warnings:
                out.append(f"  - ⚠ {warning}")
            if op in ("replace", "update"):
                for field in [f.as_dict() for f in change.fields][:MD_FIELDS]:
                    out.append(f"  - {_field_line(field)}")
                if len(change.fields) > MD_FIELDS:
                    out.append(f"  - … {len(change.fields) - MD_FIELDS} more fields")
        if len(items) > MD_ITEMS:
            out.append(f"- … {len(items) - MD_ITEMS} more (see the JSON evidence)")
        out.append("")
    out += _md_flows(report)
    out += _md_policy(report)
    out += _md_waivers(report)
    return "\n".join(out).rstrip() + "\n"


def _md_flows(report: DiffReport) -> list[str]:
    touched = [f for f in (report.network or {}).get("flows", []) if f["status"] != "unchanged"]
    if not touched:
        return []
    out = [f"#### Zone flows ({len(touched)})", ""]
    for flow in touched[:MD_ITEMS]:
        line = f"- {_md_code(flow['label'])}: {flow['status']}"
        for key, verb in (("opened_by", "opened by"), ("closed_by", "closed by")):
            if flow[key]:
                names = flow[key]
                line += f"; {verb} " + ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        out.append(line)
    if len(touched) > MD_ITEMS:
        out.append(f"- … {len(touched) - MD_ITEMS} more")
    return out + [""]


def _md_finding(finding: dict[str, Any], fixed: bool = False) -> str:
    status = finding["status"]
    if status == "waived" and finding.get("waiver"):
        status = f"waived by {finding['waiver']['id']} until {finding['waiver'].get('expires')}"
    elif finding.get("blocking"):
        status = "failed, blocking" if fixed else "**failed, blocking**"
    if fixed:
        status = f"was {status}"
    if finding.get("before"):
        was = finding["before"] + (f" by {finding['waiver_before']}" if finding.get("waiver_before") else "")
        status = f"{was} → {status}"
    message = str(finding.get("message", "")).replace("|", "\\|")
    return f"| {finding['rule']} | {_md_code(finding['stack'])} | {_md_code(finding['urn'].rsplit('::', 1)[-1])} | {status} | {message} |"


def _md_policy(report: DiffReport) -> list[str]:
    if report.policy is None:
        return [f"_Policy verdicts not compared: {report.policy_note}_", ""] if report.policy_note else []
    policy = report.policy
    if not (policy["new_findings"] or policy["fixed_findings"] or policy["status_changes"]):
        return ["#### Policy verdicts", "", "No verdict changes.", ""]
    out = ["#### Policy verdicts", ""]
    for key, heading in (("new_findings", "New findings"), ("fixed_findings", "Fixed findings"), ("status_changes", "Waived or unwaived")):
        items = policy[key]
        if not items:
            continue
        out += [f"{heading} ({len(items)}):", "", "| rule | stack | resource | status | message |", "| --- | --- | --- | --- | --- |"]
        out += [_md_finding(f, fixed=key == "fixed_findings") for f in items[:MD_ITEMS]]
        if len(items) > MD_ITEMS:
            out.append(f"| … {len(items) - MD_ITEMS} more | | | | |")
        out.append("")
    return out


def _md_waivers(report: DiffReport) -> list[str]:
    waivers = report.waivers
    if not waivers or not any(waivers[k] for k in ("added", "removed", "changed", "expiring", "expired")):
        return []
    out = ["#### Waivers", ""]
    for waiver in waivers["added"]:
        out.append(f"- added {waiver['id']} ({waiver['rule']}, {_scope(waiver)}), approved by {waiver.get('approver')}, "
                   f"expires {waiver.get('expires')}: {waiver.get('reason', '')}")
    for waiver in waivers["removed"]:
        out.append(f"- removed {waiver['id']} ({waiver['rule']}, {_scope(waiver)})")
    for waiver in waivers["changed"]:
        fields = ", ".join(f"{k} {value_text(v['old'])} → {value_text(v['new'])}" for k, v in waiver["fields"].items())
        out.append(f"- changed {waiver['id']}: {fields}")
    for waiver in waivers["expiring"]:
        out.append(f"- ⚠ {waiver['id']} ({waiver['rule']}, {_scope(waiver)}) expires {waiver['expires']} "
                   f"({waiver['days_left']} days from {waivers['today']})")
    for waiver in waivers["expired"]:
        out.append(f"- ⚠ {waiver['id']} ({waiver['rule']}, {_scope(waiver)}) expired on {waiver['expires']}")
    return out + [""]


def _scope(waiver: dict[str, Any]) -> str:
    scope = waiver.get("scope") or {}
    return ", ".join(f"{k} {v}" for k, v in sorted(scope.items())) or "no scope"


# --- HTML ------------------------------------------------------------------------------------------
def _html_fields(change: ResourceChange) -> str:
    if not change.fields:
        return ""
    rows = []
    for field in change.fields:
        old = "" if field.change == "add" else f"<code>{esc(value_text(field.old))}</code>"
        new = "" if field.change == "delete" else f"<code>{esc(value_text(field.new))}</code>"
        rows.append([f"<code>{esc(field.path)}</code>", esc(field.change), old, new])
    return table(("field", "change", "old", "new"), rows)


def _html_change(stack: StackDiff, change: ResourceChange) -> list[str]:
    details = ""
    if change.reasons:
        details += "<p>replaced because " + ", ".join(f"<code>{esc(r)}</code>" for r in change.reasons) + " changes</p>"
    for warning in change.warnings:
        details += f'<p class="warn">⚠ {esc(warning)}</p>'
    details += _html_fields(change)
    if change.inputs is not None:
        details += (f"<details><summary>object</summary><pre>{esc(value_text_pretty(change.inputs))}</pre></details>")
    return [f"<code>{esc(stack.stack)}</code>", esc(change.kind), f"<code>{esc(change.name)}</code>", esc(change.cluster or ""), details]


def value_text_pretty(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


def _html_findings(items: list[dict[str, Any]], fixed: bool = False) -> str:
    rows = []
    for finding in items:
        status = esc(finding["status"])
        if finding.get("waiver"):
            status += f" ({esc(finding['waiver']['id'])} until {esc(finding['waiver'].get('expires'))})"
        if finding.get("blocking"):
            status = f"was {status}, blocking" if fixed else f'<span class="bad">{status}, blocking</span>'
        elif fixed:
            status = f"was {status}"
        if finding.get("before"):
            status = f"{esc(finding['before'])} → {status}"
        name = finding["urn"].rsplit("::", 1)[-1]
        rows.append([esc(finding["rule"]), f"<code>{esc(finding['stack'])}</code>", f'<code title="{esc(finding["urn"])}">{esc(name)}</code>',
                     status, esc(finding.get("severity", "")), esc(finding.get("message", "")) +
                     (f'<br><span class="muted">{esc(finding["note"])}</span>' if finding.get("note") else "")])
    return table(("rule", "stack", "resource", "status", "severity", "message"), rows)


def _map_svg(report: DiffReport) -> str:
    network = report.network or {}
    zones = [{"id": z["id"], "kind": z.get("kind"), "state": "changed" if z.get("changed") else "unchanged",
              "note": (f"{plural(z['stacks_changed'], 'stack')} {'changes' if z['stacks_changed'] == 1 else 'change'}" if z.get("stacks_changed")
                       else (z.get("kind") or "") if z.get("kind") != z["id"] else "")}
             for z in network.get("zones", [])]
    flows = [{"from": f["from"], "to": f["to"], "label": f["label"], "state": f["status"]} for f in network.get("flows", [])]
    if not zones:
        return '<p class="muted">No zone information in the compared states.</p>'
    touched = [f for f in network.get("flows", []) if f["status"] != "unchanged"]
    rows = [[f"<code>{esc(f['label'])}</code>", f'<span class="st-{esc(f["status"])}">{esc(f["status"])}</span>',
             esc(", ".join(f["opened_by"])), esc(", ".join(f["closed_by"]))] for f in touched]
    listing = table(("flow", "status", "opened by", "closed by"), rows) if rows else "<p>No flow changes.</p>"
    return zone_map(zones, flows, title=f"zones and flows of {report.env}: what this change touches") + listing


def to_html(report: DiffReport) -> str:
    summary = report.summary()
    body = [f"<h1>{esc(title(report))}</h1>", f'<p class="meta">{esc(provenance(report))}</p>']
    if report.no_changes:
        body.append(f'<p id="no-changes"><b>No changes</b>: the desired state of all {summary["stacks_compared"]} stacks, '
                    "the policy verdicts and the waivers are the same on both sides.</p>")
    cards = [(summary["stacks_changed"], f"of {summary['stacks_compared']} stacks change")]
    cards += [(summary["resources"][op], name) for op, name in (("delete", "deletions"), ("replace", "replacements"),
                                                               ("create", "additions"), ("update", "updates"))]
    if summary["policy"] is not None:
        cards += [(summary["policy"]["new_findings"], "new findings"), (summary["policy"]["new_blocking"], "new blocking"),
                  (summary["policy"]["fixed_findings"], "fixed findings")]
    body.append('<h2 id="summary">Summary</h2><div class="cards">' +
                "".join(f'<div class="card"><b>{n}</b>{esc(label)}</div>' for n, label in cards) + "</div>")
    if report.changed_stacks:
        body.append(table(("stack", "status", *OPS), [
            [f"<code>{esc(s.stack)}</code>", f'<span class="st-{esc(s.status)}">{esc(s.status)}</span>',
             *(str(s.counts()[op]) for op in OPS)] for s in report.changed_stacks], numeric=(2, 3, 4, 5), attrs='id="stacks"'))
    body.append('<h2 id="zones">Zones and flows</h2>' + _map_svg(report))
    if report.tenants:
        rows = []
        for row in report.tenants:
            approvals = "<br>".join(esc(" ".join(str(a.get(k)) for k in ("reference", "by", "role", "date") if a.get(k)))
                                    for a in row.get("approvals", [])) or '<span class="warn">none</span>'
            changed = ""
            if row.get("request_changes"):
                changed = "<details><summary>request changes</summary>" + table(
                    ("field", "old", "new"), [[f"<code>{esc(c['path'])}</code>", esc(value_text(c.get("old", ""))),
                                               esc(value_text(c.get("new", "")))] for c in row["request_changes"]]) + "</details>"
            rows.append([f"<code>{esc(row['tenant'])}</code>", esc(row.get("department", "")), esc(row["status"]),
                         esc(row.get("requested_by", "")), esc(row.get("reason", "")), approvals, changed])
        body.append('<h2 id="tenants">Tenant requests</h2>' + table(
            ("tenant", "department", "change", "requested by", "reason", "approvals", "request"), rows))
    for op, heading in SECTIONS:
        items = report.changes(op)
        if items:
            body.append(f'<h2 id="{op}" class="op-{op}">{heading} ({len(items)})</h2>' + table(
                ("stack", "kind", "name", "cluster", "details"), [_html_change(s, c) for s, c in items]))
    if report.policy is not None:
        policy = report.policy
        body.append('<h2 id="policy">Policy verdicts</h2>')
        body.append(f'<p class="meta">Pack {esc((policy.get("pack") or {}).get("name", ""))} '
                    f'{esc((policy.get("pack") or {}).get("version", ""))}, waivers judged on {esc(policy.get("today"))}. '
                    f'Findings before: {policy["before"]["failed"]} failed ({policy["before"]["blocking"]} blocking), '
                    f'{policy["before"]["waived"]} waived; after: {policy["after"]["failed"]} failed '
                    f'({policy["after"]["blocking"]} blocking), {policy["after"]["waived"]} waived (stacks checked).</p>')
        any_change = False
        for key, heading in (("new_findings", "New findings"), ("fixed_findings", "Fixed findings"),
                             ("status_changes", "Waived or unwaived")):
            if policy[key]:
                any_change = True
                body.append(f'<h3 id="{key}">{heading} ({len(policy[key])})</h3>'
                            + _html_findings(policy[key], fixed=key == "fixed_findings"))
        if not any_change:
            body.append("<p>No verdict changes.</p>")
    elif report.policy_note:
        body.append(f'<h2 id="policy">Policy verdicts</h2><p class="muted">Not compared: {esc(report.policy_note)}</p>')
    body.append(_html_waivers(report))
    body.append(f'<p class="meta">govcloud.diff/v1 · {summary["stacks_compared"]} stacks compared · the JSON form of this '
                "report is the archivable evidence.</p>")
    return page(title(report), "".join(body))


def _html_waivers(report: DiffReport) -> str:
    waivers = report.waivers
    if not waivers:
        return ""
    rows = []
    for key in ("added", "removed", "changed", "expiring", "expired"):
        for waiver in waivers[key]:
            detail = waiver.get("reason", "")
            if key == "changed":
                detail = "; ".join(f"{k}: {value_text(v['old'])} → {value_text(v['new'])}" for k, v in waiver["fields"].items())
            elif key in ("expiring", "expired"):
                detail = f"expires {waiver['expires']} ({waiver['days_left']} days from {waivers['today']})"
            css = "warn" if key in ("expiring", "expired") else "st-" + {"added": "added", "removed": "removed"}.get(key, "changed")
            rows.append([f'<span class="{css}">{esc(key)}</span>', esc(waiver["id"]), esc(waiver.get("rule", "")),
                         esc(_scope(waiver)), esc(waiver.get("approver", "")), esc(waiver.get("expires", "")), esc(detail)])
    if not rows:
        return '<h2 id="waivers">Waivers</h2><p>No waiver changes; none expires within ' + esc(waivers["within_days"]) + " days.</p>"
    return '<h2 id="waivers">Waivers</h2>' + table(("", "waiver", "rule", "scope", "approver", "expires", "detail"), rows)
