"""Roles name what they grant: no wildcards."""

from ...k8s import RBAC_ROLE_KINDS, rbac_rules
from ...rule import iter_strings, resource_rule


@resource_rule(
    id="GOV-SEC-004",
    title="No wildcard RBAC",
    clause="GB/T 22239-2019 8.1.4.2 d) (授予管理用户所需的最小权限)",
    severity="high",
    enforcement="mandatory",
    remediation="List the API groups, resources and verbs the role needs instead of '*'.",
    kinds=RBAC_ROLE_KINDS,
)
def check(obj, facts):
    for index, rule in enumerate(rbac_rules(obj)):
        for field in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
            if any("*" in value for value in iter_strings(rule.get(field))):
                yield f"{obj.describe()} rules[{index}].{field} contains a wildcard"
