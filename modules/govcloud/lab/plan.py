"""What the lab of an environment consists of, derived from the model (no I/O here).

One machine per host of the environment on the bridge of its zone, plus the zone router with
one interface on every zone's bridge. The lab's own network namespace holds the bridges and
the control node: an address on the management bridge from which Ansible, testinfra and
`govcloud baseline verify` reach the hosts, as an administrator's workstation would.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from ..hosts import firewall
from ..model import Environment
from .errors import LabError


@dataclass(frozen=True)
class Interface:
    bridge_side: str  # stays in the lab namespace, enslaved to the bridge
    machine_side: str  # moved into the machine
    bridge: str
    address: IPv4Interface


@dataclass(frozen=True)
class Machine:
    name: str
    zone: str | None  # None for the zone router
    interfaces: tuple[Interface, ...]
    routes: tuple[tuple[str, str], ...]  # (network, gateway)
    forward: bool

    @property
    def address(self) -> IPv4Address:
        return self.interfaces[0].address.ip


@dataclass(frozen=True)
class Bridge:
    name: str
    zone: str
    cidr: str
    router: str


@dataclass(frozen=True)
class LabPlan:
    env: str
    directory: Path
    namespace: str
    bridges: tuple[Bridge, ...]
    machines: tuple[Machine, ...]
    control_address: IPv4Interface  # the control node, on the management bridge
    control_bridge: str
    control_routes: tuple[tuple[str, str], ...]

    def machine(self, name: str) -> Machine:
        return next(m for m in self.machines if m.name == name)


def namespace_name(env: str, directory: Path) -> str:
    """Unique per lab directory, so two checkouts on one machine never share a namespace."""
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:6]
    return f"govlab-{env}-{digest}"


def build_plan(env: Environment, directory: Path) -> LabPlan:
    directory = directory.resolve()
    managements = env.zones_of_kind("management")
    if not managements:
        raise LabError(f"environment {env.name} has no management zone: the lab's control node lives there")
    bridges = []
    bridge_of: dict[str, str] = {}
    router_ifaces = []
    for index, zone in enumerate(env.platform.zones):
        name = f"gcbr{index}"
        router = firewall.router_address(zone)
        bridges.append(Bridge(name, zone.id, str(zone.cidr), str(router)))
        bridge_of[zone.id] = name
        router_ifaces.append(Interface(f"gcr{index}", f"zr{index}", name, IPv4Interface(f"{router}/{zone.cidr.prefixlen}")))

    management = managements[0]
    control = IPv4Address(int(management.cidr.broadcast_address) - 1)
    used: dict[IPv4Address, str] = {firewall.router_address(z): f"the zone router in {z.id}" for z in env.platform.zones}
    used[control] = "the lab control node"
    machines = [Machine(firewall.ZONE_ROUTER, None, tuple(router_ifaces), (), True)]
    for index, host in enumerate(sorted(env.platform.hosts, key=lambda h: h.name)):
        if host.address in used:
            raise LabError(f"host {host.name} has address {host.address}, which the lab reserves for {used[host.address]}")
        zone = env.zone(host.zone)
        gateway = str(firewall.router_address(zone))
        routes = tuple((str(z.cidr), gateway) for z in env.platform.zones if z.id != zone.id)
        iface = Interface(f"gch{index}", f"gcm{index}", bridge_of[zone.id], IPv4Interface(f"{host.address}/{zone.cidr.prefixlen}"))
        machines.append(Machine(host.name, host.zone, (iface,), routes, False))
    control_routes = tuple(
        (str(z.cidr), str(firewall.router_address(management))) for z in env.platform.zones if z.id != management.id
    )
    return LabPlan(
        env=env.name,
        directory=directory,
        namespace=namespace_name(env.name, directory),
        bridges=tuple(bridges),
        machines=tuple(machines),
        control_address=IPv4Interface(f"{control}/{management.cidr.prefixlen}"),
        control_bridge=bridge_of[management.id],
        control_routes=control_routes,
    )
