"""Separation of duties: system, security and audit administrators are three people."""

from .... import labels
from ...k8s import subjects
from ...rule import stack_rule


@stack_rule(
    id="GOV-SEC-006",
    request_field="administrators",
    title="Three administrator roles bound to three distinct, requested subjects",
    clause="GB/T 22239-2019 8.1.4.2 d) (权限分离) and 8.1.5.1-8.1.5.3 (系统管理员, 审计管理员, 安全管理员)",
    severity="high",
    enforcement="mandatory",
    remediation="In every tenant namespace bind the system, security and audit administrator roles (RoleBindings labelled "
    f"{labels.PURPOSE}=admin-system/admin-security/admin-audit) each to the one person the request names.",
    facts=("administrators",),
)
def check(stack, facts):
    tenant = stack.require_tenant_stack()
    expected = facts.administrators.get(tenant)
    for namespace in stack.tenant_namespaces():
        name = namespace.object_name
        bindings = stack.in_namespace(name, "RoleBinding")
        bound: dict[str, str] = {}
        for role, purpose in labels.ADMIN_PURPOSES.items():
            found = [b for b in bindings if b.purpose == purpose]
            if len(found) != 1:
                yield namespace.urn, f"namespace {name} has {len(found)} RoleBindings for the {role} administrator; exactly one is required"
                continue
            names = [str(s.get("name")) for s in subjects(found[0])]
            if len(names) != 1:
                yield found[0].urn, f"{found[0].describe()} binds {len(names)} subjects; the {role} administrator is one person"
                continue
            bound[role] = names[0]
            if expected is not None and str(expected.get(role)) != names[0]:
                yield found[0].urn, f"{found[0].describe()} binds {names[0]}, but the request names {expected.get(role)} as {role} administrator"
        people = list(bound.values())
        for person in sorted({p for p in people if people.count(p) > 1}):
            roles = ", ".join(r for r, p in sorted(bound.items()) if p == person)
            yield namespace.urn, f"{person} holds several administrator roles in {name} ({roles})"
