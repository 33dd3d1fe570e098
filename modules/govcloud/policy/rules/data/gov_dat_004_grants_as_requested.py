"""A tenant reaches exactly the datasets its request names, and never a not-shared one."""

from ...k8s import require_grants
from ...rule import resource_rule


@resource_rule(
    id="GOV-DAT-004",
    request_field="datasets.consumes",
    title="Dataset grants match the request; not-shared and unknown datasets are never granted",
    clause="政务信息资源共享管理暂行办法 (国发〔2016〕51号) 不予共享; GB/T 22239-2019 8.1.4.2 (访问控制)",
    severity="critical",
    enforcement="mandatory",
    remediation="Grant only datasets listed in the tenant request's datasets.consumes; not-shared datasets stay with their publisher.",
    kinds=("*",),
    facts=("datasets", "consumes"),
)
def check(obj, facts):
    refs = require_grants(obj)[0]
    requested = facts.consumes.get(obj.tenant, {})
    for ref in refs:
        dataset = facts.datasets.get(ref)
        if dataset is None:
            yield f"{obj.describe()} grants {ref}, which no tenant publishes"
            continue
        if dataset.get("publisher") == obj.tenant:
            continue
        if dataset.get("sharing") == "not-shared":
            yield f"{obj.describe()} grants not-shared dataset {ref} to {obj.tenant}"
        elif ref not in requested:
            yield f"{obj.describe()} grants {ref}, which the request of {obj.tenant} does not consume"
