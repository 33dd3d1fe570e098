"""Which changes Pulumi makes by replacing a resource instead of updating it in place.

The one place govcloud writes this down. The diff calls a change "replace" exactly when the
engine would: Pulumi's Kubernetes provider answers a Diff with ``replaces`` for the properties
listed below (``forceNewProperties`` in pulumi-kubernetes v4, provider/pkg/provider/diff.go),
and the engine replaces a resource whose provider changes. Everything else is an update.

Kubernetes objects (group, version, kind; the core group is spelled ``core``):

| object | fields whose change replaces it |
| --- | --- |
| every object | ``metadata.name``, ``metadata.namespace`` |
| Secret | ``type``; ``data`` and ``stringData`` too unless the provider sets ``enableSecretMutable`` |
| ConfigMap | ``data``, ``binaryData`` unless the provider sets ``enableConfigMapMutable`` |
| an object with ``immutable: true`` (Secret, ConfigMap) | its data, whatever the provider says |
| Service | ``spec.clusterIP`` (``spec.type`` is mutable: the API server converts the Service) |
| PersistentVolumeClaim | ``spec.accessModes``, ``spec.selector``, ``spec.storageClassName``, ``spec.volumeName`` |
| PersistentVolume | the volume source (``spec.csi``, ``spec.nfs``, ``spec.hostPath``, ...) |
| Pod | most of ``spec`` (see ``_POD``) and every container's image, command, env, ports, ... |
| Deployment, DaemonSet (apps/v1, v1beta2), StatefulSet | ``spec.selector`` |
| StatefulSet | also ``spec.serviceName``, ``spec.volumeClaimTemplates``, ``spec.podManagementPolicy``, ``spec.revisionHistoryLimit`` |
| Job | ``spec.selector``, ``spec.template``, ``spec.completions``, ``spec.parallelism`` |
| RoleBinding, ClusterRoleBinding | ``roleRef`` |
| ResourceQuota | ``spec.scopes`` |
| StorageClass | ``parameters``, ``provisioner`` |
| PodDisruptionBudget (policy/v1beta1) | ``spec`` |

Other resources:
- ``pulumi:providers:kubernetes``: replaced when the cluster it points at changes
  (``kubeconfig``, ``context`` or ``cluster``), or, when ``clusterIdentifier`` is set, only
  when that changes (the provider's DiffConfig). Every resource of a replaced provider is
  replaced with it.
- a resource whose provider is another one (a tenant moved to another cluster): replaced.

Fields the Kubernetes API refuses to change but the provider would try to update in place are
listed in ``API_IMMUTABLE``: the diff reports such an update with a warning.
"""

from __future__ import annotations

from typing import Any, Iterable

Path = tuple[str | int, ...]
ANY_INDEX = "[*]"
ALWAYS = ("metadata.name", "metadata.namespace")

_SELECTOR = ("spec.selector",)
_POD = (
    "spec.affinity", "spec.automountServiceAccountToken", "spec.dnsConfig", "spec.dnsPolicy", "spec.enableServiceLinks",
    "spec.hostAliases", "spec.hostIPC", "spec.hostNetwork", "spec.hostPID", "spec.hostname", "spec.imagePullSecrets",
    "spec.nodeName", "spec.nodeSelector", "spec.overhead", "spec.preemptionPolicy", "spec.priority",
    "spec.priorityClassName", "spec.readinessGates", "spec.restartPolicy", "spec.runtimeClassName", "spec.schedulerName",
    "spec.securityContext", "spec.serviceAccount", "spec.serviceAccountName", "spec.shareProcessNamespace",
    "spec.subdomain", "spec.terminationGracePeriodSeconds", "spec.volumes",
) + tuple(
    f"{containers}[*].{field}"
    for containers in ("spec.containers", "spec.initContainers")
    for field in ("args", "command", "env", "image", "imagePullPolicy", "lifecycle", "livenessProbe", "ports",
                  "readinessProbe", "resources", "securityContext", "stdin", "stdinOnce", "terminationMessagePath",
                  "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts", "workingDir")
)
_PERSISTENT_VOLUME = tuple(f"spec.{source}" for source in (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc", "flexVolume", "flocker",
    "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs", "photonPersistentDisk", "portworxVolume",
    "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume"))
_STATEFUL_SET = _SELECTOR + ("spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.serviceName",
                             "spec.volumeClaimTemplates")
_JOB = _SELECTOR + ("spec.completions", "spec.parallelism", "spec.template")
_ROLE_BINDING = ("roleRef",)

# (group, version, kind) -> fields whose change makes the provider replace the object.
FORCE_NEW: dict[tuple[str, str, str], tuple[str, ...]] = {
    **{("apps", version, kind): fields
       for version in ("v1", "v1beta2")
       for kind, fields in (("Deployment", _SELECTOR), ("DaemonSet", _SELECTOR), ("StatefulSet", _STATEFUL_SET))},
    ("apps", "v1beta1", "StatefulSet"): _STATEFUL_SET,
    ("core", "v1", "PersistentVolume"): _PERSISTENT_VOLUME,
    ("core", "v1", "PersistentVolumeClaim"): ("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"),
    ("core", "v1", "Pod"): _POD,
    ("core", "v1", "ResourceQuota"): ("spec.scopes",),
    ("core", "v1", "Secret"): ("type",),
    ("core", "v1", "Service"): ("spec.clusterIP",),
    ("policy", "v1beta1", "PodDisruptionBudget"): ("spec",),
    **{("rbac.authorization.k8s.io", version, kind): _ROLE_BINDING
       for version in ("v1", "v1beta1", "v1alpha1") for kind in ("RoleBinding", "ClusterRoleBinding")},
    ("storage.k8s.io", "v1", "StorageClass"): ("parameters", "provisioner"),
    **{("batch", version, "Job"): _JOB for version in ("v1", "v1beta1", "v2alpha1")},
}
# Data of Secrets and ConfigMaps: replaced unless the provider makes them mutable (and the object is not immutable).
SECRET_DATA = ("data", "stringData")
CONFIG_MAP_DATA = ("binaryData", "data")

# Fields the API server refuses to update; the provider does not replace for them.
API_IMMUTABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("discovery.k8s.io", "EndpointSlice"): ("addressType",),
}

KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
PROVIDER_CLUSTER_KEYS = ("cluster", "context", "kubeconfig")
CLUSTER_IDENTIFIER = "clusterIdentifier"


def parse_type(type_token: str) -> tuple[str, str, str] | None:
    """``kubernetes:apps/v1:Deployment`` -> ("apps", "v1", "Deployment"); None for other types."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or "/" not in parts[1]:
        return None
    group, _, version = parts[1].rpartition("/")
    return group, version, parts[2]


def pattern(field: str) -> tuple[str, ...]:
    """``spec.containers[*].image`` -> ("spec", "containers", "[*]", "image")."""
    out: list[str] = []
    for part in field.split("."):
        while part.endswith(ANY_INDEX):
            part = part[: -len(ANY_INDEX)]
            out.extend([part, ANY_INDEX] if part else [ANY_INDEX])
            part = ""
        if part:
            out.append(part)
    return tuple(out)


def matches(field: str, path: Path) -> bool:
    """The changed leaf ``path`` lies under ``field`` (or is a parent of it: the field was removed or added whole)."""
    want = pattern(field)
    for expected, actual in zip(want, path, strict=False):
        if expected == ANY_INDEX:
            if not isinstance(actual, int):
                return False
        elif expected != actual:
            return False
    return True


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def kubernetes_force_new(type_token: str, old: dict[str, Any], new: dict[str, Any],
                         provider_inputs: dict[str, Any] | None) -> tuple[str, ...]:
    """The fields whose change makes the provider replace this Kubernetes object."""
    parsed = parse_type(type_token)
    if parsed is None:
        return ()
    group, version, kind = parsed
    fields = ALWAYS + FORCE_NEW.get((group, version, kind), ())
    provider = provider_inputs or {}
    immutable = _truthy(old.get("immutable")) or _truthy(new.get("immutable"))
    if group == "core" and kind == "Secret" and (immutable or not _truthy(provider.get("enableSecretMutable"))):
        fields += SECRET_DATA
    if group == "core" and kind == "ConfigMap" and (immutable or not _truthy(provider.get("enableConfigMapMutable"))):
        fields += CONFIG_MAP_DATA
    return fields


def replace_reasons(type_token: str, changed: Iterable[Path], old: dict[str, Any], new: dict[str, Any],
                    provider_inputs: dict[str, Any] | None) -> list[str]:
    """The fields among ``changed`` that force a replacement."""
    paths = list(changed)
    if type_token == KUBERNETES_PROVIDER:
        return provider_replace_reasons(old, new)
    reasons: set[str] = set()
    for field in kubernetes_force_new(type_token, old, new, provider_inputs):
        if any(matches(field, p) for p in paths):
            reasons.add(field)
    return sorted(reasons)


def provider_replace_reasons(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """A Kubernetes provider is replaced when the cluster it talks to changes."""
    if old.get(CLUSTER_IDENTIFIER) or new.get(CLUSTER_IDENTIFIER):
        return [CLUSTER_IDENTIFIER] if old.get(CLUSTER_IDENTIFIER) != new.get(CLUSTER_IDENTIFIER) else []
    return [key for key in PROVIDER_CLUSTER_KEYS if old.get(key) != new.get(key)]


def api_immutable_fields(type_token: str, changed: Iterable[Path]) -> list[str]:
    parsed = parse_type(type_token)
    if parsed is None:
        return []
    fields = API_IMMUTABLE.get((parsed[0], parsed[2]), ())
    paths = list(changed)
    return sorted(f for f in fields if any(matches(f, p) for p in paths))
