"""The audit administrator reads; they never change what they audit."""

from .... import labels
from ...k8s import READ_VERBS, rbac_rules, role_ref
from ...rule import NotApplicable, iter_strings, resource_rule

WRITE_ROLES = {"cluster-admin", "admin", "edit"}


@resource_rule(
    id="GOV-SEC-007",
    title="The audit administrator role is read-only",
    clause="GB/T 22239-2019 8.1.5.2 (审计管理: audit administrators only audit); 8.1.4.2 d)",
    severity="high",
    enforcement="mandatory",
    remediation="Give the audit role only get/list/watch, without access to secrets; bind the audit administrator to it.",
    kinds=("Role", "ClusterRole", "RoleBinding"),
)
def check(obj, facts):
    if obj.purpose not in (labels.PURPOSE_ADMIN_AUDIT, labels.ROLE_PURPOSES["audit"]):
        raise NotApplicable("not an audit administrator role or binding")
    if obj.kind == "RoleBinding":
        ref = role_ref(obj)
        if str(ref.get("name")) in WRITE_ROLES:
            yield f"{obj.describe()} gives the audit administrator the write role {ref.get('name')}"
        return
    for index, rule in enumerate(rbac_rules(obj)):
        writes = sorted(set(iter_strings(rule.get("verbs"))) - READ_VERBS)
        if writes:
            yield f"{obj.describe()} rules[{index}] grants {', '.join(writes)}; the audit role may only get, list and watch"
        if "secrets" in set(iter_strings(rule.get("resources"))):
            yield f"{obj.describe()} rules[{index}] reads secrets"
