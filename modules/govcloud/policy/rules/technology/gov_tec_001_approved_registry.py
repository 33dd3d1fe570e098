"""Images come only from the cluster's approved registry (scanned, signed, domestic mirror)."""

from ...k8s import WORKLOAD_KINDS, cluster_of, containers, pod_spec
from ...rule import resource_rule


def registry_allows(registry: str, image: str) -> bool:
    return image.startswith(registry.rstrip("/") + "/")


@resource_rule(
    id="GOV-TEC-001",
    cluster_field="registry",
    title="Images only from the cluster's approved registry",
    clause="GB/T 22239-2019 8.2.4 (云计算: 镜像和快照保护) and 8.2.6 (供应链管理); govcloud platform standard: one registry per cluster",
    severity="high",
    enforcement="mandatory",
    remediation="Push the image to the cluster's registry (platform.yaml clusters[].registry) and reference it from there.",
    kinds=WORKLOAD_KINDS,
    facts=("clusters", "tenants"),
)
def check(obj, facts):
    cluster = cluster_of(obj, facts)
    if cluster in facts.clusters:
        allowed = [str(facts.clusters[cluster]["registry"])]
    else:
        allowed = sorted({str(c["registry"]) for c in facts.clusters.values()})
    for container in containers(pod_spec(obj)):
        image = str(container.get("image") or "")
        if not any(registry_allows(r, image) for r in allowed):
            yield f"{obj.describe()} container {container.get('name')} uses {image or '(no image)'}; allowed: {', '.join(allowed)}"
