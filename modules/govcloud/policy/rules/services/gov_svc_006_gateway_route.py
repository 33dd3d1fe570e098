"""A service is published only where the matrix routes internet traffic through a gateway."""

from ...k8s import ROUTE_KINDS, owner_of, zone_of
from ...rule import NotApplicable, resource_rule


@resource_rule(
    id="GOV-SVC-006",
    request_field="services",
    title="Public services only in zones the internet reaches through a gateway on 443",
    clause="GB/T 22239-2019 8.1.3.1 (边界防护); govcloud platform standard: internet traffic enters through the gateway",
    severity="critical",
    enforcement="mandatory",
    remediation="Publish from a tenant in a zone with a flow internet -> zone tcp/443 via a gateway (never from egov-intranet).",
    kinds=ROUTE_KINDS,
    facts=("zones", "flows", "tenants", "clusters"),
)
def check(obj, facts):
    tenant = owner_of(obj, facts)
    if not tenant:
        raise NotApplicable("not a tenant route")
    zone = zone_of(obj, facts)
    kind = facts.zone_kind(zone)
    if kind == "internet":
        return  # the gateway lives in this zone
    if kind == "egov-intranet":
        yield f"{obj.describe()} publishes a service from the e-government intranet zone {zone}"
        return
    routed = any(
        f.destination == zone and f.gateway and 443 in f.ports and facts.zone_kind(f.source) == "internet"
        for f in facts.flows
    )
    if not routed:
        yield f"{obj.describe()} publishes from zone {zone}, which no internet -> {zone} tcp/443 flow through a gateway reaches"
