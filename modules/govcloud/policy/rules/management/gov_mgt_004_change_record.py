"""Who asked for a tenant and why travels with it."""

from .... import labels
from ...rule import NotApplicable, resource_rule

REQUIRED = (labels.DEPARTMENT, labels.REQUESTED_BY, labels.CHANGE_REASON)


@resource_rule(
    id="GOV-MGT-004",
    request_field="change",
    title="Tenant namespaces record department, requester and change reason",
    clause="GB/T 22239-2019 8.1.10 (安全运维管理: 变更管理, change records)",
    severity="medium",
    enforcement="mandatory",
    remediation="Fill change.requested_by and change.reason in the tenant request; the stack copies them onto the namespace.",
    kinds=("Namespace",),
)
def check(obj, facts):
    if not obj.tenant:
        raise NotApplicable("not a tenant namespace")
    for key in REQUIRED:
        value = obj.annotations.get(key)
        if not isinstance(value, str) or not value.strip():
            yield f"namespace {obj.object_name} has no {key} annotation"
