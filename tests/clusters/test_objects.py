"""What render produces, on the live API servers: every object accepted (server-side apply,
strict field validation), policies, quotas and limit ranges stored exactly as rendered, and a
quota that really rejects what goes over it."""

from __future__ import annotations

import pytest
from kubernetes.dynamic.exceptions import ForbiddenError
from stacks.admission_cases import LEVEL_KEY, TENANT_KEY, ZONE_KEY
from stacks.admission_cases import pod as case_pod

from govcloud.cluster.apply import desired_objects
from govcloud.drift.compare import object_changes


def test_the_api_servers_accept_every_rendered_object(applied, rendered):
    refused = [f"{o.stack}: {o.cluster}: {o.label}: {error}" for o, error in applied if error]
    assert refused == []
    assert len(applied) == len(desired_objects(rendered)) > 150
    kinds = {o.kind for o, _ in applied}
    assert {"ValidatingAdmissionPolicy", "NetworkPolicy", "ResourceQuota", "Gateway", "HTTPRoute", "BackendTLSPolicy"} <= kinds


@pytest.mark.parametrize("kind", ["NetworkPolicy", "ResourceQuota", "LimitRange", "RoleBinding", "ValidatingAdmissionPolicy"])
def test_objects_are_stored_exactly_as_rendered(applied, dynamic, kind):
    checked = 0
    for obj, _ in applied:
        if obj.kind != kind:
            continue
        resource = dynamic[obj.cluster].resources.get(api_version=obj.manifest["apiVersion"], kind=kind)
        live = resource.get(name=obj.name, namespace=obj.namespace).to_dict()
        assert object_changes(obj.manifest, live) == [], (obj.cluster, obj.label)
        checked += 1
    assert checked > 0


def test_a_quota_rejects_what_goes_over_it(applied, planes, dynamic):
    """t-430100-health-app may claim 50Gi of storage; a 60Gi claim is refused by ResourceQuota,
    submitted as the tenant's system administrator; the edge namespace's pod quota is 0."""
    health = planes.env.tenant("t-430100-health")
    account = health.request.administrators.system.account
    api = planes.access.client(f"{account}@{planes.env.cluster(health.cluster).kube_context}")
    try:
        from govcloud.cluster.access import dynamic as dynamic_client

        claims = dynamic_client(api).resources.get(api_version="v1", kind="PersistentVolumeClaim")
        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "metadata": {"name": "too-big", "namespace": "t-430100-health-app"},
                 "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "60Gi"}}}}
        with pytest.raises(ForbiddenError) as refused:
            claims.create(body=claim, namespace="t-430100-health-app")
        assert "exceeded quota: quota" in str(refused.value.body) and "requests.storage" in str(refused.value.body)
        claim["spec"]["resources"]["requests"]["storage"] = "1Gi"
        created = claims.create(body=claim, namespace="t-430100-health-app", dry_run="All")  # within quota: admitted
        assert created.metadata.name == "too-big"
    finally:
        api.close()
    # A pod every guardrail admits (quota admission runs last) still cannot run in the edge namespace.
    pods = dynamic["internet-1"].resources.get(api_version="v1", kind="Pod")
    pod = case_pod("internet-1")
    pod["metadata"]["namespace"] = "edge-t-430100-health"
    pod["metadata"]["labels"].update({TENANT_KEY: "t-430100-health", LEVEL_KEY: "3", ZONE_KEY: "internet"})
    with pytest.raises(ForbiddenError) as refused:
        pods.create(body=pod, namespace="edge-t-430100-health", dry_run="All")
    assert "exceeded quota: quota" in str(refused.value.body) and "pods=0" in str(refused.value.body)
