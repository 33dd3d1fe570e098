"""Some zones never meet, whatever a flow matrix says: the national baseline."""

import ipaddress

from ...k8s import peers, zone_of
from ...rule import NotApplicable, stack_rule

EVERYWHERE = ipaddress.ip_network("0.0.0.0/0")
FORBIDDEN = {
    ("internet", "egov-intranet"): "the internet zone and the e-government intranet are physically separated",
    ("egov-intranet", "internet"): "the e-government intranet is physically separated from the internet",
    ("internet", "data"): "the internet zone never reaches the data pool directly",
}


@stack_rule(
    id="GOV-SEC-011",
    request_field="zone",
    cluster_field="zone",
    title="No connection between internet and egov-intranet, none from internet straight into data",
    clause="GB/T 22239-2019 8.1.2.1 (网络架构); 电子政务内网与互联网物理隔离 (中办发〔2002〕17号)",
    severity="critical",
    enforcement="mandatory",
    remediation="Remove the peer; internet-facing services reach data through an e-government extranet tenant.",
    facts=("zones", "tenants", "clusters"),
)
def check(stack, facts):
    policies = stack.of_kind("NetworkPolicy")
    if not policies:
        raise NotApplicable("no NetworkPolicy in this stack")
    for policy in policies:
        here = zone_of(policy, facts)
        here_kind = facts.zone_kind(here)
        if here_kind is None:
            continue
        for peer in peers(policy):
            if peer.network is None and not peer.everywhere:
                continue  # selectors stay inside the cluster, hence inside this zone
            other_kinds = {z.kind for z in facts.zones_reached(peer)}
            if facts.outside_zones(peer.network or EVERYWHERE):
                other_kinds.add("internet")  # addresses outside every zone are the internet
            for other in sorted(other_kinds):
                pair = (here_kind, other) if peer.direction == "egress" else (other, here_kind)
                if pair in FORBIDDEN:
                    target = peer.network or "every address"
                    yield policy.urn, f"{policy.describe()} {peer.direction} {target}: {pair[0]} -> {pair[1]}; {FORBIDDEN[pair]}"
