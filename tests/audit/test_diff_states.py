"""Resource and field changes between two desired states: what Pulumi would create, delete, update or replace."""

from __future__ import annotations

import json

import pytest

from govcloud.diff.changes import diff_states, spell
from govcloud.diff.immutable import matches, pattern
from govcloud.state import REDACTED

from audit_helpers import provider, resource, state

STACK = "lab.t-430100-health"


def ns(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"govcloud.gov.cn/zone": "egov-extranet", **labels}}}


def by_name(diff) -> dict:
    return {c.name: c for c in diff.changes}


def test_added_removed_and_unchanged_resources() -> None:
    before = state(STACK, provider(STACK), resource(STACK, "Namespace", "t-430100-health-app", ns("t-430100-health-app")),
                   resource(STACK, "Namespace", "t-430100-health-data", ns("t-430100-health-data")))
    after = state(STACK, provider(STACK), resource(STACK, "Namespace", "t-430100-health-app", ns("t-430100-health-app")),
                  resource(STACK, "Namespace", "t-430100-health-records", ns("t-430100-health-records")))
    diff = diff_states(before, after)
    changes = by_name(diff)
    assert set(changes) == {"t-430100-health-data", "t-430100-health-records"}
    assert changes["t-430100-health-data"].op == "delete" and changes["t-430100-health-records"].op == "create"
    assert changes["t-430100-health-records"].inputs["metadata"]["name"] == "t-430100-health-records"
    assert changes["t-430100-health-records"].cluster == "cluster-egov-1"
    assert [c.op for c in diff.changes] == ["delete", "create"]  # deletions first
    assert diff.status == "changed" and diff.counts() == {"delete": 1, "replace": 0, "create": 1, "update": 0}
    assert diff_states(before, before).changes == () and diff_states(before, before).status == "unchanged"
    assert diff_states(None, after).status == "added" and {c.op for c in diff_states(None, after).changes} == {"create"}
    assert diff_states(before, None).status == "removed" and {c.op for c in diff_states(before, None).changes} == {"delete"}


def test_field_change_is_an_update_with_old_and_new_values() -> None:
    def quota(cpu: str) -> dict:
        return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "quota", "namespace": "t-430100-health-app"},
                "spec": {"hard": {"requests.cpu": cpu, "pods": "25"}}}

    diff = diff_states(state(STACK, provider(STACK), resource(STACK, "ResourceQuota", "t-430100-health-app/quota", quota("8"))),
                       state(STACK, provider(STACK), resource(STACK, "ResourceQuota", "t-430100-health-app/quota", quota("12"))))
    [change] = diff.changes
    assert change.op == "update" and not change.reasons
    assert [f.as_dict() for f in change.fields] == [
        {"path": 'spec.hard["requests.cpu"]', "change": "update", "old": "8", "new": "12"}]


@pytest.mark.parametrize(("kind", "api", "old", "new", "reason"), [
    ("Service", "core/v1", {"spec": {"clusterIP": "10.96.0.10", "type": "ClusterIP"}}, {"spec": {"clusterIP": "10.96.0.11", "type": "ClusterIP"}}, "spec.clusterIP"),
    ("Deployment", "apps/v1", {"spec": {"selector": {"matchLabels": {"app": "web"}}}}, {"spec": {"selector": {"matchLabels": {"app": "site"}}}}, "spec.selector"),
    ("PersistentVolumeClaim", "core/v1", {"spec": {"storageClassName": "local"}}, {"spec": {"storageClassName": "ceph-rbd"}}, "spec.storageClassName"),
    ("RoleBinding", "rbac.authorization.k8s.io/v1", {"roleRef": {"name": "tenant-audit"}}, {"roleRef": {"name": "tenant-admin"}}, "roleRef"),
    ("Secret", "core/v1", {"type": "Opaque"}, {"type": "kubernetes.io/basic-auth"}, "type"),
    ("ConfigMap", "core/v1", {"data": {"PGPORT": "5432"}}, {"data": {"PGPORT": "5433"}}, "data"),
    ("Pod", "core/v1", {"spec": {"containers": [{"name": "a", "image": "r/a:1"}]}}, {"spec": {"containers": [{"name": "a", "image": "r/a:2"}]}}, "spec.containers[*].image"),
    ("Namespace", "core/v1", {"metadata": {"name": "old-name"}}, {"metadata": {"name": "new-name"}}, "metadata.name"),
])
def test_immutable_fields_make_replacements(kind, api, old, new, reason) -> None:
    name = "t-430100-health-app/thing"
    diff = diff_states(state(STACK, provider(STACK), resource(STACK, kind, name, {"kind": kind, **old}, api=api)),
                       state(STACK, provider(STACK), resource(STACK, kind, name, {"kind": kind, **new}, api=api)))
    [change] = diff.changes
    assert change.op == "replace", change
    assert change.reasons == (reason,)


def test_mutable_fields_stay_updates() -> None:
    for kind, api, old, new in (
        ("Service", "core/v1", {"spec": {"type": "ClusterIP"}}, {"spec": {"type": "NodePort"}}),  # the API server converts it
        ("Deployment", "apps/v1", {"spec": {"replicas": 1}}, {"spec": {"replicas": 3}}),
        ("Namespace", "core/v1", {"metadata": {"name": "n", "labels": {"a": "1"}}}, {"metadata": {"name": "n", "labels": {"a": "2"}}}),
    ):
        diff = diff_states(state(STACK, provider(STACK), resource(STACK, kind, "x", {"kind": kind, **old}, api=api)),
                           state(STACK, provider(STACK), resource(STACK, kind, "x", {"kind": kind, **new}, api=api)))
        assert [c.op for c in diff.changes] == ["update"], (kind, diff.changes)


def test_config_map_data_is_mutable_when_the_provider_says_so() -> None:
    def run(enable: str | None):
        extra = {"enableConfigMapMutable": enable} if enable else {}
        def cm(port: str) -> dict:
            return {"kind": "ConfigMap", "data": {"PGPORT": port}}

        return diff_states(state(STACK, provider(STACK, **extra), resource(STACK, "ConfigMap", "a/datapool", cm("5432"))),
                           state(STACK, provider(STACK, **extra), resource(STACK, "ConfigMap", "a/datapool", cm("5433")))).changes[0].op

    assert run(None) == "replace"
    assert run("true") == "update"


def test_provider_pointing_at_another_cluster_replaces_everything_on_it() -> None:
    ns_app = resource(STACK, "Namespace", "t-430100-health-app", ns("t-430100-health-app"))
    before = state(STACK, provider(STACK), ns_app)
    after = state(STACK, provider(STACK, context="lab-egov-2"), ns_app)
    changes = by_name(diff_states(before, after))
    assert changes["cluster-egov-1"].op == "replace" and changes["cluster-egov-1"].reasons == ("context",)
    assert changes["t-430100-health-app"].op == "replace"
    assert changes["t-430100-health-app"].reasons == ("provider: cluster-egov-1 is replaced",)
    # a cluster identifier pins the provider: a context change is then an update
    pinned = diff_states(state(STACK, provider(STACK, clusterIdentifier="egov-1"), ns_app),
                         state(STACK, provider(STACK, clusterIdentifier="egov-1", context="lab-egov-2"), ns_app))
    assert [c.op for c in pinned.changes] == ["update"]


def test_a_resource_moving_to_another_provider_is_replaced() -> None:
    moved = resource(STACK, "Namespace", "t-430100-health-app", ns("t-430100-health-app"), provider="cluster-intranet-1")
    diff = diff_states(state(STACK, provider(STACK), resource(STACK, "Namespace", "t-430100-health-app", ns("t-430100-health-app"))),
                       state(STACK, provider(STACK, "cluster-intranet-1", context="lab-intranet-1"), moved))
    changes = by_name(diff)
    assert changes["t-430100-health-app"].op == "replace"
    assert changes["t-430100-health-app"].reasons == ("provider: cluster-egov-1 -> cluster-intranet-1",)


def test_api_immutable_field_is_an_update_with_a_warning() -> None:
    def slice_(kind: str) -> dict:
        return {"kind": "EndpointSlice", "addressType": kind, "endpoints": []}

    diff = diff_states(state(STACK, provider(STACK), resource(STACK, "EndpointSlice", "e/s", slice_("IPv4"), api="discovery.k8s.io/v1")),
                       state(STACK, provider(STACK), resource(STACK, "EndpointSlice", "e/s", slice_("IPv6"), api="discovery.k8s.io/v1")))
    [change] = diff.changes
    assert change.op == "update" and change.warnings and "addressType" in change.warnings[0]


def test_secrets_are_redacted_whatever_the_state_claims() -> None:
    plaintext_old, plaintext_new = "Zq8vN3pLx2Tw9sKd4HfR7mYc", "Pw5rT8yUi1oPa3sDf6gHj9kL"

    def secret(password: str, user: str) -> dict:
        return {"kind": "Secret", "type": "kubernetes.io/basic-auth", "stringData": {"password": password, "username": user}}

    def config(token: str) -> dict:
        return {"kind": "ConfigMap", "data": {"TOKEN": token, "PGHOST": "172.30.50.10"}}

    before = state(STACK, provider(STACK), resource(STACK, "Secret", "a/creds", secret(plaintext_old, "t_430100_health")),
                   resource(STACK, "ConfigMap", "a/cfg", config(plaintext_old), secret_paths=("data.TOKEN",)))
    after = state(STACK, provider(STACK), resource(STACK, "Secret", "a/creds", secret(plaintext_new, "t_430100_health")),
                  resource(STACK, "ConfigMap", "a/cfg", config(plaintext_new), secret_paths=("data.TOKEN",)),
                  resource(STACK, "Secret", "a/new", {"kind": "Secret", "data": {"key": plaintext_new}}))
    diff = diff_states(before, after)
    text = json.dumps(diff.as_dict(), ensure_ascii=False)
    assert plaintext_old not in text and plaintext_new not in text and "t_430100_health" not in text
    changes = by_name(diff)
    assert changes["a/creds"].op == "replace"  # a secret's data cannot change in place
    assert {f.path: (f.old, f.new) for f in changes["a/creds"].fields} == {"stringData.password": (REDACTED, REDACTED)}
    assert changes["a/cfg"].fields[0].old == REDACTED and changes["a/cfg"].fields[0].new == REDACTED
    assert changes["a/new"].inputs["data"] == {"key": REDACTED}
    # equal secrets stay equal: no change is invented
    assert diff_states(before, before).changes == ()


def test_paths_are_spelled_like_pulumi_detailed_diffs() -> None:
    assert spell(("spec", "hard", "requests.cpu")) == 'spec.hard["requests.cpu"]'
    assert spell(("metadata", "labels", "govcloud.gov.cn/zone")) == 'metadata.labels["govcloud.gov.cn/zone"]'
    assert spell(("spec", "egress", 2, "ports", 0, "port")) == "spec.egress[2].ports[0].port"
    assert pattern("spec.containers[*].image") == ("spec", "containers", "[*]", "image")
    assert matches("spec.containers[*].image", ("spec", "containers", 3, "image"))
    assert not matches("spec.containers[*].image", ("spec", "containers", 3, "name"))
    assert not matches("metadata.namespace", ("metadata", "name"))
