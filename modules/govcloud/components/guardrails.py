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

# Every path by which a container, or a pod's security-relevant fields, reach the API server:
# each kind that is or holds a Pod template, and the one subresource that adds containers to a
# running Pod (``pods/ephemeralcontainers``: ``kubectl debug``; a rule on "pods" does not
# match it). The other pod subresources cannot change a container: ``status``, ``binding``,
# ``eviction`` and ``resize`` (resources only) carry no container image or security context,
# and ``exec``/``attach``/``portforward`` are CONNECTs into containers already admitted.
# A Pod UPDATE may change images; CREATE and UPDATE are both checked.
WORKLOAD_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("pods", "pods/ephemeralcontainers", "podtemplates", "replicationcontrollers")),
    ("apps", ("daemonsets", "deployments", "replicasets", "statefulsets")),
    ("batch", ("cronjobs", "jobs")),
)

# The Pod (template) of any workload kind, found by shape rather than by ``kind``: a PodTemplate
# has ``template``, a CronJob ``spec.jobTemplate``, the controllers ``spec.template``, a Pod
# (also under pods/ephemeralcontainers) is itself. Then its spec, metadata and every container.
WORKLOAD_VARIABLES: tuple[tuple[str, str], ...] = (
    (
        "podTemplate",
        "has(object.template) ? object.template : "
        "(has(object.spec.jobTemplate) ? object.spec.jobTemplate.spec.template : "
        "(has(object.spec.template) ? object.spec.template : object))",
    ),
    ("podSpec", "variables.podTemplate.spec"),
    # A template may omit its metadata (the API server allows it): read as empty, never an error.
    ("podMeta", "has(variables.podTemplate.metadata) ? variables.podTemplate.metadata : {}"),
    (
        "containers",
        "variables.podSpec.containers"
        " + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])"
        " + (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])",
    ),
)

# Pod Security Standards, baseline profile (the values it allows), enforced here whatever the
# namespace's Pod Security label says: a level-1 tenant runs ``baseline``, a label may pin an
# older ``enforce-version``, PSA does not look at templates, and the cluster's PSA exemptions
# are not ours to know.
BASELINE_CAPABILITIES = ("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                         "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT")
CONFINED_PROFILE_TYPES = ("RuntimeDefault", "Localhost")
SELINUX_TYPES = ("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t")
SAFE_SYSCTLS = ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_syncookies")
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"


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
    # CEL conditions (name, expression) a request must meet for the rail to look at it.
    match_conditions: tuple[tuple[str, str], ...] = ()
    # Bind to namespaces carrying the tenant label (the usual case). A rail on Namespace objects
    # binds to every namespace and selects with match_conditions instead: a namespaceSelector
    # reads the *new* labels, so an update removing the tenant label would not be seen.
    tenant_namespaces_only: bool = True


def _cel_string(value: str) -> str:
    # JSON string syntax is valid CEL string syntax for the characters we use.
    return json.dumps(value)


def _cel_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_cel_string(v) for v in values) + "]"


def _absent_or(base: str, path: str, condition: str) -> str:
    """``condition`` holds or some field on ``path`` below ``base`` is absent:
    ``_absent_or("c", "securityContext.privileged", "c.securityContext.privileged == false")``."""
    parts = path.split(".")
    guards = [f"!has({base}.{'.'.join(parts[:i + 1])})" for i in range(len(parts))]
    return "(" + " || ".join([*guards, condition]) + ")"


def _every_container(path: str, condition: str) -> str:
    """Every container (init and ephemeral included) leaves ``path`` unset or meets ``condition``
    (written about ``c.<path>``)."""
    return f"variables.containers.all(c, {_absent_or('c', path, condition)})"


def _pod_and_containers(path: str, condition: str) -> str:
    """``condition`` (written with ``{sc}`` for a securityContext) holds for the pod's
    securityContext and every container's, wherever ``path`` is set: a container's setting
    overrides the pod's, so both are checked."""
    pod = _absent_or("variables.podSpec", f"securityContext.{path}", condition.replace("{sc}", "variables.podSpec.securityContext"))
    return f"{pod} && {_every_container(f'securityContext.{path}', condition.replace('{sc}', 'c.securityContext'))}"


def _annotations_allow(prefixes: tuple[str, ...], exact: tuple[str, ...], allowed: tuple[str, ...], allowed_prefix: str) -> str:
    value = "variables.podMeta.annotations[k]"
    key_matches = " || ".join([f"k.startsWith({_cel_string(p)})" for p in prefixes] + [f"k == {_cel_string(e)}" for e in exact])
    allowed_value = f"{value} in {_cel_list(allowed)} || {value}.startsWith({_cel_string(allowed_prefix)})"
    return _absent_or("variables.podMeta", "annotations", f"variables.podMeta.annotations.all(k, !({key_matches}) || {allowed_value})")


def approved_registry(registry: str) -> Guardrail:
    prefix = registry.rstrip("/") + "/"
    return Guardrail(
        name="govcloud-approved-registry",
        description=f"Container images come only from the cluster's approved registry {registry}.",
        rules=WORKLOAD_RULES,
        variables=WORKLOAD_VARIABLES,
        validations=(
            Validation(
                # The registry is the text before the first '/': "harbor.x.cn.evil.com/..." or
                # "harbor.x.cn:443/..." name other registries, "nginx" means docker.io. A digest
                # (...@sha256:...) or a tag after the repository changes nothing.
                f"variables.containers.all(c, c.image.startsWith({_cel_string(prefix)}))",
                f"every container image (init and ephemeral containers included) must come from the approved registry {prefix}",
            ),
        ),
    )


NO_PRIVILEGED = Guardrail(
    name="govcloud-no-privileged",
    description="No privileged containers, added capabilities beyond the default set, privilege escalation, unmasked /proc or Windows host processes.",
    rules=WORKLOAD_RULES,
    variables=WORKLOAD_VARIABLES,
    validations=(
        Validation(_every_container("securityContext.privileged", "c.securityContext.privileged == false"),
                   "privileged containers are not allowed"),
        Validation(_every_container("securityContext.capabilities.add",
                                    f"c.securityContext.capabilities.add.all(cap, cap in {_cel_list(BASELINE_CAPABILITIES)})"),
                   "capabilities beyond the default set (SYS_ADMIN, NET_ADMIN, NET_RAW, ALL, ...) may not be added; allowed: "
                   + ", ".join(BASELINE_CAPABILITIES)),
        Validation(_every_container("securityContext.allowPrivilegeEscalation", "c.securityContext.allowPrivilegeEscalation == false"),
                   "allowPrivilegeEscalation: true is not allowed"),
        Validation(_every_container("securityContext.procMount", "c.securityContext.procMount == 'Default'"),
                   "procMount must be Default (an unmasked /proc is not allowed)"),
        Validation(_pod_and_containers("windowsOptions.hostProcess", "{sc}.windowsOptions.hostProcess == false"),
                   "Windows HostProcess containers are not allowed"),
    ),
)

NO_HOST_NAMESPACES = Guardrail(
    name="govcloud-no-host-namespaces",
    description="No sharing of the node's network (host ports included), PID or IPC namespace.",
    rules=WORKLOAD_RULES,
    variables=WORKLOAD_VARIABLES,
    validations=tuple(
        Validation(
            f"!has(variables.podSpec.{field_}) || variables.podSpec.{field_} == false",
            f"{field_} is not allowed",
        )
        for field_ in ("hostNetwork", "hostPID", "hostIPC")
    ) + (
        Validation(_every_container("ports", "c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)"),
                   "hostPort is not allowed: publish through a Service and the shared gateway"),
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

CONFINEMENT = Guardrail(
    name="govcloud-confinement",
    description="Containers stay confined: no Unconfined seccomp or AppArmor profile, no custom SELinux user, role or type, only namespaced safe sysctls.",
    rules=WORKLOAD_RULES,
    variables=WORKLOAD_VARIABLES,
    validations=(
        Validation(_pod_and_containers("seccompProfile", f"{{sc}}.seccompProfile.type in {_cel_list(CONFINED_PROFILE_TYPES)}"),
                   "seccompProfile must be RuntimeDefault or Localhost (Unconfined is not allowed), for the pod and every container"),
        Validation(_annotations_allow((SECCOMP_CONTAINER_ANNOTATION_PREFIX,), (SECCOMP_POD_ANNOTATION,),
                                      ("runtime/default", "docker/default"), "localhost/"),
                   "seccomp annotations must name runtime/default or a localhost/ profile (unconfined is not allowed)"),
        Validation(_pod_and_containers("appArmorProfile", f"{{sc}}.appArmorProfile.type in {_cel_list(CONFINED_PROFILE_TYPES)}"),
                   "appArmorProfile must be RuntimeDefault or Localhost (Unconfined is not allowed), for the pod and every container"),
        Validation(_annotations_allow((APPARMOR_ANNOTATION_PREFIX,), (), ("", "runtime/default"), "localhost/"),
                   "AppArmor annotations must name runtime/default or a localhost/ profile (unconfined is not allowed)"),
        Validation(_pod_and_containers("seLinuxOptions",
                                       f"(!has({{sc}}.seLinuxOptions.type) || {{sc}}.seLinuxOptions.type in {_cel_list(SELINUX_TYPES)})"
                                       " && (!has({sc}.seLinuxOptions.user) || {sc}.seLinuxOptions.user == '')"
                                       " && (!has({sc}.seLinuxOptions.role) || {sc}.seLinuxOptions.role == '')"),
                   "seLinuxOptions may not set a user or role, and only the container types " + ", ".join(t for t in SELINUX_TYPES if t)),
        Validation(_absent_or("variables.podSpec", "securityContext.sysctls",
                              f"variables.podSpec.securityContext.sysctls.all(s, s.name in {_cel_list(SAFE_SYSCTLS)})"),
                   "only the safe, namespaced sysctls are allowed: " + ", ".join(SAFE_SYSCTLS)),
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
            f"!has(object.spec) || !has(object.spec.jobTemplate) || {_cel_list(labels.REQUIRED_WORKLOAD_LABELS)}.all(k, "
            "has(object.spec.jobTemplate.metadata) && has(object.spec.jobTemplate.metadata.labels)"
            " && k in object.spec.jobTemplate.metadata.labels)",
            "job templates of CronJobs must carry the labels " + ", ".join(labels.REQUIRED_WORKLOAD_LABELS),
        ),
        Validation(
            f"!has(object.metadata.labels) || !({_cel_string(labels.TENANT)} in object.metadata.labels)"
            f" || object.metadata.labels[{_cel_string(labels.TENANT)}] == namespaceObject.metadata.labels[{_cel_string(labels.TENANT)}]",
            "the tenant label must name the tenant that owns the namespace",
        ),
        Validation(
            # The Pods a controller makes carry the template's labels: they must name the same tenant.
            f"!has(variables.podMeta.labels) || !({_cel_string(labels.TENANT)} in variables.podMeta.labels)"
            f" || variables.podMeta.labels[{_cel_string(labels.TENANT)}] == namespaceObject.metadata.labels[{_cel_string(labels.TENANT)}]",
            "the pod template's tenant label must name the tenant that owns the namespace",
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

NO_EXTERNAL_IPS = Guardrail(
    name="govcloud-no-external-ips",
    description="No Service externalIPs in any zone: a tenant could claim any address and intercept its traffic (CVE-2020-8554).",
    rules=(("", ("services",)),),
    validations=(
        Validation("!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
                   "Service externalIPs are not allowed (they capture traffic for any address: CVE-2020-8554)"),
    ),
)


def _labels_of(obj: str) -> str:
    return f"{obj}.metadata.labels"


def _has_label(obj: str, key: str) -> str:
    return f"(has({_labels_of(obj)}) && {_cel_string(key)} in {_labels_of(obj)})"


def _label(obj: str, key: str) -> str:
    return f"{_labels_of(obj)}[{_cel_string(key)}]"


NAMESPACE_POD_SECURITY = Guardrail(
    name="govcloud-namespace-pod-security",
    description="Tenant namespaces keep their tenant label and an enforcing Pod Security level: restricted from MLPS level 2, at least baseline, never pinned to an older version.",
    rules=(("", ("namespaces",)),),
    tenant_namespaces_only=False,
    match_conditions=(
        ("tenant-namespace",
         f"{_has_label('object', labels.TENANT)} || (oldObject != null && {_has_label('oldObject', labels.TENANT)})"),
    ),
    validations=(
        Validation(
            f"{_has_label('object', labels.PSA_ENFORCE)} && {_label('object', labels.PSA_ENFORCE)} in ['baseline', 'restricted']",
            "tenant namespaces must enforce the baseline or restricted Pod Security level",
        ),
        Validation(
            f"!{_has_label('object', labels.MLPS_LEVEL)} || {_label('object', labels.MLPS_LEVEL)} == '1'"
            f" || ({_has_label('object', labels.PSA_ENFORCE)} && {_label('object', labels.PSA_ENFORCE)} == 'restricted')",
            "tenant namespaces of MLPS level 2 and above must enforce the restricted Pod Security level",
        ),
        Validation(
            f"!{_has_label('object', labels.PSA_ENFORCE_VERSION)} || {_label('object', labels.PSA_ENFORCE_VERSION)} == 'latest'",
            "tenant namespaces may not pin Pod Security to an older version (enforce-version must be absent or latest)",
        ),
        Validation(
            f"oldObject == null || !{_has_label('oldObject', labels.TENANT)}"
            f" || ({_has_label('object', labels.TENANT)} && {_label('object', labels.TENANT)} == {_label('oldObject', labels.TENANT)})",
            "the tenant label of a namespace cannot be removed or changed: every guardrail is bound to it",
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
        CONFINEMENT,
        REQUIRED_LABELS,
        SERVICE_EXPOSURE,
        NO_EXTERNAL_IPS,
        NAMESPACE_POD_SECURITY,
        zone_flows(zone.id, *flow_peers(env, zone.id)),
    )
    return tuple(g for g in rails if zone.kind not in g.exempt_zone_kinds)
