"""Workloads run unprivileged: the multi-tenancy benchmark's pod controls."""

from ...k8s import WORKLOAD_KINDS, containers, pod_spec
from ...rule import as_list, as_map, iter_strings, resource_rule

ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}


@resource_rule(
    id="GOV-SEC-009",
    title="Workloads are unprivileged: no privileged containers, escalation, host namespaces or hostPath",
    clause="GB/T 22239-2019 8.1.4.4 (入侵防范) and 8.2.4 (云计算 安全计算环境: isolation between tenants)",
    severity="high",
    enforcement="mandatory",
    remediation="Set runAsNonRoot: true and allowPrivilegeEscalation: false, drop capabilities, and use volumes other "
    "than hostPath; never share the host's network, PID or IPC namespace.",
    kinds=WORKLOAD_KINDS,
)
def check(obj, facts):
    spec = pod_spec(obj)
    what = obj.describe()
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            yield f"{what} sets {field}: true"
    for volume in as_list(spec.get("volumes")):
        volume = as_map(volume)
        if "hostPath" in volume:
            yield f"{what} mounts hostPath volume {volume.get('name')}"
    pod_non_root = as_map(spec.get("securityContext")).get("runAsNonRoot") is True
    for container in containers(spec):
        name = container.get("name")
        context = as_map(container.get("securityContext"))
        if context.get("privileged") is True:
            yield f"{what} container {name} is privileged"
        if context.get("allowPrivilegeEscalation") is not False:
            yield f"{what} container {name} does not set allowPrivilegeEscalation: false"
        if not (context.get("runAsNonRoot") is True or (pod_non_root and context.get("runAsNonRoot") is not False)):
            yield f"{what} container {name} may run as root (runAsNonRoot is not true)"
        added = set(iter_strings(as_map(context.get("capabilities")).get("add"))) - ALLOWED_CAPABILITIES
        if added:
            yield f"{what} container {name} adds capabilities {', '.join(sorted(added))}"
