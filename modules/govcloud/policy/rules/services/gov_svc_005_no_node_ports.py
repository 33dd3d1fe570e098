"""Tenant services are reached through the gateway, never straight on the nodes."""

from ...k8s import owner_of
from ...rule import NotApplicable, as_list, resource_rule


@resource_rule(
    id="GOV-SVC-005",
    title="No NodePort, LoadBalancer or externalIPs services in tenant namespaces",
    clause="GB/T 22239-2019 8.1.3.1 (边界防护: traffic crosses the boundary only through controlled ports); multi-tenancy benchmark",
    severity="high",
    enforcement="mandatory",
    remediation="Use a ClusterIP service and publish it through the internet gateway as a requested service.",
    kinds=("Service",),
    facts=("tenants",),
)
def check(obj, facts):
    tenant = owner_of(obj, facts)
    if not tenant:
        raise NotApplicable("not a tenant service")
    kind = str(obj.spec.get("type") or "ClusterIP")
    if kind in ("NodePort", "LoadBalancer"):
        yield f"{obj.describe()} is of type {kind}"
    if as_list(obj.spec.get("externalIPs")):
        yield f"{obj.describe()} sets externalIPs"
