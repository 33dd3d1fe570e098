"""The drift report for people: a terminal table and Markdown (for a ticket or merge request)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from ..pages import value_text
from ..text import plural
from .run import DriftReport

MD_ITEMS = 50
MD_VALUE = 80


def _name(item: dict[str, Any]) -> str:
    return f"{item['kind']} {item['namespace'] + '/' if item['namespace'] else ''}{item['name']}"


def _value(change: dict[str, Any], side: str) -> str:
    if side == "live" and change.get("live_missing"):
        return "(absent)"
    text = value_text(change[side])
    return text if len(text) <= MD_VALUE else text[: MD_VALUE - 1] + "…"


def _md(text: str) -> str:
    """Inline code that user text cannot break out of."""
    return "`" + text.replace("`", "ˋ").replace("|", "\\|").replace("\n", " ") + "`"


def _who(item: dict[str, Any]) -> str:
    return ", ".join(f"{m['manager']} ({m['operation']} {m['time']})" for m in item.get("managers", []))


def summary_line(report: DriftReport) -> str:
    s = report.summary()
    if not s["drift"]:
        return f"no drift: {s['in_sync']} of {plural(s['objects'], 'object')} as rendered, nothing unmanaged"
    return (f"drift in {report.env}: {s['missing']} missing, {s['changed']} changed, {s['unmanaged']} unmanaged "
            f"({s['in_sync']} of {s['objects']} objects as rendered)")


def tables(report: DriftReport) -> list[Table]:
    out = []
    if report.drift.missing:
        t = Table(title="missing (declared, not on the cluster)")
        for column in ("stack", "cluster", "object"):
            t.add_column(column)
        for item in report.drift.missing:
            t.add_row(Text(item["stack"]), Text(item["cluster"]), Text(_name(item)))
        out.append(t)
    if report.drift.changed:
        t = Table(title="changed (live differs from the rendered desired state)")
        for column in ("stack", "cluster", "object", "field", "desired", "live", "changed by"):
            t.add_column(column)
        for item in report.drift.changed:
            for change in item["fields"]:
                t.add_row(Text(item["stack"]), Text(item["cluster"]), Text(_name(item)), Text(change["path"]),
                          Text(_value(change, "desired")), Text(_value(change, "live")), Text(_who(item)))
        out.append(t)
    if report.drift.unmanaged:
        t = Table(title="unmanaged (in tenant namespaces, declared by no stack)")
        for column in ("cluster", "object", "created or changed by"):
            t.add_column(column)
        for item in report.drift.unmanaged:
            t.add_row(Text(item["cluster"]), Text(_name(item)), Text(_who(item)))
        out.append(t)
    return out


def markdown(report: DriftReport) -> str:
    s = report.summary()
    lines = [f"# govcloud drift: {report.env}", "",
             f"{report.generated_at}; {plural(len(report.stacks), 'stack')} on {plural(len(report.clusters), 'cluster')}; "
             f"{plural(s['objects'], 'object')} declared.", "", f"**{summary_line(report)}**", ""]
    drift = report.drift
    if drift.missing:
        lines += ["## Missing", "", "| stack | cluster | object |", "| --- | --- | --- |"]
        lines += [f"| {_md(i['stack'])} | {_md(i['cluster'])} | {_md(_name(i))} |" for i in drift.missing[:MD_ITEMS]]
        lines += (["", f"… and {len(drift.missing) - MD_ITEMS} more (see the JSON)."] if len(drift.missing) > MD_ITEMS else []) + [""]
    if drift.changed:
        lines += ["## Changed", "", "| stack | object | field | desired | live | changed by |", "| --- | --- | --- | --- | --- | --- |"]
        rows = [(i, c) for i in drift.changed for c in i["fields"]]
        lines += [f"| {_md(i['stack'])} | {_md(i['cluster'] + ': ' + _name(i))} | {_md(c['path'])} | {_md(_value(c, 'desired'))} "
                  f"| {_md(_value(c, 'live'))} | {_md(_who(i)) if _who(i) else ''} |" for i, c in rows[:MD_ITEMS]]
        lines += (["", f"… and {len(rows) - MD_ITEMS} more (see the JSON)."] if len(rows) > MD_ITEMS else []) + [""]
    if drift.unmanaged:
        lines += ["## Unmanaged", "", "| cluster | object | created or changed by |", "| --- | --- | --- |"]
        lines += [f"| {_md(i['cluster'])} | {_md(_name(i))} | {_md(_who(i)) if _who(i) else ''} |" for i in drift.unmanaged[:MD_ITEMS]]
        lines += (["", f"… and {len(drift.unmanaged) - MD_ITEMS} more (see the JSON)."] if len(drift.unmanaged) > MD_ITEMS else []) + [""]
    return "\n".join(lines).rstrip() + "\n"
