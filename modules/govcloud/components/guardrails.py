"""Admission guardrails: native ValidatingAdmissionPolicies whose rules are CEL expressions.

The guardrails are data here (name, matched resources, variables, validations) so that the
foundation turns them into objects and the tests evaluate the very same expressions with a
real CEL implementation against compliant and violating objects. They apply to tenant
namespaces only (namespaces carrying the tenant label); platform namespaces are governed by
the platform team's own reviews.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .. import labels
from ..model import Environment
from ..model.platform import Cluster

# Admission request operations the guardrails check.
WRITE_OPERATIONS = ("CREATE", "UPDATE")

# Workload kinds and the resources they are served as; every path to a Pod template is covered.
WORKLOAD_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("pods", "replicationcontrollers")),
    ("apps", ("deployments", "statefulsets", "daemonsets", "replicasets")),
    ("batch", ("jobs", "cronjobs")),
)

# The Pod template of any workload kind; the variables every workload guardrail builds on.
WORKLOAD_VARIABLES: tuple[tuple[str, str], ...] = (
    (
        "podSpec",
        "object.kind == 'Pod' ? object.spec : "
        "(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)",
    ),
    (
        "podMeta",
        "object.kind == 'Pod' ? object.metadata : "
        "(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.metadata : object.spec.template.metadata)",
    ),
    (
        "containers",
        "variables.podSpec.containers"
        " + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])"
        " + (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])",
    ),
)


@dataclass(frozen=True)
class Validation:
    expression: str
    message: str


@dataclass(frozen=True)
class Guardrail:
    name: str
    description: str
    rules: tuple[tuple[str, tuple[str, ...]], ...]
    validations: tuple[Validation, ...]
    variables: tuple[tuple[str, str], ...] = ()
    # Zone kinds where the guardrail is not installed (e.g. LoadBalancers are the point of the internet zone).
    exempt_zone_kinds: tuple[str, ...] = field(default=())


def _cel_string(value: str) -> str:
    # JSON string syntax is valid CEL string syntax for the characters we use.
    return json.dumps(value)


def _cel_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_cel_string(v) for v in values) + "]"


def approved_registry(registry: str) -> Guardrail:
    prefix = registry.rstrip("/") + "/"
    return Guardrail(
        name="govcloud-approved-registry",
        description=f"Container images come only from the cluster's approved registry {registry}.",
        rules=WORKLOAD_RULES,
        variables=WORKLOAD_VARIABLES,
        validations=(
            Validation(
                f"variables.containers.all(c, c.image.startsWith({_cel_string(prefix)}))",
                f"every container image must come from the approved registry {prefix}",
            ),
        ),
    )


NO_PRIVILEGED = Guardrail(
    name="govcloud-no-privileged",
    description="No privileged containers.",
    rules=WORKLOAD_RULES,
    variables=WORKLOAD_VARIABLES,
    validations=(
        Validation(
            "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged)"
            " || c.securityContext.privileged == false)",
            "privileged containers are not allowed",
        ),
    ),
)

NO_HOST_NAMESPACES = Guardrail(
    name="govcloud-no-host-namespaces",
    description="No sharing of the node's network, PID or IPC namespace.",
    rules=WORKLOAD_RULES,
    variables=WORKLOAD_VARIABLES,
    validations=tuple(
        Validation(
            f"!has(variables.podSpec.{field_}) || variables.podSpec.{field_} == false",
            f"{field_} is not allowed",
        )
        for field_ in ("hostNetwork", "hostPID", "hostIPC")
    ),
)

NO_HOST_PATH = Guardrail(
    name="govcloud-no-host-path",
    description="No hostPath volumes.",
    rules=WORKLOAD_RULES,
    variables=WORKLOAD_VARIABLES,
    validations=(
        Validation(
            "!has(variables.podSpec.volumes) || variables.podSpec.volumes.all(v, !has(v.hostPath))",
            "hostPath volumes are not allowed",
        ),
    ),
)

REQUIRED_LABELS = Guardrail(
    name="govcloud-required-labels",
    description="Workloads and their Pod templates carry the tenant labels of their namespace.",
    rules=WORKLOAD_RULES,
    variables=WORKLOAD_VARIABLES,
    validations=(
        Validation(
            f"{_cel_list(labels.REQUIRED_WORKLOAD_LABELS)}.all(k, has(object.metadata.labels) && k in object.metadata.labels)",
            "workloads must carry the labels " + ", ".join(labels.REQUIRED_WORKLOAD_LABELS),
        ),
        Validation(
            f"{_cel_list(labels.REQUIRED_WORKLOAD_LABELS)}.all(k, has(variables.podMeta.labels) && k in variables.podMeta.labels)",
            "pod templates must carry the labels " + ", ".join(labels.REQUIRED_WORKLOAD_LABELS),
        ),
        Validation(
            # The CronJob controller creates Jobs from jobTemplate.metadata: they need the labels too.
            f"object.kind != 'CronJob' || {_cel_list(labels.REQUIRED_WORKLOAD_LABELS)}.all(k, "
            "has(object.spec.jobTemplate.metadata) && has(object.spec.jobTemplate.metadata.labels)"
            " && k in object.spec.jobTemplate.metadata.labels)",
            "job templates of CronJobs must carry the labels " + ", ".join(labels.REQUIRED_WORKLOAD_LABELS),
        ),
        Validation(
            f"!has(object.metadata.labels) || !({_cel_string(labels.TENANT)} in object.metadata.labels)"
            f" || object.metadata.labels[{_cel_string(labels.TENANT)}] == namespaceObject.metadata.labels[{_cel_string(labels.TENANT)}]",
            "the tenant label must name the tenant that owns the namespace",
        ),
    ),
)

SERVICE_EXPOSURE = Guardrail(
    name="govcloud-no-node-exposure",
    description="No NodePort or LoadBalancer Services outside the internet zone: public traffic enters through the shared gateway.",
    rules=(("", ("services",)),),
    validations=(
        Validation(
            "!has(object.spec.type) || !(object.spec.type in ['NodePort', 'LoadBalancer'])",
            "NodePort and LoadBalancer Services are only allowed in the internet zone; publish through the shared gateway",
        ),
    ),
    exempt_zone_kinds=("internet",),
)

NAMESPACE_POD_SECURITY = Guardrail(
    name="govcloud-namespace-pod-security",
    description="Tenant namespaces keep an enforcing Pod Security level (baseline or restricted).",
    rules=(("", ("namespaces",)),),
    validations=(
        Validation(
            f"has(object.metadata.labels) && {_cel_string(labels.PSA_ENFORCE)} in object.metadata.labels"
            f" && object.metadata.labels[{_cel_string(labels.PSA_ENFORCE)}] in ['baseline', 'restricted']",
            "tenant namespaces must enforce the baseline or restricted Pod Security level",
        ),
    ),
)


PeerPorts = dict[str, list[str]]


def flow_peers(env: Environment, zone_id: str) -> tuple[PeerPorts, PeerPorts]:
    """What the zone matrix lets a namespace in ``zone_id`` reach (egress) and be reached from
    (ingress) by address: for each flow, the other zone's CIDR, each of its hosts (/32) and the
    flow's gateway host, with the flow's ``PROTOCOL/port`` entries. ICMP has no NetworkPolicy
    form and is skipped."""
    def peers(flows, other_zone) -> PeerPorts:
        found: dict[str, set[str]] = {}
        for flow in flows:
            if flow.protocol == "icmp":
                continue
            other = other_zone(flow)
            cidrs = [str(env.zone(other).cidr)] + [f"{host.address}/32" for host in env.hosts_in(other)]
            if flow.gateway is not None:  # a flow through a gateway reaches the gateway host, whichever zone it is in
                cidrs.append(f"{env.host(flow.gateway).address}/32")
            for cidr in cidrs:
                found.setdefault(cidr, set()).update(f"{flow.protocol.upper()}/{port}" for port in flow.ports)
        return {cidr: sorted(ports) for cidr, ports in found.items()}  # json.dumps(sort_keys=True) orders the CIDRs

    return peers(env.flows_from(zone_id), lambda f: f.destination), peers(env.flows_to(zone_id), lambda f: f.source)


def _peer_rule(direction: str, peers_field: str, variable: str) -> str:
    # Every ipBlock peer must be an address the matrix allows, on the flow's protocol and ports;
    # pod and namespace selectors (traffic inside the cluster, e.g. DNS) are not this rail's concern.
    return (
        f"!has(object.spec.{direction}) || object.spec.{direction}.all(r, !has(r.{peers_field}) || r.{peers_field}.all(p, "
        f"!has(p.ipBlock) || (p.ipBlock.cidr in variables.{variable} && has(r.ports) && r.ports.all(q, "
        f"has(q.port) && !has(q.endPort) && ((has(q.protocol) ? q.protocol : 'TCP') + '/' + string(q.port)) "
        f"in variables.{variable}[p.ipBlock.cidr]))))"
    )


def _peer_message(what: str) -> str:
    return f"{what} (allowed: a zone CIDR or one of its hosts, with the flow's protocol and numeric port)"


def zone_flows(zone_id: str, egress: PeerPorts, ingress: PeerPorts) -> Guardrail:
    """Tenant administrators may write NetworkPolicies, but none that opens a flow the zone
    matrix does not allow: address peers are limited to the matrix's zones and ports."""
    return Guardrail(
        name="govcloud-zone-flows",
        description=f"NetworkPolicies in tenant namespaces open only flows the zone matrix allows for zone {zone_id}.",
        rules=(("networking.k8s.io", ("networkpolicies",)),),
        variables=(("egressPeers", json.dumps(egress, sort_keys=True)), ("ingressPeers", json.dumps(ingress, sort_keys=True))),
        validations=(
            Validation(_peer_rule("egress", "to", "egressPeers"), _peer_message(f"egress to an address the zone matrix does not allow from zone {zone_id}")),
            Validation(_peer_rule("ingress", "from", "ingressPeers"), _peer_message(f"ingress from an address the zone matrix does not allow into zone {zone_id}")),
        ),
    )


def for_cluster(env: Environment, cluster: Cluster) -> tuple[Guardrail, ...]:
    """The guardrails installed on ``cluster``, in a stable order."""
    zone = env.zone(cluster.zone)
    rails = (
        approved_registry(cluster.registry),
        NO_PRIVILEGED,
        NO_HOST_NAMESPACES,
        NO_HOST_PATH,
        REQUIRED_LABELS,
        SERVICE_EXPOSURE,
        NAMESPACE_POD_SECURITY,
        zone_flows(zone.id, *flow_peers(env, zone.id)),
    )
    return tuple(g for g in rails if zone.kind not in g.exempt_zone_kinds)
