"""What an object says about its tenant is what the model says: no label downgrades."""

from .... import labels
from ...rule import NotApplicable, resource_rule

FIELDS = ((labels.ZONE, "zone"), (labels.MLPS_LEVEL, "level"), (labels.CLUSTER, "cluster"))


@resource_rule(
    id="GOV-MGT-007",
    title="Tenant labels and namespaces agree with the model",
    clause="GB/T 22239-2019 8.1.10 (安全运维管理: 资产管理, 配置管理)",
    severity="high",
    enforcement="mandatory",
    remediation="Let the stack derive labels from the model; change the tenant request, not the labels.",
    kinds=("*",),
    facts=("tenants", "zones"),
)
def check(obj, facts):
    if not obj.tenant:
        raise NotApplicable("no tenant label")
    tenant = facts.tenants.get(obj.tenant)
    if tenant is None:
        yield f"{obj.describe()} is labelled for tenant {obj.tenant}, which the model does not know"
        return
    if obj.purpose == labels.PURPOSE_EDGE:
        # The edge of a tenant's public services lives on an internet-zone cluster.
        zone = obj.labels.get(labels.ZONE)
        if facts.zone_kind(zone) != "internet":
            yield f"{obj.describe()} is part of the edge of tenant {obj.tenant} but its zone is {zone} ({facts.zone_kind(zone)}), not an internet zone"
        return
    for key, field in FIELDS:
        value = obj.labels.get(key)
        expected = tenant.get(field)
        if value is not None and str(value) != str(int(expected) if field == "level" else expected):
            yield f"{obj.describe()} has {key}={value}; the model says {int(expected) if field == 'level' else expected}"
    namespaces = {str(n) for n in tenant.get("namespaces") or ()}
    name = obj.object_name if obj.kind == "Namespace" else obj.namespace
    if name is not None and name not in namespaces:
        yield f"{obj.describe()} is outside the namespaces of tenant {obj.tenant} ({', '.join(sorted(namespaces))})"
