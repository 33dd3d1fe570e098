"""Level 3 and above: no tenant without a security review on record."""

from .... import labels
from ...k8s import split_refs, tenant_level
from ...rule import NotApplicable, resource_rule


@resource_rule(
    id="GOV-MGT-005",
    request_field="change.approvals",
    title="MLPS level 3+ tenants carry a security approval recorded in their request",
    clause="GB/T 22239-2019 8.1.9 (安全建设管理: 定级备案, security review before going live); govcloud platform standard",
    severity="high",
    enforcement="mandatory",
    remediation="Add the security review to the request (change.approvals[] with its reference); the stack copies the references "
    f"onto the namespace as {labels.APPROVAL}.",
    kinds=("Namespace",),
    facts=("approvals", "tenants"),
)
def check(obj, facts):
    if not obj.tenant:
        raise NotApplicable("not a tenant namespace")
    level = tenant_level(obj, facts)
    if level is None or level < 3:
        raise NotApplicable(f"MLPS level {level}: no approval required")
    recorded = facts.approvals.get(obj.tenant, set())
    carried = set(split_refs(obj.annotations.get(labels.APPROVAL)))
    if not recorded:
        yield f"tenant {obj.tenant} (MLPS {level}) has no approval in its request"
    elif not carried & recorded:
        yield f"namespace {obj.object_name} carries approvals {', '.join(sorted(carried)) or 'none'}; the request records {', '.join(sorted(recorded))}"
