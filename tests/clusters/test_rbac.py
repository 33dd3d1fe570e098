"""Separation of duties on the live API server (GB/T 22239-2019 8.1.4.2 d), asked with
SubjectAccessReview for the accounts the tenant RoleBindings name, and tried for real with
the tenant administrators' own client certificates."""

from __future__ import annotations

import pytest
from kubernetes.client import AuthorizationV1Api, V1ResourceAttributes, V1SubjectAccessReview, V1SubjectAccessReviewSpec
from kubernetes.dynamic.exceptions import ForbiddenError

from govcloud.cluster.access import dynamic as dynamic_client

HEALTH = "t-430100-health"
OTHER = "t-430100-hrss"  # another tenant on the same cluster (egov-1)


def _allowed(api, user: str, verb: str, resource: str, namespace: str = "", group: str = "", subresource: str = "") -> bool:
    review = V1SubjectAccessReview(spec=V1SubjectAccessReviewSpec(
        user=user, groups=["system:authenticated"],
        resource_attributes=V1ResourceAttributes(verb=verb, resource=resource, namespace=namespace or None, group=group,
                                                 subresource=subresource or None)))
    return AuthorizationV1Api(api).create_subject_access_review(review).status.allowed


@pytest.fixture(scope="module")
def people(planes, applied):
    tenant = planes.env.tenant(HEALTH)
    other = planes.env.tenant(OTHER)
    assert tenant.cluster == other.cluster
    admins = tenant.request.administrators
    return {"system": admins.system.account, "security": admins.security.account, "audit": admins.audit.account,
            "own": tenant.namespaces[0], "other": other.namespaces[0], "cluster": tenant.cluster}


# (role, verb, group, resource, subresource, allowed in the tenant's own namespace)
OWN_NAMESPACE = [
    ("system", "create", "apps", "deployments", "", True),
    ("system", "create", "", "pods", "", True),
    ("system", "get", "", "secrets", "", True),
    ("system", "create", "", "pods", "exec", True),
    ("system", "create", "rbac.authorization.k8s.io", "rolebindings", "", False),
    ("system", "create", "rbac.authorization.k8s.io", "roles", "", False),
    ("system", "create", "networking.k8s.io", "networkpolicies", "", False),
    ("system", "delete", "networking.k8s.io", "networkpolicies", "", False),
    ("system", "update", "", "resourcequotas", "", False),
    ("security", "create", "networking.k8s.io", "networkpolicies", "", True),
    ("security", "patch", "networking.k8s.io", "networkpolicies", "", True),
    ("security", "list", "rbac.authorization.k8s.io", "rolebindings", "", True),
    ("security", "create", "", "pods", "exec", False),
    ("security", "get", "", "secrets", "", False),
    ("security", "create", "apps", "deployments", "", False),
    ("security", "create", "rbac.authorization.k8s.io", "rolebindings", "", False),
    ("audit", "list", "", "events", "", True),
    ("audit", "list", "events.k8s.io", "events", "", True),
    ("audit", "get", "", "pods", "", True),
    ("audit", "get", "", "pods", "log", True),
    ("audit", "list", "networking.k8s.io", "networkpolicies", "", True),
    ("audit", "get", "", "secrets", "", False),
    ("audit", "list", "", "secrets", "", False),
    ("audit", "create", "", "configmaps", "", False),
    ("audit", "delete", "", "pods", "", False),
    ("audit", "create", "", "pods", "exec", False),
]


@pytest.mark.parametrize("role, verb, group, resource, subresource, allowed", OWN_NAMESPACE,
                         ids=[f"{r}-{v}-{res}{'/' + s if s else ''}" for r, v, _, res, s, _a in OWN_NAMESPACE])
def test_separation_of_duties_in_the_tenants_namespace(clients, people, role, verb, group, resource, subresource, allowed):
    api = clients[people["cluster"]]
    assert _allowed(api, people[role], verb, resource, people["own"], group, subresource) is allowed


@pytest.mark.parametrize("role", ["system", "security", "audit"])
def test_no_tenant_identity_reaches_another_tenant_or_the_cluster(clients, people, role):
    api = clients[people["cluster"]]
    user = people[role]
    for verb, group, resource in (("get", "", "pods"), ("list", "", "configmaps"), ("list", "", "events"),
                                  ("create", "apps", "deployments"), ("list", "networking.k8s.io", "networkpolicies")):
        assert not _allowed(api, user, verb, resource, people["other"], group), (user, verb, resource, people["other"])
        assert not _allowed(api, user, verb, resource, "", group), (user, verb, resource, "all namespaces")
    for verb, group, resource in (("list", "", "namespaces"), ("create", "", "namespaces"), ("list", "", "nodes"),
                                  ("create", "rbac.authorization.k8s.io", "clusterrolebindings"),
                                  ("update", "admissionregistration.k8s.io", "validatingadmissionpolicies"),
                                  ("delete", "admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
                                  ("create", "apiextensions.k8s.io", "customresourcedefinitions"),
                                  ("impersonate", "", "users")):
        assert not _allowed(api, user, verb, resource, "", group), (user, verb, resource)


def test_with_their_own_certificates(planes, people):
    """The same answers for real requests made with each administrator's client certificate."""
    context = planes.env.cluster(people["cluster"]).kube_context
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "escalate", "namespace": people["own"]},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": people["system"]}]}
    for role in ("system", "security", "audit"):
        api = planes.access.client(f"{people[role]}@{context}")
        try:
            dyn = dynamic_client(api)
            with pytest.raises(ForbiddenError):
                dyn.resources.get(api_version="rbac.authorization.k8s.io/v1", kind="RoleBinding").create(
                    body=binding, namespace=people["own"], dry_run="All")
            with pytest.raises(ForbiddenError):
                dyn.resources.get(api_version="v1", kind="ConfigMap").get(namespace=people["other"])
            with pytest.raises(ForbiddenError):
                dyn.resources.get(api_version="v1", kind="Namespace").get()
            readable = dyn.resources.get(api_version="v1", kind="ResourceQuota").get(namespace=people["own"])
            assert [q.metadata.name for q in readable.items] == ["quota"]
        finally:
            api.close()
