"""Tenants get rights inside their namespaces only."""

from .... import labels
from ...k8s import subjects
from ...rule import resource_rule


@resource_rule(
    id="GOV-SEC-005",
    title="No ClusterRoleBinding for tenant subjects",
    clause="GB/T 22239-2019 8.1.4.2 d) (least privilege); 8.2.4 (云计算 安全计算环境: tenant isolation)",
    severity="critical",
    enforcement="mandatory",
    remediation="Bind tenant administrators and service accounts with RoleBindings in the tenant's namespaces.",
    kinds=("ClusterRoleBinding",),
    facts=("administrators", "tenants"),
)
def check(obj, facts):
    if obj.tenant:
        yield f"{obj.describe()} belongs to tenant {obj.tenant} ({labels.TENANT} label); tenants get RoleBindings only"
    for subject in subjects(obj):
        kind, name, namespace = subject.get("kind"), str(subject.get("name") or ""), str(subject.get("namespace") or "")
        if kind in ("User", "Group") and name in facts.tenant_accounts:
            yield f"{obj.describe()} binds tenant administrator {name} cluster-wide"
        elif kind == "ServiceAccount" and namespace in facts.namespace_owner:
            yield f"{obj.describe()} binds service account {namespace}/{name} of tenant {facts.namespace_owner[namespace]} cluster-wide"
        elif kind == "Group" and name.startswith("system:serviceaccounts:") and name.split(":")[-1] in facts.namespace_owner:
            yield f"{obj.describe()} binds every service account of namespace {name.split(':')[-1]} cluster-wide"
