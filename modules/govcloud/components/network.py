"""The zone flow matrix as NetworkPolicy rules for one tenant: exactly one rule per allowed flow.

Pods of a tenant in zone Z get one egress rule per flow leaving Z and one ingress rule per flow
entering Z; every other connection stays denied by the tenant's default-deny policy.

- A flow through a gateway host is narrowed to that host (``<address>/32``).
- A flow into the data zone is the data pool flow: it exists only for a tenant that publishes
  datasets or consumes datasets with an approved purpose, and it reaches the data pool hosts
  only, never the whole zone.
- A flow from the internet zone into a tenant zone through a gateway is the public-service
  flow: in the cluster it arrives from the gateway namespace (the zone ingress gateway), on the
  backend ports of the services the tenant publishes; a tenant that publishes none gets no rule.
- Internet-zone tenants publishing services get one more rule, from the shared gateway in their
  own cluster; it is intra-zone and so not a flow of the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import labels
from ..model import Environment, Tenant
from ..model.platform import Flow

# The namespace that holds a cluster's Gateway (the shared internet gateway or a zone ingress).
GATEWAY_NAMESPACE = "govcloud-gateway"
PUBLIC_SERVICES = "public-services"
DNS = "dns"  # what the cluster DNS egress rule implements


@dataclass(frozen=True)
class Rule:
    """One NetworkPolicy rule and what it implements (a flow label or ``public-services``)."""

    implements: str
    body: dict[str, Any]


def _ports(protocol: str, ports: list[int] | tuple[int, ...]) -> list[dict[str, Any]]:
    return [{"protocol": protocol.upper(), "port": p} for p in sorted(set(ports))]


def _ip_peers(cidrs: list[str]) -> list[dict[str, Any]]:
    return [{"ipBlock": {"cidr": c}} for c in cidrs]


def _gateway_namespace_peer() -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: GATEWAY_NAMESPACE}}}


def has_datapool_access(env: Environment, tenant: Tenant) -> bool:
    """Publishes datasets, or consumes one whose sharing class allows it (approval where required)."""
    datasets = tenant.request.datasets
    if datasets.publishes:
        return True
    for consumed in datasets.consumes:
        try:
            _, dataset = env.dataset(consumed.dataset)
        except KeyError:
            continue
        if dataset.sharing == "unconditional" or (dataset.sharing == "conditional" and consumed.approval):
            return True
    return False


def is_public_service_flow(env: Environment, flow: Flow) -> bool:
    return flow.gateway is not None and env.zone(flow.source).kind == "internet" and env.zone(flow.destination).kind != "internet"


def _service_ports(tenant: Tenant) -> list[int]:
    return sorted({s.port for s in tenant.request.services})


def public_service_rule(tenant: Tenant, implements: str) -> Rule:
    return Rule(implements, {"from": [_gateway_namespace_peer()], "ports": _ports("tcp", _service_ports(tenant))})


def flow_rules(env: Environment, tenant: Tenant) -> tuple[list[Rule], list[Rule]]:
    """(ingress, egress) rules for the tenant's pods, in the order of the flow matrix."""
    zone = tenant.zone
    pool = env.platform.datapool
    pool_cidrs = [f"{env.host(h).address}/32" for h in pool.hosts]
    ingress: list[Rule] = []
    egress: list[Rule] = []
    for flow in env.platform.flows:
        if flow.source == zone:
            if flow.destination == pool.zone:
                if not has_datapool_access(env, tenant):
                    continue
                peers = _ip_peers(pool_cidrs)
            elif flow.gateway is not None:
                peers = _ip_peers([f"{env.host(flow.gateway).address}/32"])
            else:
                peers = _ip_peers([str(env.zone(flow.destination).cidr)])
            egress.append(Rule(flow.label, {"to": peers, "ports": _ports(flow.protocol, flow.ports)}))
        if flow.destination == zone:
            if is_public_service_flow(env, flow):
                if tenant.request.services:
                    ingress.append(public_service_rule(tenant, flow.label))
                continue
            source = f"{env.host(flow.gateway).address}/32" if flow.gateway else str(env.zone(flow.source).cidr)
            ingress.append(Rule(flow.label, {"from": _ip_peers([source]), "ports": _ports(flow.protocol, flow.ports)}))
    if tenant.request.services and env.zone(zone).kind == "internet":
        ingress.append(public_service_rule(tenant, PUBLIC_SERVICES))
    return ingress, egress


def dns_egress_rule() -> dict[str, Any]:
    """Name resolution through the cluster DNS (kube-system, k8s-app=kube-dns)."""
    return {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
