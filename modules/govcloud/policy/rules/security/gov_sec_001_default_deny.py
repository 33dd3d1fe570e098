"""Every tenant namespace starts from deny-all; flows are then opened one by one."""

from ...k8s import is_default_deny
from ...rule import NotApplicable, stack_rule


@stack_rule(
    id="GOV-SEC-001",
    title="Every tenant namespace has a default-deny NetworkPolicy",
    clause="GB/T 22239-2019 8.1.3.2 a) (访问控制: deny by default at every boundary); 8.2.3.1 (云计算 访问控制)",
    severity="high",
    enforcement="mandatory",
    remediation="Add a NetworkPolicy in the namespace with podSelector {}, policyTypes [Ingress, Egress] and no rules; "
    "open allowed flows with separate policies.",
)
def check(stack, facts):
    namespaces = stack.tenant_namespaces()
    if not namespaces:
        raise NotApplicable("no tenant namespace in this stack")
    for namespace in namespaces:
        name = namespace.object_name
        if not any(is_default_deny(p) for p in stack.in_namespace(name, "NetworkPolicy")):
            yield namespace.urn, f"namespace {name} has no default-deny NetworkPolicy (podSelector {{}}, Ingress+Egress, no rules)"
