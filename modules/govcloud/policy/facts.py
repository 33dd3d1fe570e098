"""Model facts as the policy pack receives them: one configuration property per fact.

``govcloud policy config`` writes them from the model (``config.py``); CrossGuard validates each
policy's properties against the schemas below and hands a rule only the facts it declared.
Everything here works on plain JSON (numbers arrive as floats through protobuf Structs) and
imports nothing from the model: the pack process stays small and the rules stay pure.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

_STR = {"type": "string"}
_STRINGS = {"type": "array", "items": _STR}

FACT_SCHEMAS: dict[str, dict[str, Any]] = {
    "zones": {
        "type": "object",
        "description": "Zone id -> {kind, cidr, max_level}",
        "additionalProperties": {"type": "object", "required": ["kind", "cidr", "max_level"]},
    },
    "flows": {
        "type": "array",
        "description": "Allowed flows between zones: {from, to, protocol, ports, gateway}",
        "items": {"type": "object", "required": ["from", "to", "protocol", "ports"]},
    },
    "clusters": {
        "type": "object",
        "description": "Cluster id -> {zone, registry, kubernetes_version}",
        "additionalProperties": {"type": "object", "required": ["zone", "registry", "kubernetes_version"]},
    },
    "templates": {
        "type": "object",
        "description": "MLPS level -> {quotas_max, limits_max, namespaces_max, pod_security}",
        "additionalProperties": {"type": "object", "required": ["quotas_max", "limits_max", "pod_security"]},
    },
    "tenants": {
        "type": "object",
        "description": "Tenant id -> {level, zone, cluster, namespaces}",
        "additionalProperties": {"type": "object", "required": ["level", "zone", "cluster", "namespaces"]},
    },
    "administrators": {
        "type": "object",
        "description": "Tenant id -> {system, security, audit} accounts",
        "additionalProperties": {"type": "object", "required": ["system", "security", "audit"]},
    },
    "approvals": {
        "type": "object",
        "description": "Tenant id -> approval references recorded in its request",
        "additionalProperties": _STRINGS,
    },
    "services": {
        "type": "object",
        "description": "Tenant id -> public services [{host, path, port}]",
        "additionalProperties": {"type": "array", "items": {"type": "object", "required": ["host", "path", "port"]}},
    },
    "datasets": {
        "type": "object",
        "description": "Dataset ref (tenant/name) -> {publisher, sharing, sensitivity}",
        "additionalProperties": {"type": "object", "required": ["publisher", "sharing", "sensitivity"]},
    },
    "consumes": {
        "type": "object",
        "description": "Tenant id -> {dataset ref -> approval reference ('' when none)}",
        "additionalProperties": {"type": "object", "additionalProperties": _STR},
    },
}


def _int(value: Any) -> int:
    return int(float(value))


@dataclass(frozen=True)
class Zone:
    id: str
    kind: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    max_level: int


@dataclass(frozen=True)
class Flow:
    source: str
    destination: str
    protocol: str
    ports: frozenset[int]
    gateway: str | None


class Facts:
    """Typed, lazily parsed view of one policy's configuration."""

    def __init__(self, config: Mapping[str, Any]):
        self._config = config

    def has(self, name: str) -> bool:
        return name in self._config

    def raw(self, name: str) -> Any:
        if name not in self._config:
            raise KeyError(f"fact {name!r} is missing from the policy configuration; generate it with `govcloud policy config`")
        return self._config[name]

    @cached_property
    def zones(self) -> dict[str, Zone]:
        return {
            zone_id: Zone(zone_id, str(z["kind"]), ipaddress.ip_network(str(z["cidr"]), strict=False), _int(z["max_level"]))
            for zone_id, z in self.raw("zones").items()
        }

    def zone_kind(self, zone_id: str | None) -> str | None:
        zone = self.zones.get(zone_id or "")
        return zone.kind if zone else None

    def zones_overlapping(self, network) -> list[Zone]:
        return [z for z in self.zones.values() if z.network.version == network.version and z.network.overlaps(network)]

    def zones_reached(self, peer) -> list[Zone]:
        """Zones a NetworkPolicy peer reaches (selector peers: none; excepts honoured)."""
        return [z for z in self.zones.values() if peer.reaches(z.network)]

    def outside_zones(self, network) -> bool:
        """Whether ``network`` holds addresses of no zone (the zones' plans do not cover it)."""
        return not any(network.subnet_of(z.network) for z in self.zones_overlapping(network))

    @cached_property
    def flows(self) -> list[Flow]:
        return [
            Flow(str(f["from"]), str(f["to"]), str(f["protocol"]), frozenset(_int(p) for p in f.get("ports") or ()),
                 str(f["gateway"]) if f.get("gateway") else None)
            for f in self.raw("flows")
        ]

    def flow_allows(self, source: str, destination: str, protocol: str, port: int | None) -> bool:
        """Whether the matrix allows ``protocol/port`` from ``source`` to ``destination`` (port None: any port)."""
        for flow in self.flows:
            if flow.source != source or flow.destination != destination or flow.protocol != protocol:
                continue
            if port is None:
                if protocol == "icmp":
                    return True
                continue
            if port in flow.ports:
                return True
        return False

    @cached_property
    def clusters(self) -> dict[str, Mapping[str, Any]]:
        return dict(self.raw("clusters"))

    @cached_property
    def templates(self) -> dict[int, Mapping[str, Any]]:
        return {_int(level): template for level, template in self.raw("templates").items()}

    @cached_property
    def tenants(self) -> dict[str, Mapping[str, Any]]:
        return dict(self.raw("tenants"))

    def tenant_level(self, tenant: str) -> int | None:
        found = self.tenants.get(tenant)
        return _int(found["level"]) if found else None

    @cached_property
    def namespace_owner(self) -> dict[str, str]:
        return {str(ns): tenant for tenant, t in self.tenants.items() for ns in t.get("namespaces") or ()}

    @cached_property
    def administrators(self) -> dict[str, Mapping[str, str]]:
        return dict(self.raw("administrators"))

    @cached_property
    def tenant_accounts(self) -> set[str]:
        return {str(a) for admins in self.administrators.values() for a in admins.values()}

    @cached_property
    def approvals(self) -> dict[str, set[str]]:
        return {tenant: {str(r) for r in refs} for tenant, refs in self.raw("approvals").items()}

    @cached_property
    def services(self) -> dict[str, list[Mapping[str, Any]]]:
        return {tenant: list(items) for tenant, items in self.raw("services").items()}

    @cached_property
    def datasets(self) -> dict[str, Mapping[str, Any]]:
        return dict(self.raw("datasets"))

    @cached_property
    def consumes(self) -> dict[str, Mapping[str, str]]:
        return {tenant: dict(refs) for tenant, refs in self.raw("consumes").items()}


_CACHE: dict[tuple, tuple[tuple, Facts]] = {}
_EMPTY = Facts({})


def facts_for(config: Mapping[str, Any] | None) -> Facts:
    """The parsed facts of a policy configuration, cached across calls.

    The SDK hands every call a shallow copy of the same configuration, so the fact values
    themselves are the same objects until the next Configure: key the cache on their ids and
    keep the objects alive with the entry so an id cannot be reused while cached.
    """
    if not config:
        return _EMPTY
    values = tuple(config.values())
    key = tuple(map(id, values))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit[1]
    if len(_CACHE) > 256:
        _CACHE.clear()
    facts = Facts(config)
    _CACHE[key] = (values, facts)
    return facts
