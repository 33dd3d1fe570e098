"""Model facts as the policy pack receives them: one configuration property per fact.

``govcloud policy config`` writes them from the model (``config.py``); CrossGuard validates each
policy's properties against the schemas below and hands a rule only the facts it declared.
Everything here works on plain JSON (numbers arrive as floats through protobuf Structs) and
imports nothing from the model: the pack process stays small and the rules stay pure.
"""

from __future__ import annotations

import contextvars
import ipaddress
import json
import os
import threading
from collections.abc import Iterator, Set
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


# --- what a check read (the verdict cache's dependencies) ------------------------------------
# With GOVCLOUD_FACT_TRACE=FILE the pack appends, for every stack, each fact it looked up: one
# JSON line [stack, view, key], key "" for a whole view (iterated or counted), else the JSON of the
# key looked up. `govcloud check` keys a stack's cached verdicts on the values of exactly these, so
# a model change invalidates the stacks whose rules read what changed, and no other.
ENV_TRACE = "GOVCLOUD_FACT_TRACE"
WHOLE = ""
ANY_STACK = "*"  # a read no stack can be told for: every stack of the run depends on it
VIEWS = ("zones", "flows", "clusters", "templates", "tenants", "namespace_owner", "administrators", "tenant_accounts",
         "approvals", "services", "datasets", "consumes")

_reading_for: contextvars.ContextVar[str | None] = contextvars.ContextVar("govcloud_fact_stack", default=None)


class _Trace:
    def __init__(self, path: str):
        self.path = path
        self.seen: set[tuple[str, str, str]] = set()
        self.raw_seen: set[tuple[Any, ...]] = set()  # see record_key
        self.lock = threading.Lock()
        self._lines: list[str] = []  # recorded, not yet written: see flush

    def record_key(self, view: str, key: Any) -> None:
        """``record(view, key_of(key))``, the JSON of a key made once per stack and view: a
        stack's rules look the same keys up many times."""
        try:
            raw = (_reading_for.get(), view, key, type(key))  # the type: 1, 1.0 and True are equal keys
            if raw in self.raw_seen:
                return
        except TypeError:  # an unhashable key
            self.record(view, key_of(key))
            return
        self.record(view, key_of(key))
        self.raw_seen.add(raw)

    def record(self, view: str, key: str) -> None:
        item = (_reading_for.get() or ANY_STACK, view, key)
        if item in self.seen:
            return
        with self.lock:
            if item in self.seen:
                return
            self.seen.add(item)
            self._lines.append(json.dumps(list(item), ensure_ascii=False) + "\n")

    def flush(self) -> None:
        with self.lock:
            lines, self._lines = self._lines, []
            if lines:
                with open(self.path, "a", encoding="utf-8") as trace:
                    trace.write("".join(lines))


_TRACE: _Trace | None = _Trace(os.environ[ENV_TRACE]) if os.environ.get(ENV_TRACE) else None


def flush_trace() -> None:
    """Write what the trace recorded to its file. The pack calls it before it answers a stack's
    AnalyzeStack, the last request about the stack (its Analyze calls were all answered before):
    the lines are on disk before the check reads them, and the pack, ended by a signal, holds none
    back. One write per stack, not one per lookup."""
    if _TRACE is not None:
        _TRACE.flush()


def stack_of(urn: str) -> str | None:
    """The stack a URN (urn:pulumi:<stack>::<project>::...) belongs to."""
    head = urn.split("::", 1)[0]
    return head[len("urn:pulumi:"):] if head.startswith("urn:pulumi:") and "::" in urn else None


class reading_for:  # noqa: N801 (used as a function: ``with reading_for(stack):``)
    """Attribute the facts read inside the block to ``stack`` (when tracing). A class rather than
    a generator: it runs once per rule and resource."""

    __slots__ = ("_stack", "_token")

    def __init__(self, stack: str | None):
        self._stack = stack

    def __enter__(self) -> None:
        self._token = _reading_for.set(self._stack)

    def __exit__(self, *exc: object) -> None:
        _reading_for.reset(self._token)


def key_of(key: Any) -> str:
    return json.dumps(key, ensure_ascii=False, sort_keys=True)


class _Tracked:
    """A view that records each lookup (``in``, ``[]``, ``get``) and, when iterated or counted, the whole."""

    __slots__ = ("_view", "_data", "_trace")

    def __init__(self, view: str, data: Any, trace: _Trace):
        self._view, self._data, self._trace = view, data, trace

    def _whole(self) -> Any:
        self._trace.record(self._view, WHOLE)
        return self._data

    def __contains__(self, key: object) -> bool:
        self._trace.record_key(self._view, key)
        return key in self._data

    def __iter__(self) -> Iterator:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())


class _TrackedMap(_Tracked, Mapping):
    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        self._trace.record_key(self._view, key)
        return self._data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        self._trace.record_key(self._view, key)
        return self._data.get(key, default)

    def keys(self):
        return self._whole().keys()

    def values(self):
        return self._whole().values()

    def items(self):
        return self._whole().items()


class _TrackedSet(_Tracked, Set):
    __slots__ = ()


def _tracked(view: str, value: Any) -> Any:
    trace = _TRACE
    if trace is None:
        return value
    if isinstance(value, Mapping):
        return _TrackedMap(view, value, trace)
    if isinstance(value, Set):
        return _TrackedSet(view, value, trace)
    trace.record(view, WHOLE)  # a list: whatever a rule does with it, it saw all of it
    return value


def plain(value: Any) -> Any:
    """A view's value as JSON data (for the cache's digests of what a rule read)."""
    if isinstance(value, (Zone, Flow)):
        return {k: plain(v) for k, v in vars(value).items()}
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=key_of)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class Facts:
    """Typed, lazily parsed view of one policy's configuration.

    Rules read the public views (``zones``, ``tenants``, ``namespace_owner``, ...); under
    GOVCLOUD_FACT_TRACE each lookup in a view is recorded for the stack being checked.
    ``view(name)`` is the untraced value, for the cache's side and for derived views.
    """

    def __init__(self, config: Mapping[str, Any]):
        self._config = config
        # What the network questions answered, by network: the zones never change under a Facts,
        # and the same few peers come back in every tenant's NetworkPolicies.
        self._reached: dict[tuple, list[Zone]] = {}
        self._outside: dict[Any, bool] = {}

    def has(self, name: str) -> bool:
        return name in self._config

    def raw(self, name: str) -> Any:
        if name not in self._config:
            raise KeyError(f"fact {name!r} is missing from the policy configuration; generate it with `govcloud policy config`")
        return self._config[name]

    def view(self, name: str) -> Any:
        if name not in VIEWS:
            raise KeyError(f"{name!r} is not a view of the facts")
        return getattr(self, f"_{name}")

    def lookup(self, name: str, key: str) -> Any:
        """What a rule saw when it looked up ``key`` (``key_of``'s JSON, WHOLE for all) in a view."""
        value = self.view(name)
        if key == WHOLE:
            return plain(value)
        wanted = json.loads(key)
        if isinstance(value, Set):
            return wanted in value
        try:
            return {"found": plain(value[wanted])} if wanted in value else {"absent": True}
        except TypeError:  # an unhashable key was never in a view
            return {"absent": True}

    # -- the views, untraced -----------------------------------------------------------------
    @cached_property
    def _zones(self) -> dict[str, Zone]:
        return {
            zone_id: Zone(zone_id, str(z["kind"]), ipaddress.ip_network(str(z["cidr"]), strict=False), _int(z["max_level"]))
            for zone_id, z in self.raw("zones").items()
        }

    @cached_property
    def _flows(self) -> list[Flow]:
        return [
            Flow(str(f["from"]), str(f["to"]), str(f["protocol"]), frozenset(_int(p) for p in f.get("ports") or ()),
                 str(f["gateway"]) if f.get("gateway") else None)
            for f in self.raw("flows")
        ]

    @cached_property
    def _clusters(self) -> dict[str, Mapping[str, Any]]:
        return dict(self.raw("clusters"))

    @cached_property
    def _templates(self) -> dict[int, Mapping[str, Any]]:
        return {_int(level): template for level, template in self.raw("templates").items()}

    @cached_property
    def _tenants(self) -> dict[str, Mapping[str, Any]]:
        return dict(self.raw("tenants"))

    @cached_property
    def _namespace_owner(self) -> dict[str, str]:
        return {str(ns): tenant for tenant, t in self._tenants.items() for ns in t.get("namespaces") or ()}

    @cached_property
    def _administrators(self) -> dict[str, Mapping[str, str]]:
        return dict(self.raw("administrators"))

    @cached_property
    def _tenant_accounts(self) -> frozenset[str]:
        return frozenset(str(a) for admins in self._administrators.values() for a in admins.values())

    @cached_property
    def _approvals(self) -> dict[str, set[str]]:
        return {tenant: {str(r) for r in refs} for tenant, refs in self.raw("approvals").items()}

    @cached_property
    def _services(self) -> dict[str, list[Mapping[str, Any]]]:
        return {tenant: list(items) for tenant, items in self.raw("services").items()}

    @cached_property
    def _datasets(self) -> dict[str, Mapping[str, Any]]:
        return dict(self.raw("datasets"))

    @cached_property
    def _consumes(self) -> dict[str, Mapping[str, str]]:
        return {tenant: dict(refs) for tenant, refs in self.raw("consumes").items()}

    # -- the views rules read -----------------------------------------------------------------
    @property
    def zones(self) -> Mapping[str, Zone]:
        return _tracked("zones", self._zones)

    @property
    def flows(self) -> list[Flow]:
        return _tracked("flows", self._flows)

    @property
    def clusters(self) -> Mapping[str, Mapping[str, Any]]:
        return _tracked("clusters", self._clusters)

    @property
    def templates(self) -> Mapping[int, Mapping[str, Any]]:
        return _tracked("templates", self._templates)

    @property
    def tenants(self) -> Mapping[str, Mapping[str, Any]]:
        return _tracked("tenants", self._tenants)

    @property
    def namespace_owner(self) -> Mapping[str, str]:
        """Namespace -> the tenant whose request lists it."""
        return _tracked("namespace_owner", self._namespace_owner)

    @property
    def administrators(self) -> Mapping[str, Mapping[str, str]]:
        return _tracked("administrators", self._administrators)

    @property
    def tenant_accounts(self) -> Set[str]:
        """Every tenant administrator's account."""
        return _tracked("tenant_accounts", self._tenant_accounts)

    @property
    def approvals(self) -> Mapping[str, set[str]]:
        return _tracked("approvals", self._approvals)

    @property
    def services(self) -> Mapping[str, list[Mapping[str, Any]]]:
        return _tracked("services", self._services)

    @property
    def datasets(self) -> Mapping[str, Mapping[str, Any]]:
        return _tracked("datasets", self._datasets)

    @property
    def consumes(self) -> Mapping[str, Mapping[str, str]]:
        return _tracked("consumes", self._consumes)

    # -- questions rules ask ----------------------------------------------------------------------
    def zone_kind(self, zone_id: str | None) -> str | None:
        zone = self.zones.get(zone_id or "")
        return zone.kind if zone else None

    def zones_overlapping(self, network) -> list[Zone]:
        return [z for z in self.zones.values() if z.network.version == network.version and z.network.overlaps(network)]

    def zones_reached(self, peer) -> list[Zone]:
        """Zones a NetworkPolicy peer reaches (selector peers: none; excepts honoured)."""
        zones = self.zones.values()  # read (and traced) whether or not the answer is known
        try:
            key = (peer.network, peer.everywhere, peer.excepts)  # all ``k8s.Peer.reaches`` looks at
        except AttributeError:  # a peer of another shape: asked every time
            return [z for z in zones if peer.reaches(z.network)]
        found = self._reached.get(key)
        if found is None:
            found = self._reached[key] = [z for z in zones if peer.reaches(z.network)]
        return list(found)

    def outside_zones(self, network) -> bool:
        """Whether ``network`` holds addresses of no zone (the zones' plans do not cover it)."""
        zones = self.zones.values()  # read (and traced) whether or not the answer is known
        found = self._outside.get(network)
        if found is None:
            found = self._outside[network] = not any(network.subnet_of(z.network) for z in zones
                                                     if z.network.version == network.version and z.network.overlaps(network))
        return found

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

    def tenant_level(self, tenant: str) -> int | None:
        found = self.tenants.get(tenant)
        return _int(found["level"]) if found else None


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
