"""Quotas stay within the bounds of the tenant's level template."""

from .... import labels
from ...k8s import quantity, tenant_template
from ...rule import NotApplicable, as_map, resource_rule

# ResourceQuota keys -> template key. Every tenant quota caps all four.
HARD_KEYS = {
    "cpu": ("requests.cpu", "limits.cpu", "cpu"),
    "memory": ("requests.memory", "limits.memory", "memory"),
    "storage": ("requests.storage",),
    "pods": ("pods",),
}


@resource_rule(
    id="GOV-MGT-002",
    request_field="quotas",
    title="ResourceQuota present on every dimension and within the level template's maximum",
    clause="govcloud platform standard: tenant templates per MLPS level; GB/T 22239-2019 8.2.4 (云计算 资源控制)",
    severity="high",
    enforcement="mandatory",
    remediation="Request quotas within platform.yaml levels[].tenant_template.quotas.max; cap cpu, memory, storage and pods.",
    kinds=("ResourceQuota",),
    facts=("templates", "tenants"),
)
def check(obj, facts):
    if not obj.tenant:
        raise NotApplicable("not a tenant quota")
    hard = as_map(obj.spec.get("hard"))
    if obj.purpose == labels.PURPOSE_EDGE:
        if quantity(hard.get("pods")) != 0:
            yield f"{obj.describe()} is the quota of an edge namespace and must hold pods at 0, not {hard.get('pods')!r}"
        return
    level, template = tenant_template(obj, facts)
    if template is None:
        yield f"{obj.describe()}: no template for MLPS level {level}"
        return
    maximum = as_map(template.get("quotas_max"))
    for dimension, keys in HARD_KEYS.items():
        present = [k for k in keys if k in hard]
        if not present:
            yield f"{obj.describe()} does not cap {dimension} ({' or '.join(keys)})"
            continue
        bound = quantity(maximum.get(dimension))
        for key in present:
            value = quantity(hard.get(key))
            if value is None:
                yield f"{obj.describe()} hard.{key}={hard.get(key)!r} is not a quantity"
            elif bound is not None and value > bound:
                yield f"{obj.describe()} hard.{key}={hard.get(key)} exceeds the level-{level} maximum {maximum.get(dimension)}"
