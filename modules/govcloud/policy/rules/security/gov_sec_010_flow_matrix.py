"""NetworkPolicies open only what the zone flow matrix allows."""

from .... import labels
from ...k8s import peers, zone_of
from ...rule import resource_rule


@resource_rule(
    id="GOV-SEC-010",
    request_field="zone",
    cluster_field="zone",
    title="No flow the zone matrix does not allow",
    clause="GB/T 22239-2019 8.1.2.1 (网络架构: zones with their own address plans) and 8.1.3.2 (访问控制)",
    severity="critical",
    enforcement="mandatory",
    remediation="Open only connections that platform.yaml lists as flows (zone to zone, protocol, port); "
    "ask the platform team to add a flow when one is missing.",
    kinds=("NetworkPolicy",),
    facts=("zones", "flows", "tenants", "clusters"),
)
def check(obj, facts):
    checked = [p for p in peers(obj) if p.network is not None or p.everywhere]
    if not checked:
        return  # selectors only: traffic stays inside the cluster, hence inside its zone
    here = zone_of(obj, facts)
    if here is None or here not in facts.zones:
        yield f"{obj.describe()} is in no known zone ({labels.ZONE} label missing or unknown)"
        return
    here_kind = facts.zones[here].kind
    for peer in checked:
        if peer.network is None:
            yield f"{obj.describe()} {peer.direction} rule has no peers: it reaches every address"
            continue
        if facts.outside_zones(peer.network) and here_kind != "internet":
            yield f"{obj.describe()} {peer.direction} {peer.network} reaches addresses outside every zone"
        for zone in facts.zones_reached(peer):
            if zone.id == here:
                continue
            source, destination = (here, zone.id) if peer.direction == "egress" else (zone.id, here)
            for spec in peer.ports:
                if spec.named:
                    yield f"{obj.describe()} {peer.direction} {peer.network} uses named port {spec.named}; the matrix needs numbers"
                elif not facts.flow_allows(source, destination, spec.protocol, spec.port):
                    yield f"{obj.describe()} allows {source} -> {destination} {spec.label()}, which no flow allows"
