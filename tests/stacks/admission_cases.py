"""Admission cases for the guardrails, as data: what a tenant namespace must admit and deny.

Each case is one API request: the object, the operation (CREATE/UPDATE), for an UPDATE the
object as stored before (``old_object``), the subresource if any, the namespace's labels,
the cluster whose foundation's guardrails apply, and the verdict: ``admitted``, or ``denied``
by exactly the guardrails in ``rails``. ``tests/stacks/test_guardrails_cel.py`` evaluates them
offline (cel-python, ``admission.py``); the same cases can be sent to a real kube-apiserver
carrying the rendered foundation's ValidatingAdmissionPolicies:

- create the namespace ``namespace`` with ``namespace_labels`` (as the tenant stack renders
  it; a test keeps these labels equal to the rendered ones);
- for an UPDATE, create ``old_object`` first (every ``old_object`` is itself admitted), then
  send ``object`` as an update (``subresource`` ``ephemeralcontainers``: PUT
  ``.../pods/<name>/ephemeralcontainers``, i.e. ``kubectl debug``);
- compare allowed/denied, and the denying policies' names, with ``expected`` and ``rails``.

The objects are valid for the API server's own validation (which runs before admission):
e.g. no ``allowPrivilegeEscalation: false`` beside ``privileged`` or an added SYS_ADMIN, Job
templates with ``restartPolicy: Never``, selectors matching template labels. Fields behind
feature gates are listed in ``feature_gates``: without the gate the API server drops the field
and the verdict differs. Verdicts are the guardrails' alone: Pod Security Admission on a
``baseline`` namespace denies a subset of what they deny (they cover the baseline profile
themselves), and every admitted workload also meets ``restricted``, so PSA cannot turn an
``admitted`` into a denial for a pod either.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

ADMITTED = "admitted"
DENIED = "denied"

# The guardrails by name (govcloud.components.guardrails).
REGISTRY_RAIL = "govcloud-approved-registry"
PRIVILEGED_RAIL = "govcloud-no-privileged"
HOST_NAMESPACES_RAIL = "govcloud-no-host-namespaces"
HOST_PATH_RAIL = "govcloud-no-host-path"
CONFINEMENT_RAIL = "govcloud-confinement"
LABELS_RAIL = "govcloud-required-labels"
NODE_EXPOSURE_RAIL = "govcloud-no-node-exposure"
EXTERNAL_IPS_RAIL = "govcloud-no-external-ips"
NAMESPACE_RAIL = "govcloud-namespace-pod-security"
ZONE_FLOWS_RAIL = "govcloud-zone-flows"

TENANT_KEY = "govcloud.gov.cn/tenant"
LEVEL_KEY = "govcloud.gov.cn/mlps-level"
ZONE_KEY = "govcloud.gov.cn/zone"
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    resource: str
    namespaced: bool = True


# kind -> how the API serves it (the preferred version).
RESOURCES: dict[str, Resource] = {
    "Pod": Resource("", "v1", "pods"),
    "PodTemplate": Resource("", "v1", "podtemplates"),
    "ReplicationController": Resource("", "v1", "replicationcontrollers"),
    "Deployment": Resource("apps", "v1", "deployments"),
    "ReplicaSet": Resource("apps", "v1", "replicasets"),
    "StatefulSet": Resource("apps", "v1", "statefulsets"),
    "DaemonSet": Resource("apps", "v1", "daemonsets"),
    "Job": Resource("batch", "v1", "jobs"),
    "CronJob": Resource("batch", "v1", "cronjobs"),
    "Service": Resource("", "v1", "services"),
    "NetworkPolicy": Resource("networking.k8s.io", "v1", "networkpolicies"),
    "Namespace": Resource("", "v1", "namespaces", namespaced=False),
}


@dataclass(frozen=True)
class Case:
    name: str
    cluster: str
    operation: str
    object: dict[str, Any]
    expected: str
    rails: frozenset[str] = frozenset()
    old_object: dict[str, Any] | None = None
    subresource: str = ""
    namespace_labels: dict[str, str] | None = None
    feature_gates: tuple[str, ...] = ()
    note: str = ""

    @property
    def kind(self) -> str:
        return self.object["kind"]

    @property
    def resource(self) -> Resource:
        return RESOURCES[self.kind]

    @property
    def namespace(self) -> str:
        """The request's namespace: the object's, or a Namespace's own name ("" if cluster-scoped)."""
        if self.kind == "Namespace":
            return self.object["metadata"]["name"]
        return self.object["metadata"].get("namespace", "")


# --- the namespaces (labels exactly as the lab's tenant stacks render them) -------------------
def _namespace_labels(tenant: str, cluster: str, zone: str, region: str, level: int) -> dict[str, str]:
    psa = "restricted" if level >= 2 else "baseline"
    return {
        "app.kubernetes.io/managed-by": "govcloud", "govcloud.gov.cn/cluster": cluster, "govcloud.gov.cn/env": "lab",
        LEVEL_KEY: str(level), "govcloud.gov.cn/region": region, TENANT_KEY: tenant, ZONE_KEY: zone,
        "pod-security.kubernetes.io/audit": psa, PSA_ENFORCE: psa, "pod-security.kubernetes.io/warn": psa,
    }


# A level-1 tenant: its namespace enforces only Pod Security "baseline".
TOURISM = "t-430600-tourism"
TOURISM_NS = f"{TOURISM}-app"
TOURISM_LABELS = _namespace_labels(TOURISM, "internet-1", "internet", "430600", 1)
HEALTH = "t-430100-health"
HEALTH_NS = f"{HEALTH}-app"
HEALTH_LABELS = _namespace_labels(HEALTH, "egov-1", "egov-extranet", "430100", 3)
FINANCE = "t-430000-finance"
FINANCE_NS = f"{FINANCE}-app"
FINANCE_LABELS = _namespace_labels(FINANCE, "intranet-1", "egov-intranet", "430000", 3)
# Which namespace each cluster's cases use.
PLACES = {
    "internet-1": (TOURISM, TOURISM_NS, TOURISM_LABELS),
    "egov-1": (HEALTH, HEALTH_NS, HEALTH_LABELS),
    "intranet-1": (FINANCE, FINANCE_NS, FINANCE_LABELS),
}
APPROVED = "harbor.egov.hunan.gov.cn/tourism/web:1.4"
DIGEST = "sha256:" + "3f" * 32


# --- compliant objects (they also meet Pod Security "restricted") ------------------------------
def _workload_labels(tenant: str, zone: str, level: int) -> dict[str, str]:
    return {"app": "web", TENANT_KEY: tenant, ZONE_KEY: zone, LEVEL_KEY: str(level)}


def container(name: str = "web", image: str = APPROVED, **security: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    context.update(security)
    return {"name": name, "image": image, "securityContext": {k: v for k, v in context.items() if v is not None},
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}}


def pod_spec(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                            "containers": [container()], "automountServiceAccountToken": False}
    spec.update(extra)
    return spec


def pod(cluster: str = "internet-1", name: str = "web", spec: dict | None = None, annotations: dict | None = None) -> dict[str, Any]:
    tenant, namespace, ns_labels = PLACES[cluster]
    metadata: dict[str, Any] = {"name": name, "namespace": namespace,
                                "labels": _workload_labels(tenant, ns_labels[ZONE_KEY], int(ns_labels[LEVEL_KEY]))}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec if spec is not None else pod_spec()}


def _template(of_pod: dict) -> dict[str, Any]:
    metadata = {k: v for k, v in of_pod["metadata"].items() if k in ("labels", "annotations")}
    return {"metadata": copy.deepcopy(metadata), "spec": copy.deepcopy(of_pod["spec"])}


def _controller(of_pod: dict, api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind,
            "metadata": {"name": "web", "namespace": of_pod["metadata"]["namespace"], "labels": dict(of_pod["metadata"]["labels"])},
            "spec": spec}


def _batch_template(of_pod: dict) -> dict[str, Any]:
    template = _template(of_pod)
    template["spec"]["restartPolicy"] = "Never"
    return template


def wrap(kind: str, of_pod: dict) -> dict[str, Any]:
    """``of_pod`` as the Pod (template) of a workload of ``kind``."""
    selector = {"matchLabels": {"app": "web"}}
    if kind == "Pod":
        return copy.deepcopy(of_pod)
    if kind == "PodTemplate":
        return {"apiVersion": "v1", "kind": "PodTemplate",
                "metadata": {"name": "web", "namespace": of_pod["metadata"]["namespace"], "labels": dict(of_pod["metadata"]["labels"])},
                "template": _template(of_pod)}
    if kind == "ReplicationController":
        return _controller(of_pod, "v1", kind, {"replicas": 1, "selector": {"app": "web"}, "template": _template(of_pod)})
    if kind in ("Deployment", "ReplicaSet", "DaemonSet"):
        spec: dict[str, Any] = {"selector": selector, "template": _template(of_pod)}
        if kind != "DaemonSet":
            spec["replicas"] = 1
        return _controller(of_pod, "apps/v1", kind, spec)
    if kind == "StatefulSet":
        return _controller(of_pod, "apps/v1", kind, {"replicas": 1, "serviceName": "web", "selector": selector, "template": _template(of_pod)})
    if kind == "Job":
        return _controller(of_pod, "batch/v1", kind, {"template": _batch_template(of_pod)})
    if kind == "CronJob":
        job = {"metadata": {"labels": dict(of_pod["metadata"]["labels"])}, "spec": {"template": _batch_template(of_pod)}}
        return _controller(of_pod, "batch/v1", kind, {"schedule": "0 2 * * *", "jobTemplate": job})
    raise ValueError(kind)


WORKLOAD_KINDS = ("Pod", "PodTemplate", "ReplicationController", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")


def _with_container(of_pod: dict, **changes: Any) -> dict:
    """``of_pod`` with its first container's securityContext changed (None removes a key)."""
    changed = copy.deepcopy(of_pod)
    context = changed["spec"]["containers"][0]["securityContext"]
    for key, value in changes.items():
        if value is None:
            context.pop(key, None)
        else:
            context[key] = value
    return changed


def _with_spec(of_pod: dict, **changes: Any) -> dict:
    changed = copy.deepcopy(of_pod)
    changed["spec"].update(changes)
    return changed


def _with_pod_context(of_pod: dict, **changes: Any) -> dict:
    """``of_pod`` with its pod-level securityContext changed (None removes a key)."""
    changed = copy.deepcopy(of_pod)
    context = changed["spec"]["securityContext"]
    for key, value in changes.items():
        if value is None:
            context.pop(key, None)
        else:
            context[key] = value
    return changed


def _with_image(of_pod: dict, image: str) -> dict:
    changed = copy.deepcopy(of_pod)
    changed["spec"]["containers"][0]["image"] = image
    return changed


# The privileged, unapproved container a held-out case ran: docker.io's busybox, privileged.
def _rogue(name: str = "debugger") -> dict[str, Any]:
    rogue = container(name, "busybox:1.36", privileged=True, allowPrivilegeEscalation=None, capabilities=None)
    rogue.pop("resources")
    return rogue


def _cases() -> list[Case]:
    cases: list[Case] = []
    base = pod()

    def add(name: str, obj: dict, expected: str, rails: set[str] | frozenset[str] = frozenset(), *, cluster: str = "internet-1",
            operation: str = "CREATE", old: dict | None = None, subresource: str = "", gates: tuple[str, ...] = (), note: str = "") -> None:
        labels = None if obj["kind"] == "Namespace" else PLACES[cluster][2]
        cases.append(Case(name, cluster, operation, obj, expected, frozenset(rails), old, subresource, labels, gates, note))

    # Every workload kind: compliant admitted; the rogue container denied on CREATE and on UPDATE.
    rogue_pod = copy.deepcopy(base)
    rogue_pod["spec"]["containers"].append(_rogue("sidecar"))
    for kind in WORKLOAD_KINDS:
        add(f"{kind} compliant", wrap(kind, base), ADMITTED)
        add(f"{kind} privileged docker.io container", wrap(kind, rogue_pod), DENIED, {REGISTRY_RAIL, PRIVILEGED_RAIL})
        with_init = copy.deepcopy(base)
        with_init["spec"]["initContainers"] = [_rogue("init")]
        add(f"{kind} privileged docker.io init container", wrap(kind, with_init), DENIED, {REGISTRY_RAIL, PRIVILEGED_RAIL})
        if kind not in ("Pod", "Job"):  # a Pod's spec is immutable but for images, a Job's template but for a few fields: below
            add(f"{kind} update adds a privileged docker.io container", wrap(kind, rogue_pod), DENIED, {REGISTRY_RAIL, PRIVILEGED_RAIL},
                operation="UPDATE", old=wrap(kind, base))
            add(f"{kind} compliant update", wrap(kind, _with_image(base, APPROVED.replace(":1.4", ":1.5"))), ADMITTED,
                operation="UPDATE", old=wrap(kind, base))

    # A Job's pod template is immutable (the API server refuses the update before admission runs),
    # except while the Job is suspended and has never started: then the template's labels,
    # annotations and scheduling directives may change, and the guardrails must see that too.
    job = wrap("Job", base)
    suspended = copy.deepcopy(job)
    suspended["spec"]["suspend"] = True
    unconfined = copy.deepcopy(suspended)
    unconfined["spec"]["template"]["metadata"]["annotations"] = {"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}
    add("Job update (suspended, never started) unconfines its pod template's AppArmor profile", unconfined, DENIED, {CONFINEMENT_RAIL},
        operation="UPDATE", old=suspended, note="annotations of a suspended Job's template are mutable (batch/v1 validation)")
    claimed = copy.deepcopy(suspended)
    claimed["spec"]["template"]["metadata"]["labels"][TENANT_KEY] = HEALTH
    add("Job update (suspended, never started) hands its pod template to another tenant", claimed, DENIED, {LABELS_RAIL},
        operation="UPDATE", old=suspended)
    unlabelled_job = copy.deepcopy(job)
    del unlabelled_job["metadata"]["labels"][LEVEL_KEY]
    add("Job update drops the MLPS level label", unlabelled_job, DENIED, {LABELS_RAIL}, operation="UPDATE", old=job,
        note="a Job's own labels are mutable whether or not it runs")
    scheduled = copy.deepcopy(suspended)
    scheduled["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
    add("Job compliant update (suspended, never started): a node selector on its pod template", scheduled, ADMITTED,
        operation="UPDATE", old=suspended)
    add("Job compliant update: more parallelism", {**job, "spec": {**job["spec"], "parallelism": 2}}, ADMITTED, operation="UPDATE", old=job)

    # A running Pod: images may change on UPDATE; ephemeral containers arrive through a subresource.
    add("Pod update swaps an image for docker.io", _with_image(base, "docker.io/library/nginx:1.27"), DENIED, {REGISTRY_RAIL},
        operation="UPDATE", old=base)
    add("Pod update to another approved tag", _with_image(base, APPROVED.replace(":1.4", ":1.5")), ADMITTED, operation="UPDATE", old=base)
    debugged = copy.deepcopy(base)
    debugged["spec"]["ephemeralContainers"] = [_rogue()]
    add("kubectl debug: privileged busybox ephemeral container", debugged, DENIED, {REGISTRY_RAIL, PRIVILEGED_RAIL},
        operation="UPDATE", old=base, subresource="ephemeralcontainers",
        note="pods/ephemeralcontainers is a subresource: a rule on 'pods' alone does not see it")
    sysadmin = copy.deepcopy(base)
    sysadmin["spec"]["ephemeralContainers"] = [container("debugger", APPROVED.replace("web:1.4", "toolbox:2"), allowPrivilegeEscalation=None,
                                                         capabilities={"add": ["SYS_ADMIN"]})]
    sysadmin["spec"]["ephemeralContainers"][0].pop("resources")
    add("kubectl debug: approved image with SYS_ADMIN", sysadmin, DENIED, {PRIVILEGED_RAIL},
        operation="UPDATE", old=base, subresource="ephemeralcontainers")
    unapproved_debug = copy.deepcopy(base)
    unapproved_debug["spec"]["ephemeralContainers"] = [container("debugger", "busybox:1.36")]
    unapproved_debug["spec"]["ephemeralContainers"][0].pop("resources")
    add("kubectl debug: unprivileged busybox", unapproved_debug, DENIED, {REGISTRY_RAIL},
        operation="UPDATE", old=base, subresource="ephemeralcontainers")
    fine_debug = copy.deepcopy(base)
    fine_debug["spec"]["ephemeralContainers"] = [container("debugger", APPROVED.replace("web:1.4", "toolbox:2"))]
    fine_debug["spec"]["ephemeralContainers"][0].pop("resources")
    add("kubectl debug: approved, confined toolbox", fine_debug, ADMITTED, operation="UPDATE", old=base, subresource="ephemeralcontainers")

    # Image references.
    for label, image, expected in (
        ("no registry (docker.io)", "nginx:1.27", DENIED),
        ("docker.io", "docker.io/library/nginx:1.27", DENIED),
        ("approved name as a prefix of another host", "harbor.egov.hunan.gov.cn.evil.com/tourism/web:1.4", DENIED),
        ("approved host on an explicit port", "harbor.egov.hunan.gov.cn:443/tourism/web:1.4", DENIED),
        ("approved host in capitals", "HARBOR.EGOV.HUNAN.GOV.CN/tourism/web:1.4", DENIED),
        ("another registry with the approved name as its path", "evil.example.com/harbor.egov.hunan.gov.cn/web:1.4", DENIED),
        ("approved, by digest", f"harbor.egov.hunan.gov.cn/tourism/web@{DIGEST}", ADMITTED),
        ("approved, tag and digest", f"harbor.egov.hunan.gov.cn/tourism/web:1.4@{DIGEST}", ADMITTED),
        ("approved, nested repository", "harbor.egov.hunan.gov.cn/tourism/sites/web:1.4", ADMITTED),
    ):
        add(f"image: {label}", _with_image(base, image), expected, {REGISTRY_RAIL} if expected == DENIED else set())
    init_unapproved = copy.deepcopy(base)
    init_unapproved["spec"]["initContainers"] = [container("init", "quay.io/evil/init:1")]
    add("image: unapproved init container", init_unapproved, DENIED, {REGISTRY_RAIL})
    intranet = pod("intranet-1")
    add("intranet: the egov registry is not approved there", intranet, DENIED, {REGISTRY_RAIL}, cluster="intranet-1")
    add("intranet: its own registry", _with_image(intranet, "registry.intranet.hunan.gov.cn/finance/budget:2"), ADMITTED, cluster="intranet-1")

    # Privilege: container securityContext.
    no_escalation_flag = _with_container(base, allowPrivilegeEscalation=None)
    for cap in ("SYS_ADMIN", "NET_ADMIN", "ALL", "NET_RAW", "SYS_PTRACE", "BPF", "sys_admin", "CAP_SYS_ADMIN"):
        add(f"capabilities add {cap}", _with_container(no_escalation_flag, capabilities={"add": [cap]}), DENIED, {PRIVILEGED_RAIL})
    add("capabilities add NET_BIND_SERVICE (default set)", _with_container(base, capabilities={"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}), ADMITTED)
    add("privileged: false is fine", _with_container(no_escalation_flag, privileged=False), ADMITTED)
    add("allowPrivilegeEscalation: true", _with_container(base, allowPrivilegeEscalation=True), DENIED, {PRIVILEGED_RAIL})
    add("allowPrivilegeEscalation unset (baseline)", no_escalation_flag, ADMITTED)
    unmasked = _with_spec(_with_container(base, procMount="Unmasked"), hostUsers=False)
    add("procMount Unmasked", unmasked, DENIED, {PRIVILEGED_RAIL}, gates=("ProcMountType", "UserNamespacesSupport"),
        note="the API server requires hostUsers: false for Unmasked")
    add("procMount Default", _with_container(base, procMount="Default"), ADMITTED)
    windows = _with_spec(base, hostNetwork=True, os={"name": "windows"},
                         securityContext={"windowsOptions": {"hostProcess": True, "runAsUserName": "NT AUTHORITY\\SYSTEM"}})
    windows["spec"]["containers"][0]["securityContext"] = {}
    add("Windows HostProcess pod", windows, DENIED, {PRIVILEGED_RAIL, HOST_NAMESPACES_RAIL},
        note="HostProcess pods must use the host network (API validation)")
    # User namespaces narrow what a container can do on the host; they do not relax a guardrail.
    add("user namespace (hostUsers: false)", _with_spec(base, hostUsers=False), ADMITTED, gates=("UserNamespacesSupport",))
    add("user namespace does not allow SYS_ADMIN", _with_spec(_with_container(no_escalation_flag, capabilities={"add": ["SYS_ADMIN"]}), hostUsers=False),
        DENIED, {PRIVILEGED_RAIL}, gates=("UserNamespacesSupport",))

    # Host namespaces, ports, paths.
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        add(f"{host}: true", _with_spec(base, **{host: True}), DENIED, {HOST_NAMESPACES_RAIL})
        add(f"{host}: false", _with_spec(base, **{host: False}), ADMITTED)
    host_port = copy.deepcopy(base)
    host_port["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 80}]
    add("hostPort 80", host_port, DENIED, {HOST_NAMESPACES_RAIL})
    init_port = copy.deepcopy(base)
    init_port["spec"]["initContainers"] = [dict(container("init"), ports=[{"containerPort": 9000, "hostPort": 9000}])]
    add("hostPort on an init container", init_port, DENIED, {HOST_NAMESPACES_RAIL})
    container_port = copy.deepcopy(base)
    container_port["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "name": "http"}]
    add("containerPort only", container_port, ADMITTED)
    add("hostPath /", _with_spec(base, volumes=[{"name": "root", "hostPath": {"path": "/"}}]), DENIED, {HOST_PATH_RAIL})
    add("hostPath docker socket", _with_spec(base, volumes=[{"name": "sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}}]),
        DENIED, {HOST_PATH_RAIL})
    add("persistentVolumeClaim and emptyDir", _with_spec(base, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                                                                       {"name": "tmp", "emptyDir": {}}]), ADMITTED)

    # Confinement: seccomp, AppArmor, SELinux, sysctls (pod level and container level).
    add("seccomp Unconfined on the pod", _with_pod_context(base, seccompProfile={"type": "Unconfined"}), DENIED, {CONFINEMENT_RAIL})
    add("seccomp Unconfined on a container (pod RuntimeDefault)", _with_container(base, seccompProfile={"type": "Unconfined"}),
        DENIED, {CONFINEMENT_RAIL})
    add("seccomp Localhost", _with_container(base, seccompProfile={"type": "Localhost", "localhostProfile": "profiles/web.json"}), ADMITTED)
    add("seccomp annotation unconfined", pod(annotations={"seccomp.security.alpha.kubernetes.io/pod": "unconfined"},
                                             spec=_with_pod_context(base, seccompProfile=None)["spec"]),
        DENIED, {CONFINEMENT_RAIL}, note="older API servers copy the annotation into seccompProfile; newer ones refuse the mismatch or ignore it")
    add("AppArmor Unconfined on the pod", _with_pod_context(base, appArmorProfile={"type": "Unconfined"}), DENIED, {CONFINEMENT_RAIL})
    add("AppArmor Unconfined on a container", _with_container(base, appArmorProfile={"type": "Unconfined"}), DENIED, {CONFINEMENT_RAIL})
    add("AppArmor annotation unconfined", pod(annotations={"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}),
        DENIED, {CONFINEMENT_RAIL})
    add("AppArmor RuntimeDefault and annotation runtime/default",
        pod(annotations={"container.apparmor.security.beta.kubernetes.io/web": "runtime/default"},
            spec=_with_container(base, appArmorProfile={"type": "RuntimeDefault"})["spec"]), ADMITTED)
    add("SELinux type spc_t (unconfined)", _with_container(base, seLinuxOptions={"type": "spc_t"}), DENIED, {CONFINEMENT_RAIL})
    add("SELinux user on the pod", _with_pod_context(base, seLinuxOptions={"user": "system_u"}), DENIED, {CONFINEMENT_RAIL})
    add("SELinux level only", _with_pod_context(base, seLinuxOptions={"level": "s0:c123,c456"}), ADMITTED)
    add("unsafe sysctl", _with_pod_context(base, sysctls=[{"name": "kernel.msgmax", "value": "65536"}]), DENIED, {CONFINEMENT_RAIL})
    add("safe sysctl", _with_pod_context(base, sysctls=[{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}]), ADMITTED)

    # Labels: workloads name their namespace's tenant.
    unlabelled = copy.deepcopy(base)
    del unlabelled["metadata"]["labels"][LEVEL_KEY]
    add("workload without the MLPS level label", unlabelled, DENIED, {LABELS_RAIL})
    other = copy.deepcopy(base)
    other["metadata"]["labels"][TENANT_KEY] = HEALTH
    add("workload claiming another tenant", other, DENIED, {LABELS_RAIL})
    add("Deployment whose pod template claims another tenant", wrap("Deployment", other) | {"metadata": copy.deepcopy(base["metadata"]) | {"name": "web"}},
        DENIED, {LABELS_RAIL}, note="the Pods its ReplicaSets make carry the template's labels")
    bare_template = wrap("CronJob", base)
    del bare_template["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
    add("CronJob pod template without metadata", bare_template, DENIED, {LABELS_RAIL})
    bare_job = wrap("CronJob", base)
    del bare_job["spec"]["jobTemplate"]["metadata"]
    add("CronJob job template without labels", bare_job, DENIED, {LABELS_RAIL}, note="the Jobs the CronJob controller creates carry jobTemplate.metadata")

    # Services.
    def service(cluster: str, **spec: Any) -> dict[str, Any]:
        tenant, namespace, ns_labels = PLACES[cluster]
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": namespace, "labels": _workload_labels(tenant, ns_labels[ZONE_KEY], int(ns_labels[LEVEL_KEY]))},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080, "targetPort": 8080}], **spec}}

    add("ClusterIP Service", service("egov-1"), ADMITTED, cluster="egov-1")
    add("NodePort Service outside the internet zone", service("egov-1", type="NodePort"), DENIED, {NODE_EXPOSURE_RAIL}, cluster="egov-1")
    add("update to LoadBalancer outside the internet zone", service("egov-1", type="LoadBalancer"), DENIED, {NODE_EXPOSURE_RAIL},
        cluster="egov-1", operation="UPDATE", old=service("egov-1"))
    add("LoadBalancer Service in the internet zone", service("internet-1", type="LoadBalancer"), ADMITTED)
    add("externalIPs in the internet zone", service("internet-1", externalIPs=["203.0.113.10"]), DENIED, {EXTERNAL_IPS_RAIL})
    add("externalIPs outside the internet zone", service("egov-1", externalIPs=["172.30.50.10"]), DENIED, {EXTERNAL_IPS_RAIL}, cluster="egov-1")

    # NetworkPolicies written by a tenant's security administrator.
    def network_policy(cluster: str, egress: list | None = None, ingress: list | None = None) -> dict[str, Any]:
        _, namespace, _ = PLACES[cluster]
        spec: dict[str, Any] = {"podSelector": {}, "policyTypes": []}
        if egress is not None:
            spec["policyTypes"].append("Egress")
            spec["egress"] = egress
        if ingress is not None:
            spec["policyTypes"].append("Ingress")
            spec["ingress"] = ingress
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "mine", "namespace": namespace}, "spec": spec}

    add("NetworkPolicy: egress the matrix allows", network_policy("egov-1", [{"to": [{"ipBlock": {"cidr": "172.30.50.0/24"}}],
                                                                              "ports": [{"protocol": "TCP", "port": 5432}]}]), ADMITTED, cluster="egov-1")
    add("NetworkPolicy: egress to the world", network_policy("egov-1", [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                                                         "ports": [{"protocol": "TCP", "port": 443}]}]),
        DENIED, {ZONE_FLOWS_RAIL}, cluster="egov-1")
    add("NetworkPolicy: ssh from the internet zone", network_policy("egov-1", ingress=[{"from": [{"ipBlock": {"cidr": "172.30.30.0/24"}}],
                                                                                       "ports": [{"protocol": "TCP", "port": 22}]}]),
        DENIED, {ZONE_FLOWS_RAIL}, cluster="egov-1")

    # Namespaces: Pod Security level by MLPS level; the tenant label cannot be dropped.
    def namespace(name: str, labels_: dict[str, str]) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels_}}

    health = namespace(HEALTH_NS, HEALTH_LABELS)
    tourism = namespace(TOURISM_NS, TOURISM_LABELS)
    add("tenant namespace as rendered (level 3, restricted)", health, ADMITTED, cluster="egov-1")
    add("tenant namespace as rendered (level 1, baseline)", tourism, ADMITTED)
    add("level-3 namespace enforcing only baseline", namespace(HEALTH_NS, {**HEALTH_LABELS, PSA_ENFORCE: "baseline"}), DENIED, {NAMESPACE_RAIL},
        cluster="egov-1")
    add("tenant namespace enforcing privileged", namespace(TOURISM_NS, {**TOURISM_LABELS, PSA_ENFORCE: "privileged"}), DENIED, {NAMESPACE_RAIL})
    add("tenant namespace without an enforce label", namespace(TOURISM_NS, {k: v for k, v in TOURISM_LABELS.items() if k != PSA_ENFORCE}),
        DENIED, {NAMESPACE_RAIL})
    add("tenant namespace pinned to Pod Security v1.22", namespace(TOURISM_NS, {**TOURISM_LABELS, "pod-security.kubernetes.io/enforce-version": "v1.22"}),
        DENIED, {NAMESPACE_RAIL}, operation="UPDATE", old=tourism)
    add("update removing the tenant label", namespace(TOURISM_NS, {k: v for k, v in TOURISM_LABELS.items() if k != TENANT_KEY}),
        DENIED, {NAMESPACE_RAIL}, operation="UPDATE", old=tourism,
        note="a namespaceSelector reads the new labels: the rail binds to every namespace and selects with a matchCondition on old and new")
    add("update handing the namespace to another tenant", namespace(TOURISM_NS, {**TOURISM_LABELS, TENANT_KEY: HEALTH}),
        DENIED, {NAMESPACE_RAIL}, operation="UPDATE", old=tourism)
    add("update raising the level with restricted", namespace(TOURISM_NS, {**TOURISM_LABELS, LEVEL_KEY: "2", PSA_ENFORCE: "restricted"}),
        ADMITTED, operation="UPDATE", old=tourism)
    add("a namespace outside any tenant may enforce privileged", namespace("monitoring", {PSA_ENFORCE: "privileged"}), ADMITTED)
    return cases


CASES: tuple[Case, ...] = tuple(_cases())
