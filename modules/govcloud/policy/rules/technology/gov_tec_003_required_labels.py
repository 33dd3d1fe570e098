"""Every object says who manages it and where it belongs; tenant objects say whose they are."""

from .... import labels
from ...rule import resource_rule

PLATFORM_LABELS = (labels.MANAGED_BY, labels.ENVIRONMENT, labels.CLUSTER)


@resource_rule(
    id="GOV-TEC-003",
    title="Required labels: managed-by, env and cluster on every object; tenant, zone and MLPS level on tenant objects",
    clause="GB/T 22239-2019 8.1.10 (安全运维管理: 资产管理, 资产标识); govcloud platform standard: labels",
    severity="medium",
    enforcement="mandatory",
    remediation="Create objects through the govcloud components, which set every label from the model.",
    kinds=("*",),
    facts=("tenants",),
)
def check(obj, facts):
    present = obj.labels
    if present.get(labels.MANAGED_BY) != labels.MANAGED_BY_VALUE:
        yield f"{obj.describe()} lacks {labels.MANAGED_BY}={labels.MANAGED_BY_VALUE}"
    for key in PLATFORM_LABELS[1:]:
        if not present.get(key):
            yield f"{obj.describe()} lacks the {key} label"
    owner = facts.namespace_owner.get(obj.object_name if obj.kind == "Namespace" else obj.namespace or "")
    if obj.tenant or owner:
        for key in labels.REQUIRED_WORKLOAD_LABELS:
            if not present.get(key):
                yield f"{obj.describe()} belongs to tenant {obj.tenant or owner} but lacks the {key} label"
