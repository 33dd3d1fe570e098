"""Policy verdict changes between two check reports, and waiver changes between two sides.

Both sides are ``govcloud check`` results (the ``govcloud.check/v1`` JSON, or the same
dictionary in memory). A finding is one (stack, rule, resource, message) the pack reported
as failed or waived. New findings exist only after, fixed ones only before; a finding on both
sides whose status changed (a waiver now covers it, or no longer does) is listed as such.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

FINDING = ("failed", "waived")


def _key(result: dict[str, Any]) -> tuple[str, str, str, str]:
    return (str(result.get("stack")), str(result.get("rule")), str(result.get("urn")), str(result.get("message", "")))


def _findings(report: dict[str, Any] | None) -> dict[tuple, dict[str, Any]]:
    if not report:
        return {}
    return {_key(r): r for r in report.get("results", []) if r.get("status") in FINDING}


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    out = {k: result[k] for k in ("stack", "rule", "urn", "type", "status", "enforcement", "severity", "message", "note")
           if result.get(k) not in (None, "")}
    if result.get("waiver"):
        out["waiver"] = {k: result["waiver"][k] for k in ("id", "expires", "approver") if k in result["waiver"]}
    out["blocking"] = result.get("status") == "failed" and result.get("enforcement") == "mandatory"
    return out


def _sorted(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda f: (not f.get("blocking", False), f["stack"], f["rule"], f["urn"], f.get("message", "")))


def _totals(report: dict[str, Any] | None) -> dict[str, int]:
    findings = _findings(report).values()
    return {
        "failed": sum(1 for r in findings if r.get("status") == "failed"),
        "waived": sum(1 for r in findings if r.get("status") == "waived"),
        "blocking": sum(1 for r in findings if r.get("status") == "failed" and r.get("enforcement") == "mandatory"),
    }


def verdict_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    old, new = _findings(before), _findings(after)
    added = [_finding(new[k]) for k in new.keys() - old.keys()]
    fixed = [_finding(old[k]) for k in old.keys() - new.keys()]
    status = []
    for key in old.keys() & new.keys():
        a, b = old[key], new[key]
        if a.get("status") != b.get("status") or (a.get("waiver") or {}).get("id") != (b.get("waiver") or {}).get("id"):
            entry = _finding(b)
            entry["before"] = _finding(a)["status"]
            if a.get("waiver"):
                entry["waiver_before"] = a["waiver"].get("id")
            status.append(entry)
    stacks = sorted({f["stack"] for f in (*added, *fixed, *status)})
    return {
        "new_findings": _sorted(added),
        "fixed_findings": _sorted(fixed),
        "status_changes": _sorted(status),
        "stacks": stacks,
        "before": _totals(before),
        "after": _totals(after),
        "today": (after or before or {}).get("today"),
        "pack": (after or before or {}).get("pack"),
    }


# --- waivers -----------------------------------------------------------------------------------
WAIVER_FIELDS = ("rule", "scope", "reason", "approver", "created", "expires")


def waiver_record(waiver: Any) -> dict[str, Any]:
    """A waiver (model object or check-report dict) as plain JSON."""
    if hasattr(waiver, "model_dump"):
        return waiver.model_dump(mode="json", exclude_none=True)
    return {k: v for k, v in dict(waiver).items() if k in ("id", *WAIVER_FIELDS)}


def waiver_changes(before: Iterable[Any], after: Iterable[Any], today: dt.date, within_days: int) -> dict[str, Any]:
    old = {w["id"]: w for w in map(waiver_record, before)}
    new = {w["id"]: w for w in map(waiver_record, after)}
    changed = []
    for waiver_id in sorted(old.keys() & new.keys()):
        fields = [f for f in WAIVER_FIELDS if old[waiver_id].get(f) != new[waiver_id].get(f)]
        if fields:
            changed.append({"id": waiver_id, "fields": {f: {"old": old[waiver_id].get(f), "new": new[waiver_id].get(f)} for f in fields},
                            **{k: new[waiver_id].get(k) for k in ("rule", "scope", "approver", "expires")}})
    horizon = today + dt.timedelta(days=within_days)
    expiring, expired = [], []
    for waiver in sorted(new.values(), key=lambda w: (w.get("expires", ""), w["id"])):
        expires = dt.date.fromisoformat(str(waiver["expires"]))
        created = dt.date.fromisoformat(str(waiver.get("created", waiver["expires"])))
        if expires < today:
            expired.append({**waiver, "days_left": (expires - today).days})
        elif created <= today and expires <= horizon:
            expiring.append({**waiver, "days_left": (expires - today).days})
    return {
        "added": [new[k] for k in sorted(new.keys() - old.keys())],
        "removed": [old[k] for k in sorted(old.keys() - new.keys())],
        "changed": changed,
        "expiring": expiring,
        "expired": expired,
        "today": today.isoformat(),
        "within_days": within_days,
    }
