"""A tenant stack touches its own namespaces and nothing else: a small blast radius."""

from ...rule import stack_rule

CLUSTER_SCOPED_ALLOWED = {"Namespace"}


@stack_rule(
    id="GOV-MGT-008",
    title="A tenant stack creates objects only in its own namespaces",
    clause="govcloud platform standard: one stack per tenant; GB/T 22239-2019 8.2.4 (云计算: tenant isolation)",
    severity="high",
    enforcement="mandatory",
    remediation="Move cluster-wide objects to the cluster's foundation stack; keep tenant objects in the tenant's namespaces.",
    facts=("tenants",),
)
def check(stack, facts):
    tenant = stack.require_tenant_stack()
    if len(stack.tenants) > 1:
        yield None, f"stack holds objects of several tenants: {', '.join(sorted(stack.tenants))}"
    known = facts.tenants.get(tenant)
    namespaces = {str(n) for n in (known or {}).get("namespaces") or ()}
    # The tenant's edge namespace (routes of its public services on the internet cluster).
    namespaces |= {n.object_name for n in stack.edge_namespaces() if n.tenant == tenant}
    for obj in stack.objects:
        if obj.kind is None or "apiVersion" not in obj.props:
            continue
        if obj.namespace is None:
            if obj.kind not in CLUSTER_SCOPED_ALLOWED:
                yield obj.urn, f"{obj.describe()} has no namespace (cluster-scoped, or the default namespace); tenant stacks create only their Namespaces and objects inside them"
            elif obj.object_name not in namespaces:
                yield obj.urn, f"{obj.describe()} is not a namespace of tenant {tenant}"
        elif obj.namespace not in namespaces:
            yield obj.urn, f"{obj.describe()} lives outside the namespaces of tenant {tenant}"
