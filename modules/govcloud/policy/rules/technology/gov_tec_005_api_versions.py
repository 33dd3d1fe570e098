"""Objects use API versions the cluster still serves."""

from ...k8s import cluster_of
from ...rule import resource_rule

# (group/version, kind or "*") -> the Kubernetes minor version that no longer serves it.
REMOVED: dict[tuple[str, str], int] = {
    ("extensions/v1beta1", "*"): 22,
    ("apps/v1beta1", "*"): 16,
    ("apps/v1beta2", "*"): 16,
    ("networking.k8s.io/v1beta1", "*"): 22,
    ("rbac.authorization.k8s.io/v1beta1", "*"): 22,
    ("admissionregistration.k8s.io/v1beta1", "*"): 22,
    ("apiextensions.k8s.io/v1beta1", "*"): 22,
    ("policy/v1beta1", "*"): 25,
    ("batch/v1beta1", "CronJob"): 25,
    ("discovery.k8s.io/v1beta1", "*"): 25,
    ("autoscaling/v2beta1", "*"): 25,
    ("autoscaling/v2beta2", "*"): 26,
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*"): 26,
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): 27,
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*"): 29,
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*"): 32,
}


def _minor(version: str) -> int | None:
    try:
        return int(str(version).split(".")[1])
    except (IndexError, ValueError):
        return None


@resource_rule(
    id="GOV-TEC-005",
    cluster_field="kubernetes_version",
    title="No API versions removed in the cluster's Kubernetes version",
    clause="govcloud platform standard: supported Kubernetes versions (clusters[].kubernetes_version)",
    severity="medium",
    enforcement="mandatory",
    remediation="Use the current API version of the kind (e.g. networking.k8s.io/v1 Ingress, policy/v1 PodDisruptionBudget).",
    kinds=("*",),
    facts=("clusters", "tenants"),
)
def check(obj, facts):
    api_version = str(obj.props.get("apiVersion") or "")
    if "/" not in api_version:
        api_version = f"core/{api_version}"
    cluster = cluster_of(obj, facts)
    versions = [facts.clusters[cluster]["kubernetes_version"]] if cluster in facts.clusters else [c["kubernetes_version"] for c in facts.clusters.values()]
    minors = [m for m in (_minor(v) for v in versions) if m is not None]
    removed = REMOVED.get((api_version, obj.kind or "")) or REMOVED.get((api_version, "*"))
    if removed is not None and minors and max(minors) >= removed:
        where = f"cluster {cluster}" if cluster in facts.clusters else "the platform's clusters"
        yield f"{obj.describe()} uses {api_version}, which Kubernetes 1.{removed} removed ({where} runs 1.{max(minors)})"
