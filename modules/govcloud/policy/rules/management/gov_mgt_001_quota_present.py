"""Every tenant namespace is capped: a ResourceQuota and a LimitRange."""

from typing import Any

from ...rule import NotApplicable, stack_rule


@stack_rule(
    id="GOV-MGT-001",
    title="Every tenant namespace has a ResourceQuota and a LimitRange",
    clause="GB/T 22239-2019 8.2.4 (云计算 安全计算环境: resources allocated per tenant); govcloud platform standard: tenant capacity",
    severity="high",
    enforcement="mandatory",
    remediation="Create one ResourceQuota and one LimitRange per tenant namespace from the tenant's merged quotas and limits.",
)
def check(stack, facts):
    namespaces: list[tuple[Any, tuple[str, ...]]] = [(n, ("ResourceQuota", "LimitRange")) for n in stack.tenant_namespaces()]
    # An edge namespace runs nothing: its quota (pods 0) is what keeps it that way.
    namespaces += [(n, ("ResourceQuota",)) for n in stack.edge_namespaces()]
    if not namespaces:
        raise NotApplicable("no tenant namespace in this stack")
    for namespace, kinds in namespaces:
        name = namespace.object_name
        for kind in kinds:
            if not stack.in_namespace(name, kind):
                yield namespace.urn, f"namespace {name} has no {kind}"
