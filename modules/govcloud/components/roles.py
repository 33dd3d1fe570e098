"""The tenant roles: three separated administrators and a deployer (GB/T 22239-2019 8.1.4.2).

Each role is a ClusterRole defined once per cluster by the foundation and bound per tenant
namespace with RoleBindings (never a ClusterRoleBinding), so a tenant's people act only in
their own namespaces. Every verb and resource is spelled out: no wildcards.

- system administrator: manages workloads and their configuration; reads events; may exec for
  troubleshooting; no RBAC, no network policy.
- security administrator: manages network policies, reads RBAC and what runs; no exec, no secrets.
- audit administrator: read-only (get/list/watch), events included; no secrets.
- deployer: the tenant's CI ServiceAccount; manages workloads like the system administrator,
  without exec or port-forward.
"""

from __future__ import annotations

from typing import Any

READ = ("get", "list", "watch")
WRITE = ("get", "list", "watch", "create", "update", "patch", "delete")

ROLE_NAMES = {
    "system": "govcloud-tenant-system-admin",
    "security": "govcloud-tenant-security-admin",
    "audit": "govcloud-tenant-audit-admin",
    "deployer": "govcloud-tenant-deployer",
}

# Resources a tenant's workloads consist of (API group, resources).
_WORKLOADS = (
    ("", ("configmaps", "persistentvolumeclaims", "pods", "secrets", "services")),
    ("apps", ("deployments", "replicasets", "statefulsets")),
    ("autoscaling", ("horizontalpodautoscalers",)),
    ("batch", ("cronjobs", "jobs")),
    ("policy", ("poddisruptionbudgets",)),
)
_SCALE = ("apps", ("deployments/scale", "statefulsets/scale"))
_EVENTS = (("", ("events",)), ("events.k8s.io", ("events",)))
_CONTEXT = (
    ("", ("limitranges", "pods/log", "resourcequotas", "serviceaccounts")),
    ("gateway.networking.k8s.io", ("httproutes",)),
)


def _rule(group: str, resources: tuple[str, ...], verbs: tuple[str, ...]) -> dict[str, Any]:
    return {"apiGroups": [group], "resources": sorted(resources), "verbs": list(verbs)}


def _rules(groups, verbs) -> list[dict[str, Any]]:
    return [_rule(g, r, verbs) for g, r in groups]


def _without(groups, drop: set[str]):
    return [(g, tuple(r for r in rs if r not in drop)) for g, rs in groups if any(r not in drop for r in rs)]


ROLE_RULES: dict[str, list[dict[str, Any]]] = {
    "system": _rules(_WORKLOADS, WRITE)
    + [_rule(*_SCALE, ("get", "patch", "update")), _rule("", ("pods/exec", "pods/portforward"), ("create", "get"))]
    + _rules(list(_EVENTS + _CONTEXT), READ),
    "security": [_rule("networking.k8s.io", ("networkpolicies",), WRITE)]
    + _rules(
        [("rbac.authorization.k8s.io", ("rolebindings", "roles"))]
        + _without(_WORKLOADS, {"secrets", "configmaps"})
        + list(_EVENTS)
        + list(_CONTEXT),
        READ,
    ),
    "audit": _rules(
        _without(_WORKLOADS, {"secrets"})
        + list(_EVENTS)
        + list(_CONTEXT)
        + [("networking.k8s.io", ("networkpolicies",)), ("rbac.authorization.k8s.io", ("rolebindings", "roles"))],
        READ,
    ),
    "deployer": _rules(_WORKLOADS, WRITE) + [_rule(*_SCALE, ("get", "patch", "update"))] + _rules(list(_EVENTS + _CONTEXT), READ),
}
