"""Pod Security Admission by MLPS level: restricted from level 2 up, at least baseline below."""

from .... import labels
from ...k8s import label_level
from ...rule import NotApplicable, resource_rule

ORDER = {"privileged": 0, "baseline": 1, "restricted": 2}


@resource_rule(
    id="GOV-SEC-002",
    request_field="mlps_level",
    title="Tenant namespaces enforce Pod Security restricted from MLPS level 2",
    clause="GB/T 22239-2019 8.1.4.2 d) (least privilege) and 8.1.4.4 (入侵防范); govcloud platform standard: PSA by level",
    severity="high",
    enforcement="mandatory",
    remediation="Label the namespace pod-security.kubernetes.io/enforce, /audit and /warn with the level's profile "
    "(restricted for MLPS 2-4, at least baseline for level 1).",
    kinds=("Namespace",),
    facts=("templates",),
)
def check(obj, facts):
    if not obj.tenant:
        raise NotApplicable("not a tenant namespace")
    level = label_level(obj)
    if level is None:
        yield f"namespace {obj.object_name} has no valid {labels.MLPS_LEVEL} label; its pod security cannot be decided"
        return
    template = facts.templates.get(level, {})
    required = "restricted" if level >= 2 else "baseline"
    if ORDER.get(str(template.get("pod_security")), -1) > ORDER[required]:
        required = str(template["pod_security"])
    for key in (labels.PSA_ENFORCE, labels.PSA_AUDIT, labels.PSA_WARN):
        value = obj.labels.get(key)
        if ORDER.get(str(value), -1) < ORDER[required]:
            yield f"namespace {obj.object_name} (MLPS {level}) has {key}={value or '(missing)'}; {required} is required"
