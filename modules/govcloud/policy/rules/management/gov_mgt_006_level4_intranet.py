"""MLPS level 4 systems live only in the e-government intranet."""

from ...k8s import label_level, tenant_level, zone_of
from ...rule import NotApplicable, resource_rule


@resource_rule(
    id="GOV-MGT-006",
    request_field="mlps_level",
    title="MLPS level 4 tenants only in egov-intranet zones",
    clause="GB/T 22239-2019 9 (第四级安全要求); govcloud platform standard: level 4 only in the isolated intranet",
    severity="critical",
    enforcement="mandatory",
    remediation="Place level 4 tenants on a cluster in an egov-intranet zone.",
    kinds=("Namespace",),
    facts=("zones", "tenants", "clusters"),
)
def check(obj, facts):
    if not obj.tenant:
        raise NotApplicable("not a tenant namespace")
    if 4 not in {tenant_level(obj, facts), label_level(obj)}:  # the model's level, or a label claiming 4
        return
    zone = zone_of(obj, facts)
    if facts.zone_kind(zone) != "egov-intranet":
        yield f"namespace {obj.object_name} is MLPS level 4 in zone {zone} ({facts.zone_kind(zone)}); level 4 lives only in egov-intranet"
