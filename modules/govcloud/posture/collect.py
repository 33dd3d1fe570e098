"""The posture data: one JSON document (``govcloud.posture/v1``) the HTML page is drawn from.

Inputs are the model, the check results (``govcloud.check/v1``), the host baseline
verification (``govcloud baseline verify`` JSON, when there is one), the review certificates on
disk and the ledger's latest tree head. The clock is explicit (``today``): the same inputs
give the same document, and "expiring within 30 days" can be tested.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ..model import Environment, codes
from ..model.environment import RESOURCE_KINDS
from ..model.loader import display_path

FORMAT = "govcloud.posture/v1"
STATUSES = ("passed", "failed", "waived")


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(str(text)[:10])


def _warning(days_left: int, within: int) -> str | None:
    if days_left < 0:
        return "expired"
    if days_left <= within:
        return "expiring"
    return None


def certificate_window(env: Environment, within: int) -> int:
    """Days before expiry a review certificate is "expiring": the report's window, but at most a
    third of the certificates' validity (renew at two thirds of the lifetime, as cert-manager
    does), so a certificate is never "expiring" the day it is issued."""
    return min(within, env.platform.policy.certificate_validity_days // 3)


# --- tenants ---------------------------------------------------------------------------------------
def tenants_by_region_and_zone(env: Environment) -> dict[str, Any]:
    zones = [z.id for z in env.platform.zones]
    counts: dict[str, Counter] = defaultdict(Counter)
    for tenant in env.tenants:
        counts[tenant.region][tenant.zone] += 1
    rows: list[dict[str, Any]] = []
    for region in sorted(env.platform.regions, key=lambda r: r.code):
        row = {z: counts[region.code].get(z, 0) for z in zones}
        rows.append({"region": region.code, "name": region.name, "level": codes.region_level(region.code),
                     "parent": region.parent, "zones": row, "total": sum(row.values())})
    return {"zones": zones, "rows": rows, "totals": {z: sum(r["zones"][z] for r in rows) for z in zones},
            "total": len(env.tenants)}


def _results_by_stack(check: dict[str, Any]) -> dict[str, Counter]:
    found: dict[str, Counter] = defaultdict(Counter)
    for result in check.get("results", []):
        found[result["stack"]][result["status"]] += 1
        if result["status"] == "failed" and result.get("enforcement") == "mandatory":
            found[result["stack"]]["blocking"] += 1
    return found


def tenant_rows(env: Environment, check: dict[str, Any], certificates: dict[str, dict[str, Any]], today: dt.date,
                within: int) -> list[dict[str, Any]]:
    results = _results_by_stack(check)
    checked = {s["stack"] for s in check.get("stacks", [])}
    regions = {r.code: r.name for r in env.platform.regions}
    rows = []
    for stack in (s for s in env.stacks if s.kind == "tenant"):
        assert stack.tenant is not None
        tenant = env.tenant(stack.tenant)
        counts = results.get(stack.name, Counter())
        review_by = tenant.request.change.review_by
        row = {
            "tenant": tenant.id, "stack": stack.name, "department": tenant.department,
            "region": tenant.region, "region_name": regions.get(tenant.region, ""), "zone": tenant.zone,
            "cluster": tenant.cluster, "mlps_level": tenant.level,
            "checked": stack.name in checked,
            **{status: counts.get(status, 0) for status in STATUSES}, "blocking": counts.get("blocking", 0),
            "review_by": review_by.isoformat(), "review_due": _warning((review_by - today).days, within),
            "certificate": (certificates.get(stack.name) or {}).get("state", "none"),
        }
        row["verdict"] = "not checked" if not row["checked"] else ("fail" if row["blocking"] else "pass")
        rows.append(row)
    return rows


# --- compliance per rule ---------------------------------------------------------------------------
def rule_rows(check: dict[str, Any]) -> list[dict[str, Any]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    failing: dict[str, set[str]] = defaultdict(set)
    for result in check.get("results", []):
        counts[result["rule"]][result["status"]] += 1
        if result["status"] == "failed":
            failing[result["rule"]].add(result["stack"])
    rows = []
    for rule in check.get("rules", []):
        rule_id = rule["id"]
        rows.append({
            "id": rule_id, "title": rule.get("title", ""), "standard": rule.get("standard", ""),
            "severity": rule.get("severity", ""), "enforcement": rule.get("enforcement", ""),
            "clause": rule.get("clause", ""),
            **{status: counts[rule_id].get(status, 0) for status in STATUSES},
            "stacks_failing": sorted(failing[rule_id]),
            # A rule with no verdict looked at nothing it concerns (no Ingress, no dataset...).
            "applicable": sum(counts[rule_id].values()) > 0,
        })
    return sorted(rows, key=lambda r: r["id"])


# --- host controls -----------------------------------------------------------------------------------
def host_rows(baseline: dict[str, Any]) -> dict[str, Any]:
    controls = [{"id": c, **{k: v for k, v in meta.items() if k in ("title", "clause", "role")}}
                for c, meta in sorted(baseline.get("controls", {}).items())]
    rows = []
    for name, host in sorted(baseline.get("hosts", {}).items()):
        statuses = {c: r.get("status", "") for c, r in host.get("controls", {}).items()}
        failing = {c: [e for e in r.get("evidence", []) if str(e).startswith("FAIL")] for c, r in host.get("controls", {}).items()
                   if r.get("status") == "fail"}
        rows.append({"host": name, "zone": host.get("zone"), "role": host.get("role"), "mlps_level": host.get("mlps_level"),
                     "controls": statuses, "pass": sum(1 for s in statuses.values() if s == "pass"),
                     "fail": sum(1 for s in statuses.values() if s == "fail"), "failing": failing})
    return {"generated_at": baseline.get("generated_at"), "summary": baseline.get("summary", {}), "controls": controls, "hosts": rows}


# --- early warning -------------------------------------------------------------------------------------
def waiver_rows(env: Environment, check: dict[str, Any], today: dt.date, within: int) -> list[dict[str, Any]]:
    applied = {w["id"]: w.get("applied", False) for w in check.get("waivers", [])}
    rows = []
    for waiver in sorted(env.waivers, key=lambda w: (w.expires, w.id)):
        days_left = (waiver.expires - today).days
        rows.append({"id": waiver.id, "rule": waiver.rule, "scope": waiver.scope.model_dump(exclude_none=True),
                     "approver": waiver.approver, "reason": waiver.reason, "created": waiver.created.isoformat(),
                     "expires": waiver.expires.isoformat(), "days_left": days_left, "applied": applied.get(waiver.id, False),
                     "warning": _warning(days_left, within)})
    return rows


def certificate_rows(env: Environment, reviews: Path, trust_store: Path | None, today: dt.date, within: int) -> list[dict[str, Any]]:
    """Every review certificate of the environment on disk: signature, signer and expiry as of ``today``."""
    from .. import review, signing

    directory = reviews / env.name
    if not directory.is_dir():
        return []
    trust: dict = {}
    trust_problem = None
    if trust_store is not None and trust_store.is_dir():
        try:
            trust = review.load_trust_store(trust_store)
        except signing.KeyProblem as problem:
            trust_problem = str(problem)
    else:
        trust_problem = f"no trust store at {trust_store}" if trust_store is not None else "no trust store"
    # As of the end of the report's day: a certificate issued that day is not "issued in the future";
    # expiry is judged in whole days below.
    moment = dt.datetime.combine(today, dt.time.max, tzinfo=dt.timezone.utc)
    team = {p.account for p in env.platform.policy.security_team}
    rows = []
    for path in sorted(directory.glob(f"*{review.CERT_SUFFIX}")):
        try:
            document, problems = review.read_certificate(path)
        except review.MalformedCertificate as malformed:
            document, problems = None, [str(malformed)]
        row: dict[str, Any] = {"file": display_path(path), "stack": path.name[: -len(review.CERT_SUFFIX)]}
        if document is not None:
            row.update({"stack": document.get("stack", row["stack"]), "reviewer": (document.get("reviewer") or {}).get("account"),
                        "issued_at": document.get("issued_at"), "expires_at": document.get("expires_at")})
            if trust_problem is None:
                problems = problems + [p for p in review.verify_document(document, trust, team, moment) if not p.startswith("expired at")]
            else:
                problems = problems + [f"signature not checked: {trust_problem}"]
        if row.get("expires_at"):
            row["days_left"] = (_day(row["expires_at"]) - today).days
            row["warning"] = _warning(row["days_left"], certificate_window(env, within))
        row["problems"] = problems
        row["state"] = ("invalid" if any(not p.startswith("signature not checked") for p in problems) else
                        row.get("warning") or "valid")
        rows.append(row)
    return rows


# --- capacity ------------------------------------------------------------------------------------------
def capacity_rows(env: Environment) -> list[dict[str, Any]]:
    rows = []
    for cluster in sorted(env.platform.clusters, key=lambda c: c.id):
        used, limit = env.capacity_used(cluster.id), env.capacity_limit(cluster.id)
        resources = {}
        for kind in RESOURCE_KINDS:
            share = float(used[kind] / limit[kind] * 100) if limit[kind] else 0.0
            resources[kind] = {"used": codes.format_quantity(used[kind], kind), "limit": codes.format_quantity(limit[kind], kind),
                               "percent": round(share, 1)}
        rows.append({"cluster": cluster.id, "zone": cluster.zone, "region": cluster.region,
                     "tenants": len(env.tenants_on(cluster.id)), "overcommit": cluster.overcommit, "resources": resources})
    return rows


# --- ledger --------------------------------------------------------------------------------------------
def ledger_head(directory: Path, env: Environment | None = None) -> dict[str, Any]:
    """The latest signed tree head, whether it is signed by the key the ledger names, and, when
    the model names witnesses for this ledger, each witness's latest cosigned size (a witness
    that has not cosigned the latest checkpoint has fallen behind by the difference)."""
    from ..ledger import Ledger, SignedCheckpoint
    from ..ledger.store import load_meta
    from ..ledger.witness import model_ledger

    meta = load_meta(directory)
    ledger = Ledger(directory)
    head = ledger.head()
    data: dict[str, Any] = {
        "directory": display_path(directory), "log_id": head.log_id, "hash": head.hash, "size": head.size,
        "root": head.root.hex(), "timestamp": head.timestamp or "", "key_id": head.key_id,
        "checkpoint": head.text() if isinstance(head, SignedCheckpoint) else None,
        "signature_matches_ledger_key": head.signed_by({meta.key_id: meta.public_key}),
        "witnesses": None,
    }
    evidence = env.platform.evidence if env is not None else None
    if evidence is not None and any(entry.origin == meta.log_id for entry in evidence.ledgers):
        model = model_ledger(env, meta.log_id)
        cosigned = [c for c in ledger.cosigned() if c.signed_by(model.trusted)]
        by_id = {w.id: w for w in evidence.witnesses}
        rows = []
        for key in model.policy.witnesses:
            witness_id = model.witness_ids[key.name]
            sizes = [c.size for c in cosigned if key.name in model.policy.cosigners(c)]
            latest = max(sizes, default=0)
            rows.append({"id": witness_id, "name": by_id[witness_id].name, "region": by_id[witness_id].region,
                         "cosigned_size": latest, "behind": head.size - latest, "fallen_behind": latest < head.size})
        witnessed = [c.size for c in cosigned if model.policy.accepts(c, None)]
        data["witnesses"] = {"quorum": model.policy.quorum, "witnessed_size": max(witnessed, default=0), "rows": rows}
    return data


# --- zones and flows ------------------------------------------------------------------------------------
def zone_rows(env: Environment, tenants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    failing = Counter(t["zone"] for t in tenants if t["verdict"] == "fail")
    counts = Counter(t.zone for t in env.tenants)
    return [{"id": z.id, "kind": z.kind, "cidr": str(z.cidr), "max_level": z.max_level, "tenants": counts.get(z.id, 0),
             "hosts": len(env.hosts_in(z.id)), "tenants_failing": failing.get(z.id, 0)} for z in env.platform.zones]


def flow_rows(env: Environment) -> list[dict[str, Any]]:
    return [{"from": f.source, "to": f.destination, "label": f.label, "gateway": f.gateway, "purpose": f.purpose}
            for f in env.platform.flows]


# --- the trend: check reports recorded in the ledger ------------------------------------------------------
def _by_standard(check: dict[str, Any]) -> dict[str, dict[str, Any]]:
    standard_of = {r["id"]: r.get("standard", "") for r in check.get("rules", [])}
    counts: dict[str, Counter] = defaultdict(Counter)
    for result in check.get("results", []):
        counts[standard_of.get(result["rule"], "")][result["status"]] += 1
    out = {}
    for standard, c in sorted(counts.items()):
        total = sum(c[s] for s in STATUSES)
        out[standard] = {**{s: c.get(s, 0) for s in STATUSES},
                         "compliance": round(100.0 * c.get("passed", 0) / total, 1) if total else None}
    return out


def trend(env: Environment, ledger: Path | None, current: dict[str, Any], today: dt.date,
          evidence_root: Path | None = None) -> dict[str, Any]:
    """Compliance and findings by standard over time: every full check of the environment the
    ledger recorded up to ``today`` (its evidence read back and matched against the digest the
    ledger holds), the latest per day, then this report's own check as of ``today``."""
    import json

    from ..ledger.records import file_digests

    points: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    if ledger is not None:
        from ..ledger import Ledger

        for entry in Ledger(ledger).entries():
            subject = entry.get("subject") or {}
            if entry.get("kind") != "check" or subject.get("env") != env.name or subject.get("stack"):
                continue
            day = str(entry.get("time", ""))[:10]
            if day > today.isoformat():
                continue  # the report is as of ``today``
            evidence = entry.get("evidence") or {}
            path = Path(evidence.get("path", ""))
            if evidence_root is not None and not path.is_absolute():
                path = evidence_root / path
            where = f"entry {entry.get('index')} ({display_path(path)})"
            try:
                raw = path.read_bytes()
            except OSError:
                skipped.append(f"{where}: evidence file not found")
                continue
            if file_digests(path, "sha256").get("sha256") != evidence.get("sha256"):
                skipped.append(f"{where}: differs from what the ledger recorded")
                continue
            try:
                report = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                skipped.append(f"{where}: not a JSON check report (recorded with --output {entry.get('details', {}).get('format', '?')})")
                continue
            if not isinstance(report, dict) or report.get("format") != "govcloud.check/v1":
                skipped.append(f"{where}: not a govcloud.check/v1 report")
                continue
            points[day] = {"date": day, "source": f"ledger entry {entry.get('index')}", "standards": _by_standard(report)}
    points[today.isoformat()] = {"date": today.isoformat(), "source": "this report", "standards": _by_standard(current)}
    ordered = [points[d] for d in sorted(points)]
    standards = sorted({s for p in ordered for s in p["standards"]})
    return {"standards": standards, "points": ordered, "skipped": skipped}


# --- the document --------------------------------------------------------------------------------------
def drift_rows(report: dict[str, Any]) -> dict[str, Any]:
    """What a `govcloud drift` report (``govcloud.drift/v1``) says, one row per drifted object."""
    def name(item: dict[str, Any]) -> str:
        return f"{item['kind']} {item['namespace'] + '/' if item.get('namespace') else ''}{item['name']}"

    def managers(item: dict[str, Any]) -> list[str]:
        return sorted({m["manager"] for m in item.get("managers", [])})

    rows = [{"state": "missing", "cluster": i["cluster"], "stack": i.get("stack"), "object": name(i), "fields": [], "by": []}
            for i in report.get("missing", [])]
    rows += [{"state": "changed", "cluster": i["cluster"], "stack": i.get("stack"), "object": name(i),
              "fields": [f["path"] for f in i.get("fields", [])], "by": managers(i)} for i in report.get("changed", [])]
    rows += [{"state": "unmanaged", "cluster": i["cluster"], "stack": None, "object": name(i), "fields": [], "by": managers(i)}
             for i in report.get("unmanaged", [])]
    return {"generated_at": report.get("generated_at"), "summary": report.get("summary", {}), "rows": rows}


def collect(env: Environment, check: dict[str, Any], *, today: dt.date, within_days: int = 30,
            baseline: dict[str, Any] | None = None, certificates: list[dict[str, Any]] | None = None,
            ledger: dict[str, Any] | None = None, sources: dict[str, Any] | None = None,
            history: dict[str, Any] | None = None, drift: dict[str, Any] | None = None) -> dict[str, Any]:
    certificates = certificates or []
    by_stack = {c["stack"]: c for c in certificates}
    tenants = tenant_rows(env, check, by_stack, today, within_days)
    rules = rule_rows(check)
    waivers = waiver_rows(env, check, today, within_days)
    hosts = host_rows(baseline) if baseline is not None else None
    drifted = drift_rows(drift) if drift is not None else None
    summary = check.get("summary", {})
    warnings = {
        "waivers": [w for w in waivers if w["warning"]],
        "certificates": [c for c in certificates if c["state"] != "valid"],
        "reviews_due": [{"tenant": t["tenant"], "department": t["department"], "review_by": t["review_by"], "warning": t["review_due"]}
                        for t in tenants if t["review_due"]],
        "witnesses": [w for w in ((ledger or {}).get("witnesses") or {}).get("rows", []) if w["fallen_behind"]],
    }
    return {
        "format": FORMAT,
        "env": env.name,
        "platform": env.platform.name,
        "today": today.isoformat(),
        "within_days": within_days,
        "certificate_window_days": certificate_window(env, within_days),
        "sources": sources or {},
        "summary": {
            "regions": len(env.platform.regions), "zones": len(env.platform.zones), "clusters": len(env.platform.clusters),
            "hosts": len(env.platform.hosts), "tenants": len(env.tenants), "stacks": len(env.stacks),
            "stacks_checked": summary.get("stacks", 0), "verdict": summary.get("verdict"),
            "findings": {k: summary.get(k, 0) for k in ("passed", "failed", "waived", "blocking")},
            "tenants_failing": sum(1 for t in tenants if t["verdict"] == "fail"),
            "hosts_failing": None if hosts is None else sum(1 for h in hosts["hosts"] if h["fail"]),
            "drifted_objects": None if drifted is None else len(drifted["rows"]),
            "certificates": dict(sorted(Counter(c["state"] for c in certificates).items())),
            "warnings": {k: len(v) for k, v in warnings.items()},
        },
        "tenants_by_region_and_zone": tenants_by_region_and_zone(env),
        "tenants": tenants,
        "rules": rules,
        "hosts": hosts,
        "drift": drifted,
        "waivers": waivers,
        "certificates": certificates,
        "warnings": warnings,
        "capacity": capacity_rows(env),
        "zones": zone_rows(env, tenants),
        "flows": flow_rows(env),
        "trend": history or trend(env, None, check, today),
        "ledger": ledger,
    }
