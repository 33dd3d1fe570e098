"""Whatever faces the internet should be protected at MLPS level 2 at least.

Advisory: MLPS grading follows the impact of a system, and a purely informational level-1
site can be legitimate; environments that want it mandatory say so in policy.enforcement."""

from ...k8s import ROUTE_KINDS, owner_of, tenant_level, zone_of
from ...rule import NotApplicable, resource_rule


@resource_rule(
    id="GOV-SVC-004",
    request_field="mlps_level",
    title="Internet-facing tenants should be MLPS level 2 or higher",
    clause="GB/T 22239-2019 7 (第二级安全要求) for systems serving the public; govcloud platform standard",
    severity="medium",
    enforcement="advisory",
    remediation="Raise the tenant's mlps_level to 2 or more (and complete the filing), or do not publish the service.",
    kinds=("Namespace",) + ROUTE_KINDS,
    facts=("zones", "tenants", "clusters"),
)
def check(obj, facts):
    tenant = owner_of(obj, facts)
    if not tenant:
        raise NotApplicable("not a tenant object")
    level = tenant_level(obj, facts)
    zone = zone_of(obj, facts)
    facing = obj.kind in ROUTE_KINDS or facts.zone_kind(zone) == "internet"
    if not facing:
        raise NotApplicable("not internet-facing")
    if level is None or level < 2:
        yield f"{obj.describe()} faces the internet but tenant {tenant} is MLPS level {level}"
