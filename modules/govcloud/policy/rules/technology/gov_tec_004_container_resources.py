"""Containers declare what they need, so quotas schedule and cap them predictably."""

from ...k8s import WORKLOAD_KINDS, containers, pod_spec
from ...rule import as_map, resource_rule


@resource_rule(
    id="GOV-TEC-004",
    title="Containers set cpu and memory requests and limits",
    clause="GB/T 22239-2019 8.2.4 (云计算 资源控制); govcloud platform standard: capacity",
    severity="low",
    enforcement="advisory",
    remediation="Set resources.requests and resources.limits (cpu, memory) on every container.",
    kinds=WORKLOAD_KINDS,
)
def check(obj, facts):
    for container in containers(pod_spec(obj)):
        resources = as_map(container.get("resources"))
        for part in ("requests", "limits"):
            missing = [r for r in ("cpu", "memory") if r not in as_map(resources.get(part))]
            if missing:
                yield f"{obj.describe()} container {container.get('name')} sets no {part} for {', '.join(missing)}"
