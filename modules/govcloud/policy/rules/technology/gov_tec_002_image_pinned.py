"""A reviewed image is a fixed image: no floating tags."""

from ...k8s import WORKLOAD_KINDS, containers, pod_spec
from ...rule import resource_rule


def _tag(image: str) -> str | None:
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


@resource_rule(
    id="GOV-TEC-002",
    title="Images are pinned by digest or explicit version tag (never latest)",
    clause="GB/T 22239-2019 8.1.10 (安全运维管理: 配置管理, the reviewed configuration is what runs)",
    severity="medium",
    enforcement="advisory",
    remediation="Reference images by digest (image@sha256:...) or by an immutable version tag.",
    kinds=WORKLOAD_KINDS,
)
def check(obj, facts):
    for container in containers(pod_spec(obj)):
        image = str(container.get("image") or "")
        tag = _tag(image)
        if tag is not None and tag in ("", "latest"):
            yield f"{obj.describe()} container {container.get('name')} uses {image}: pin a version or digest"
