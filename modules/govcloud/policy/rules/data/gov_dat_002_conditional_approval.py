"""Conditional datasets are shared only under a recorded approval."""

from .... import labels
from ...k8s import require_grants
from ...rule import resource_rule


@resource_rule(
    id="GOV-DAT-002",
    request_field="datasets.consumes",
    title="Conditional datasets are granted only with the approval reference the request records",
    clause="政务信息资源共享管理暂行办法 (国发〔2016〕51号) 有条件共享; GB/T 22239-2019 8.1.4.2 (访问控制)",
    severity="high",
    enforcement="mandatory",
    remediation=f"Record the approval in the tenant request (datasets.consumes[].approval) and carry it on the grant as {labels.APPROVAL}.",
    kinds=("*",),
    facts=("datasets", "consumes"),
)
def check(obj, facts):
    refs, approvals = require_grants(obj)
    requested = facts.consumes.get(obj.tenant, {})
    for ref in refs:
        dataset = facts.datasets.get(ref)
        if dataset is None or dataset.get("sharing") != "conditional" or dataset.get("publisher") == obj.tenant:
            continue
        expected = requested.get(ref) or ""
        if not expected:
            yield f"{obj.describe()} grants conditional dataset {ref} but the request of {obj.tenant} records no approval"
        elif approvals is not None and expected not in approvals:
            shown = ", ".join(sorted(approvals)) or "none"
            yield f"{obj.describe()} grants conditional dataset {ref} with approval {shown}; the request records {expected}"
