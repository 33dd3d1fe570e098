"""The diff report: one document for every output (Markdown, HTML, JSON evidence).

``as_dict`` is the archivable evidence (``govcloud.diff/v1``): canonical JSON, sorted, with
no clock of its own (the check's ``today`` is an input), so the same revisions give the same
bytes. Stacks without changes are left out; the summary says how many were compared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..model import Environment
from .changes import OPS, StackDiff, field_changes, to_field_change

FORMAT = "govcloud.diff/v1"
FLOW_LABEL = re.compile(r"^(?P<source>[^\s>-][^\s]*?)->(?P<destination>\S+)\s")


@dataclass
class DiffReport:
    env: str
    source: dict[str, Any]  # mode, from, to, what rendered them
    stacks: list[StackDiff]  # every stack compared (unchanged ones are counted, not listed)
    compared: int = 0  # stacks compared in all (including those proven unchanged without a render)
    tenants: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, Any] | None = None  # verdict changes, or None when no check results were given
    policy_note: str = ""
    waivers: dict[str, Any] | None = None
    network: dict[str, Any] = field(default_factory=dict)

    @property
    def changed_stacks(self) -> list[StackDiff]:
        return sorted((s for s in self.stacks if s.changed), key=lambda s: (s.kind != "foundation", s.stack))

    @property
    def policy_changed(self) -> bool:
        return bool(self.policy and (self.policy["new_findings"] or self.policy["fixed_findings"] or self.policy["status_changes"]))

    @property
    def waivers_changed(self) -> bool:
        return bool(self.waivers and (self.waivers["added"] or self.waivers["removed"] or self.waivers["changed"]))

    @property
    def no_changes(self) -> bool:
        return not self.changed_stacks and not self.policy_changed and not self.waivers_changed

    def changes(self, op: str) -> list[tuple[StackDiff, Any]]:
        return [(s, c) for s in self.changed_stacks for c in s.changes if c.op == op]

    def namespace_deletions(self) -> list[dict[str, Any]]:
        """Namespaces the change deletes (or replaces: deleted, then made anew): Kubernetes then
        deletes everything inside, including what the department deployed there and govcloud
        does not manage. A namespace deleted where another is added in the same stack is most
        likely a rename, which Kubernetes cannot do: the new namespace starts empty."""
        found = []
        for stack in self.changed_stacks:
            gone = [c for c in stack.changes if c.kind == "Namespace" and c.op in ("delete", "replace")]
            added = sorted(c.name for c in stack.changes if c.kind == "Namespace" and c.op == "create")
            for change in gone:
                inside = sum(1 for c in stack.changes if c.op in ("delete", "replace") and c.name.startswith(change.name + "/"))
                renamed = added[0] if change.op == "delete" and len(gone) == 1 and len(added) == 1 else None
                found.append({"stack": stack.stack, "namespace": change.name, "cluster": change.cluster, "op": change.op,
                              "objects": inside, "renamed_to": renamed})
        return found

    def summary(self) -> dict[str, Any]:
        stacks = self.changed_stacks
        return {
            "stacks_compared": self.compared or len(self.stacks),
            "stacks_changed": len(stacks),
            "stacks": {status: sum(1 for s in stacks if s.status == status) for status in ("added", "removed", "changed")},
            "resources": {op: sum(s.counts()[op] for s in stacks) for op in OPS},
            "per_stack": [{"stack": s.stack, "status": s.status, "tenant": s.tenant, **s.counts()} for s in stacks],
            "policy": None if self.policy is None else {
                "new_findings": len(self.policy["new_findings"]),
                "new_blocking": sum(1 for f in self.policy["new_findings"] if f["blocking"]),
                "fixed_findings": len(self.policy["fixed_findings"]),
                "status_changes": len(self.policy["status_changes"]),
            },
            "waivers": None if self.waivers is None else {k: len(self.waivers[k]) for k in ("added", "removed", "changed", "expiring", "expired")},
            "namespaces_deleted": len(self.namespace_deletions()),
            "no_changes": self.no_changes,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "env": self.env,
            "source": self.source,
            "summary": self.summary(),
            "stacks": [s.as_dict() for s in self.changed_stacks],
            "namespace_deletions": self.namespace_deletions(),
            "tenants": self.tenants,
            "policy": self.policy,
            "policy_note": self.policy_note,
            "waivers": self.waivers,
            "network": self.network,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# --- tenants -----------------------------------------------------------------------------------
def _request_record(env: Environment, tenant_id: str | None) -> dict[str, Any] | None:
    if tenant_id is None:
        return None
    try:
        tenant = env.tenant(tenant_id)
    except KeyError:
        return None
    return tenant.request.model_dump(mode="json", by_alias=True, exclude_none=True)


def tenant_rows(stacks: Iterable[StackDiff], before: Environment | None = None, after: Environment | None = None) -> list[dict[str, Any]]:
    """Who asked for each tenant change, why, and who approved it (from the request when the
    models are at hand, else from the annotations the stack puts on the tenant's namespaces)."""
    rows = []
    for stack in sorted((s for s in stacks if s.kind == "tenant" and s.changed), key=lambda s: s.stack):
        old = _request_record(before, stack.tenant) if before is not None else None
        new = _request_record(after, stack.tenant) if after is not None else None
        request = new or old
        row: dict[str, Any] = {"tenant": stack.tenant, "stack": stack.stack, "status": stack.status}
        if request is not None:
            change = request.get("change", {})
            row.update({
                "department": request["department"]["name"],
                "region": request.get("region"),
                "zone": request.get("zone"),
                "mlps_level": request.get("mlps_level"),
                "requested_by": change.get("requested_by"),
                "reason": change.get("reason"),
                "review_by": change.get("review_by"),
                "approvals": change.get("approvals", []),
                "source": "request",
            })
            if old is not None and new is not None:
                row["request_changes"] = [to_field_change(*c).as_dict() for c in field_changes(old, new)]
        else:
            context = stack.context
            row.update({k: context.get(k) for k in ("department", "region", "zone", "mlps_level", "requested_by", "reason")})
            row["approvals"] = context.get("approvals", [])
            row["source"] = "namespace annotations"
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


# --- zones and flows -------------------------------------------------------------------------------
def parse_flow(label: str) -> tuple[str, str] | None:
    match = FLOW_LABEL.match(label)
    return (match.group("source"), match.group("destination")) if match else None


def network(stacks: Iterable[StackDiff], before: Environment | None = None, after: Environment | None = None) -> dict[str, Any]:
    """The zones and the flows between them, marked where the change touches them.

    A flow is ``added``/``removed`` when the platform's flow matrix gains or loses it, and
    ``changed`` when a tenant's NetworkPolicies start or stop implementing it; a zone is
    ``changed`` when a stack in it changes.
    """
    stacks = [s for s in stacks if s.changed]
    zones: dict[str, dict[str, Any]] = {}
    for env in (before, after):
        if env is not None:
            for z in env.platform.zones:
                zones[z.id] = {"id": z.id, "kind": z.kind, "stacks_changed": 0}
    flows: dict[str, dict[str, Any]] = {}
    platform_before = {f.label for f in before.platform.flows} if before is not None else None
    platform_after = {f.label for f in after.platform.flows} if after is not None else None
    for label in sorted((platform_before or set()) | (platform_after or set())):
        status = "unchanged"
        if platform_before is not None and platform_after is not None:
            status = "added" if label not in platform_before else "removed" if label not in platform_after else "unchanged"
        flows[label] = {"label": label, "status": status, "opened_by": [], "closed_by": []}
    for stack in stacks:
        zone = stack.context.get("zone")
        if zone is None and stack.kind == "foundation" and after is not None and stack.cluster:
            try:
                zone = after.cluster(stack.cluster).zone
            except KeyError:
                zone = None
        if zone is not None:
            zones.setdefault(zone, {"id": zone, "kind": None, "stacks_changed": 0})["stacks_changed"] += 1
        who = stack.tenant or stack.stack
        for direction, key in (("opened", "opened_by"), ("closed", "closed_by")):
            for label in stack.flows.get(direction, []):
                entry = flows.setdefault(label, {"label": label, "status": "unchanged", "opened_by": [], "closed_by": []})
                entry[key].append(who)
    for entry in flows.values():
        endpoints = parse_flow(entry["label"])
        if endpoints is None:
            continue
        entry["from"], entry["to"] = endpoints
        for zone in endpoints:
            zones.setdefault(zone, {"id": zone, "kind": None, "stacks_changed": 0})
        if entry["status"] == "unchanged" and (entry["opened_by"] or entry["closed_by"]):
            entry["status"] = "changed"
        entry["opened_by"].sort()
        entry["closed_by"].sort()
    for entry in zones.values():
        entry["changed"] = entry["stacks_changed"] > 0
    return {
        "zones": [zones[z] for z in sorted(zones)],
        "flows": [flows[f] for f in sorted(flows) if "from" in flows[f]],
    }
