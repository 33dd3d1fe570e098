"""Firewall rules from the flow matrix: each host's input/output and the zone router's forward.

A flow names zones; which hosts of a zone take part follows from their role:

- a flow through a gateway starts (or ends) at that gateway when the gateway is in that zone;
- from a management zone: administrators connect from bastion hosts, to every host;
- to a management zone: every host forwards its logs, to the log collectors;
- to the data pool's zone: tenants' workloads (cluster nodes) reach the data pool hosts;
- otherwise: cluster nodes of one zone reach cluster nodes (ingress) of the other.

Inside a management zone two more rules hold: management access (SSH) to its own hosts and
log forwarding to its own collectors. Everything else is denied, in and out, on every host;
the zone router forwards exactly the flows between zone address plans (narrowed to the
gateway's address for gateway flows).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from ..model import Environment
from ..model.platform import Flow, Host, Zone

SSH_PORT = 22
DEFAULT_LOG_PORT = 514
DEFAULT_TIME_PORT = 123
ZONE_ROUTER = "zone-router"


@dataclass(frozen=True)
class Rule:
    """One accept rule: peers (addresses or networks), protocol, ports and why it exists."""

    peers: tuple[str, ...]
    protocol: str
    ports: tuple[int, ...]
    comment: str

    def as_dict(self) -> dict:
        return {"peers": list(self.peers), "protocol": self.protocol, "ports": list(self.ports), "comment": self.comment}


@dataclass(frozen=True)
class ForwardRule:
    sources: tuple[str, ...]
    destinations: tuple[str, ...]
    protocol: str
    ports: tuple[int, ...]
    comment: str

    def as_dict(self) -> dict:
        return {
            "sources": list(self.sources),
            "destinations": list(self.destinations),
            "protocol": self.protocol,
            "ports": list(self.ports),
            "comment": self.comment,
        }


def router_address(zone: Zone) -> IPv4Address:
    """The zone router's address in a zone (``Zone.router_address``)."""
    return zone.router_address


def _gateway(env: Environment, flow: Flow) -> Host | None:
    return env.host(flow.gateway) if flow.gateway else None


def _kind(env: Environment, zone_id: str) -> str:
    return env.zone(zone_id).kind


def _of_role(env: Environment, zone_id: str, *roles: str) -> list[Host]:
    return [h for h in env.hosts_in(zone_id) if h.role in roles]


def flow_targets(env: Environment, flow: Flow) -> list[Host]:
    """The hosts of the destination zone that serve a flow."""
    gateway = _gateway(env, flow)
    if gateway is not None and gateway.zone == flow.destination:
        return [gateway]
    if _kind(env, flow.source) == "management":
        return env.hosts_in(flow.destination)
    if _kind(env, flow.destination) == "management":
        return _of_role(env, flow.destination, "log-collector")
    if flow.destination == env.platform.datapool.zone:
        return [env.host(name) for name in env.platform.datapool.hosts]
    return _of_role(env, flow.destination, "cluster-node")


def flow_sources(env: Environment, flow: Flow) -> list[Host]:
    """The hosts of the source zone that start a flow."""
    gateway = _gateway(env, flow)
    if gateway is not None and gateway.zone == flow.source:
        return [gateway]
    if _kind(env, flow.source) == "management":
        return _of_role(env, flow.source, "bastion")
    if _kind(env, flow.destination) == "management":
        return env.hosts_in(flow.source)
    return _of_role(env, flow.source, "cluster-node")


def _source_peers(env: Environment, flow: Flow) -> tuple[str, ...]:
    gateway = _gateway(env, flow)
    if gateway is not None and gateway.zone == flow.source:
        return (str(gateway.address),)
    return (str(env.zone(flow.source).cidr),)


def _destination_peers(env: Environment, flow: Flow) -> tuple[str, ...]:
    gateway = _gateway(env, flow)
    if gateway is not None and gateway.zone == flow.destination:
        return (str(gateway.address),)
    return (str(env.zone(flow.destination).cidr),)


def _management_port(env: Environment, protocol: str, default: int) -> int:
    ports = sorted({p for f in env.platform.flows if _kind(env, f.destination) == "management" and f.protocol == protocol
                    for p in f.ports})
    return ports[0] if ports else default


def log_port(env: Environment) -> int:
    """The port hosts forward logs to: the TCP port the flows into management zones name."""
    return _management_port(env, "tcp", DEFAULT_LOG_PORT)


def time_port(env: Environment) -> int:
    """The NTP port hosts synchronise their clocks on: the UDP port the flows into management zones name."""
    return _management_port(env, "udp", DEFAULT_TIME_PORT)


def log_collectors(env: Environment) -> list[Host]:
    """The management zone's log and time hosts: every host sends its logs there and takes its time from them."""
    return [h for h in env.platform.hosts if h.role == "log-collector" and _kind(env, h.zone) == "management"]


def time_clients(env: Environment) -> tuple[str, ...]:
    """Networks the time hosts answer: the management zones and every zone with a time flow to them."""
    sources = {str(env.zone(f.source).cidr) for f in env.platform.flows
               if _kind(env, f.destination) == "management" and f.protocol == "udp" and time_port(env) in f.ports}
    return tuple(sorted(set(management_networks(env)) | sources))


def management_networks(env: Environment) -> tuple[str, ...]:
    return tuple(str(z.cidr) for z in env.zones_of_kind("management"))


def _addresses(hosts: list[Host]) -> tuple[str, ...]:
    return tuple(sorted((str(h.address) for h in hosts), key=IPv4Address))


def host_input(env: Environment, host: Host) -> list[Rule]:
    rules: list[Rule] = []
    zone = env.zone(host.zone)
    if zone.kind == "management":
        rules.append(Rule((str(zone.cidr),), "tcp", (SSH_PORT,), f"management access within {zone.id}"))
        if host.role == "log-collector":
            rules.append(Rule((str(zone.cidr),), "tcp", (log_port(env),), f"log forwarding within {zone.id}"))
            rules.append(Rule((str(zone.cidr),), "udp", (time_port(env),), f"time synchronisation within {zone.id}"))
    for flow in env.platform.flows:
        if host in flow_targets(env, flow):
            rules.append(Rule(_source_peers(env, flow), flow.protocol, tuple(flow.ports), f"flow {flow.label}: {flow.purpose}"))
    return _merge(rules)


def host_output(env: Environment, host: Host) -> list[Rule]:
    rules: list[Rule] = []
    zone = env.zone(host.zone)
    if zone.kind == "management":
        peers = [h for h in env.hosts_in(zone.id) if h != host]
        if host.role == "bastion" and peers:
            rules.append(Rule(_addresses(peers), "tcp", (SSH_PORT,), f"management access within {zone.id}"))
        collectors = [h for h in log_collectors(env) if h.zone == zone.id and h != host]
        if collectors:
            rules.append(Rule(_addresses(collectors), "tcp", (log_port(env),), f"log forwarding within {zone.id}"))
            rules.append(Rule(_addresses(collectors), "udp", (time_port(env),), f"time synchronisation within {zone.id}"))
    for flow in env.platform.flows:
        if host in flow_sources(env, flow):
            targets = flow_targets(env, flow)
            if targets:
                rules.append(Rule(_addresses(targets), flow.protocol, tuple(flow.ports), f"flow {flow.label}: {flow.purpose}"))
    return _merge(rules)


def _merge(rules: list[Rule]) -> list[Rule]:
    """Deterministic order; identical peer/protocol/port rules are kept once."""
    seen: dict[tuple, Rule] = {}
    for rule in rules:
        seen.setdefault((rule.peers, rule.protocol, rule.ports), rule)
    return sorted(seen.values(), key=lambda r: (r.protocol, r.ports, r.peers))


def router_forward(env: Environment) -> list[ForwardRule]:
    """The zone router forwards exactly the flows of the matrix, in matrix order."""
    return [
        ForwardRule(_source_peers(env, f), _destination_peers(env, f), f.protocol, tuple(f.ports), f"flow {f.label}: {f.purpose}")
        for f in env.platform.flows
    ]


def router_input(env: Environment) -> list[Rule]:
    return [Rule(management_networks(env), "tcp", (SSH_PORT,), "management access to the zone router")]


def listening_ports(env: Environment, host: Host) -> list[int]:
    """Ports a host may listen on beyond loopback: SSH, and what its role serves."""
    ports = {SSH_PORT}
    if host.role == "log-collector":
        ports.update((log_port(env), time_port(env)))
    if host.name in env.platform.datapool.hosts:
        ports.add(env.platform.datapool.port)
    return sorted(ports)
