"""Only the internet gateway accepts traffic from anywhere."""

from .... import labels
from ...k8s import peers, zone_of
from ...rule import resource_rule


@resource_rule(
    id="GOV-SEC-003",
    title="No ingress from 0.0.0.0/0 outside internet gateways",
    clause="GB/T 22239-2019 8.1.3.1 (边界防护) and 8.1.3.2 (访问控制)",
    severity="critical",
    enforcement="mandatory",
    remediation="Allow ingress only from the gateway's address or from the zones the flow matrix names; "
    "publishing to the internet goes through the internet gateway.",
    kinds=("NetworkPolicy",),
    facts=("zones", "tenants", "clusters"),
)
def check(obj, facts):
    gateway = obj.purpose == labels.PURPOSE_INTERNET_GATEWAY and facts.zone_kind(zone_of(obj, facts)) == "internet"
    if gateway:
        return
    for peer in peers(obj):
        if peer.direction == "ingress" and peer.everywhere:
            source = str(peer.network) if peer.network is not None else "every address (rule without 'from')"
            yield f"{obj.describe()} admits ingress from {source}"
