"""Reading Kubernetes objects the way several rules need to: pod templates, network peers,
RBAC rules, quantities. Shared so that two rules never disagree on what a field means."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator, Mapping

from .. import labels
from ..model.codes import parse_quantity
from .rule import K8sObject, NotApplicable, as_list, as_map

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob")
RBAC_ROLE_KINDS = ("Role", "ClusterRole")
READ_VERBS = frozenset({"get", "list", "watch"})


def pod_spec(obj: K8sObject) -> Mapping:
    """The pod spec inside a workload (empty for other kinds)."""
    if obj.kind == "Pod":
        return obj.spec
    if obj.kind == "CronJob":
        return as_map(obj.get("spec", "jobTemplate", "spec", "template", "spec"))
    if obj.kind in WORKLOAD_KINDS:
        return as_map(obj.get("spec", "template", "spec"))
    return {}


def containers(spec: Mapping) -> Iterator[Mapping]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in as_list(spec.get(key)):
            if isinstance(container, Mapping):
                yield container


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity, or None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return parse_quantity(value if isinstance(value, str) else float(value))
    except (ValueError, TypeError):
        return None


def zone_of(obj: K8sObject, facts) -> str | None:
    """The zone an object lives in: its zone label, else its namespace owner's zone, else its
    cluster's zone (for the facts the rule declared)."""
    zone = obj.labels.get(labels.ZONE)
    if zone:
        return str(zone)
    if facts.has("tenants"):
        owner = facts.namespace_owner.get(obj.object_name if obj.kind == "Namespace" else obj.namespace or "")
        if owner:
            return str(facts.tenants[owner]["zone"])
    cluster = obj.labels.get(labels.CLUSTER)
    if cluster and facts.has("clusters") and cluster in facts.clusters:
        return str(facts.clusters[cluster]["zone"])
    return None


def label_level(obj: K8sObject) -> int | None:
    value = obj.labels.get(labels.MLPS_LEVEL)
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def cluster_of(obj: K8sObject, facts) -> str | None:
    """The cluster an object is applied to: its cluster label, else its namespace owner's cluster."""
    cluster = obj.labels.get(labels.CLUSTER)
    if cluster:
        return str(cluster)
    owner = facts.namespace_owner.get(obj.namespace or "")
    return str(facts.tenants[owner]["cluster"]) if owner else None


def owner_of(obj: K8sObject, facts) -> str | None:
    """The tenant an object belongs to: its tenant label, else the owner of its namespace."""
    return obj.tenant or facts.namespace_owner.get(obj.namespace or "")


def tenant_template(obj: K8sObject, facts) -> tuple[int | None, Mapping | None]:
    """The MLPS level of the object's tenant and that level's tenant template."""
    level = tenant_level(obj, facts)
    return level, (facts.templates.get(level) if level is not None else None)


def tenant_level(obj: K8sObject, facts) -> int | None:
    """The level the model gives the object's tenant; the label only when the tenant is unknown."""
    level = facts.tenant_level(obj.tenant) if obj.tenant else None
    return level if level is not None else label_level(obj)


# --- NetworkPolicy ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PortSpec:
    protocol: str  # tcp | udp | sctp
    port: int | None  # None: every port
    named: str | None = None  # a named port cannot be checked against the matrix

    def label(self) -> str:
        if self.named:
            return f"{self.protocol}/{self.named}"
        return f"{self.protocol}/{self.port if self.port is not None else '*'}"


@dataclass(frozen=True)
class Peer:
    direction: str  # ingress | egress
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None  # None: a pod/namespace selector
    everywhere: bool  # a rule without peers matches every address
    ports: tuple[PortSpec, ...]
    excepts: tuple = ()  # ipBlock.except: networks carved out of ``network``

    def reaches(self, network) -> bool:
        """Whether the peer covers any address of ``network`` (after its excepts)."""
        if self.network is None:
            return self.everywhere
        if self.network.version != network.version or not self.network.overlaps(network):
            return False
        return not any(e.version == network.version and network.subnet_of(e) for e in self.excepts)


MAX_PORT_RANGE = 1024


def _ports(rule: Mapping) -> tuple[PortSpec, ...]:
    found: list[PortSpec] = []
    for item in as_list(rule.get("ports")):
        item = as_map(item)
        protocol = str(item.get("protocol") or "TCP").lower()
        port = item.get("port")
        if port is None:
            found.append(PortSpec(protocol, None))
        elif isinstance(port, str) and not port.isdigit():
            found.append(PortSpec(protocol, None, named=port))
        else:
            start = int(float(port))
            end = item.get("endPort")
            end = int(float(end)) if end is not None else start
            if end - start >= MAX_PORT_RANGE:
                found.append(PortSpec(protocol, None))
            else:
                found.extend(PortSpec(protocol, p) for p in range(start, end + 1))
    return tuple(found) or (PortSpec("tcp", None), PortSpec("udp", None), PortSpec("sctp", None))


def peers(netpol: K8sObject) -> Iterator[Peer]:
    """Every peer of every ingress/egress rule, with its ports (read once per object: three
    rules look at them, in Analyze and again in AnalyzeStack)."""
    derived = netpol.derived
    if derived is None:
        derived = netpol.derived = {}
    found = derived.get("peers")
    if found is None:
        try:
            found = derived["peers"] = tuple(_peers(netpol))
        except Exception:
            return _peers(netpol)  # lazily, as ever: what it yields before its error stays yielded
    return iter(found)


@functools.lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


def _peers(netpol: K8sObject) -> Iterator[Peer]:
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        for rule in as_list(netpol.spec.get(direction)):
            rule = as_map(rule)
            ports = _ports(rule)
            rule_peers = as_list(rule.get(peer_key))
            if not rule_peers:
                yield Peer(direction, None, True, ports)
                continue
            for peer in rule_peers:
                block = as_map(as_map(peer).get("ipBlock"))
                if block.get("cidr"):
                    try:
                        network = _network(str(block["cidr"]))
                        excepts = tuple(_network(str(e)) for e in as_list(block.get("except")))
                    except ValueError:
                        continue
                    yield Peer(direction, network, network.prefixlen == 0, ports, excepts)
                else:
                    yield Peer(direction, None, False, ports)


def policy_types(netpol: K8sObject) -> set[str]:
    declared = {str(t) for t in as_list(netpol.spec.get("policyTypes"))}
    if declared:
        return declared
    # Kubernetes' defaulting: Ingress always, Egress when egress rules exist.
    return {"Ingress"} | ({"Egress"} if netpol.spec.get("egress") else set())


def selects_all_pods(netpol: K8sObject) -> bool:
    selector = as_map(netpol.spec.get("podSelector"))
    return not as_map(selector.get("matchLabels")) and not as_list(selector.get("matchExpressions"))


def is_default_deny(netpol: K8sObject) -> bool:
    return (
        selects_all_pods(netpol)
        and {"Ingress", "Egress"} <= policy_types(netpol)
        and not as_list(netpol.spec.get("ingress"))
        and not as_list(netpol.spec.get("egress"))
    )


# --- RBAC ------------------------------------------------------------------------------------
def rbac_rules(role: K8sObject) -> Iterator[Mapping]:
    for rule in as_list(role.props.get("rules")):
        if isinstance(rule, Mapping):
            yield rule


def subjects(binding: K8sObject) -> list[Mapping]:
    return [as_map(s) for s in as_list(binding.props.get("subjects"))]


def role_ref(binding: K8sObject) -> Mapping:
    return as_map(binding.props.get("roleRef"))


# --- annotations that carry lists ----------------------------------------------------------
def split_refs(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def dataset_grants(obj: K8sObject) -> tuple[list[str], set[str] | None] | None:
    """The datasets an object gives its tenant access to, and the approvals it carries.

    Two forms: an object annotated with the dataset refs (and approvals), or the data pool
    settings ConfigMap listing the consumed refs (approvals then live in the request only:
    None). Returns None when the object grants nothing.
    """
    refs = split_refs(obj.annotations.get(labels.DATASET))
    if refs:
        return refs, set(split_refs(obj.annotations.get(labels.APPROVAL)))
    data = as_map(obj.props.get("data")) if obj.kind == "ConfigMap" else {}
    if labels.DATASETS_CONSUMED_KEY in data:
        return split_refs(data.get(labels.DATASETS_CONSUMED_KEY)), None
    return None


# --- public services: Ingress and Gateway API HTTPRoute ----------------------------------------
ROUTE_KINDS = ("Ingress", "HTTPRoute")


def route_hosts(obj: K8sObject) -> list[str]:
    """Host names an Ingress or HTTPRoute answers for ("" = any host)."""
    if obj.kind == "HTTPRoute":
        return [str(h) for h in as_list(obj.spec.get("hostnames"))] or [""]
    return [str(as_map(rule).get("host") or "") for rule in as_list(obj.spec.get("rules"))]


def route_paths(obj: K8sObject) -> list[tuple[str, str]]:
    """(host, path prefix) of every route."""
    found: list[tuple[str, str]] = []
    if obj.kind == "HTTPRoute":
        paths = []
        for rule in as_list(obj.spec.get("rules")):
            matches = as_list(as_map(rule).get("matches"))
            paths += [str(as_map(as_map(m).get("path")).get("value") or "/") for m in matches] or ["/"]
        for host in route_hosts(obj):
            found += [(host, path) for path in paths or ["/"]]
        return found
    for rule in as_list(obj.spec.get("rules")):
        rule = as_map(rule)
        host = str(rule.get("host") or "")
        http_paths = as_list(as_map(rule.get("http")).get("paths"))
        found += [(host, str(as_map(p).get("path") or "/")) for p in http_paths] or [(host, "/")]
    return found


def require_grants(obj: K8sObject) -> tuple[list[str], set[str] | None]:
    """``dataset_grants`` of a tenant object, or NotApplicable."""
    grants = dataset_grants(obj)
    if grants is None or not obj.tenant:
        raise NotApplicable("not a dataset grant")
    return grants
