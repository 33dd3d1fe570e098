"""Every rule: the compliant lab passes it (and it really looked), and at least one violating
fixture fails it with the expected message. All through the running pack."""

from __future__ import annotations

from collections import defaultdict

import pytest

from govcloud import labels
from govcloud.policy.catalog import rules

from policy_builders import add_object, drop, edit, find, role_name, tenant_state
from policy_helpers import LAB_ADVISORIES, TODAY

HEALTH = "lab.t-430100-health"
HEALTH_NS = "t-430100-health-app"
PORTAL = "lab.t-430000-portal"
PORTAL_NS = "t-430000-portal-app"
FINANCE = "lab.t-430000-finance"
FINANCE_NS = "t-430000-finance-app"
AGRI = "lab.t-430121-agri"
AGRI_NS = "t-430121-agri-app"
EDU = "lab.t-430600-edu"
EDU_NS = "t-430600-edu-app"
EGOV = "lab.cluster-egov-1"
TOURISM = "lab.t-430600-tourism"
PLATFORM_LABELS = {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.ENVIRONMENT: "lab", labels.CLUSTER: "egov-1"}


def tenant_labels(state, namespace):
    return dict(find(state, "Namespace", namespace).inputs["metadata"]["labels"])


def workload(image="harbor.egov.hunan.gov.cn/govcloud/guardrails:1.4.2"):
    def change(inputs):
        inputs["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return change


def container(change_container):
    def change(inputs):
        change_container(inputs["spec"]["template"]["spec"]["containers"][0])
    return change


def set_path(*path, value):
    def change(inputs):
        target = inputs
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
    return change


def delete_path(*path):
    def change(inputs):
        target = inputs
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


def netpol(egress=None, ingress=None):
    spec = {"podSelector": {}, "policyTypes": []}
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    if ingress is not None:
        spec["policyTypes"].append("Ingress")
        spec["ingress"] = ingress
    return {"spec": spec}


def grant(states, stack, namespace, dataset, approval=None):
    state = states[stack]
    annotations = {labels.DATASET: dataset, **({labels.APPROVAL: approval} if approval else {})}
    return add_object(state, "ConfigMap", f"grant-extra-{dataset.replace('/', '--')}", {"data": {"dataset": dataset}},
                      namespace=namespace, object_labels=tenant_labels(state, namespace), annotations=annotations)


# (rule, case name, build(states) -> state, expected message fragment)
VIOLATIONS = [
    ("GOV-DAT-001", "sslmode require", lambda s: edit(s[HEALTH], "ConfigMap", "datapool", set_path("data", "PGSSLMODE", value="require"), HEALTH_NS), "PGSSLMODE=require"),
    ("GOV-DAT-001", "uri without sslmode", lambda s: edit(s[HEALTH], "ConfigMap", "datapool", set_path("data", "DATABASE_URL", value="postgresql://dp-1:5432/datapool"), HEALTH_NS), "without sslmode"),
    ("GOV-DAT-001", "workload env disable", lambda s: edit(s[EGOV], "Deployment", "guardrails", container(lambda c: c.setdefault("env", []).append({"name": "PGSSLMODE", "value": "disable"})), "govcloud-system"), "PGSSLMODE=disable"),
    ("GOV-DAT-001", "connection without sslmode", lambda s: edit(s[HEALTH], "ConfigMap", "datapool", delete_path("data", "PGSSLMODE"), HEALTH_NS), "without sslmode"),
    ("GOV-DAT-002", "wrong approval", lambda s: edit(s[AGRI], "ConfigMap", "grant-t-430100-health--health-records",
                                                     set_path("metadata", "annotations", labels.APPROVAL, value="CSSJ-GX-0000-0000"), AGRI_NS), "the request records CSSJ-GX-2026-0021"),
    ("GOV-DAT-002", "conditional without recorded approval", lambda s: grant(s, EDU, EDU_NS, "t-430100-health/health-records"), "records no approval"),
    ("GOV-DAT-003", "core dataset to internet", lambda s: grant(s, PORTAL, PORTAL_NS, "t-430100-hrss/social-insurance", "X-1"), "core dataset t-430100-hrss/social-insurance"),
    ("GOV-DAT-004", "not-shared dataset", lambda s: grant(s, EDU, EDU_NS, "t-430000-finance/budget"), "not-shared dataset"),
    ("GOV-DAT-004", "unknown dataset", lambda s: grant(s, EDU, EDU_NS, "t-430100-health/nothing-here"), "which no tenant publishes"),
    ("GOV-DAT-004", "not requested", lambda s: grant(s, EDU, EDU_NS, "t-430121-agri/farmland"), "does not consume"),
    ("GOV-MGT-001", "no quota", lambda s: drop(s[HEALTH], "ResourceQuota", "quota", HEALTH_NS), "has no ResourceQuota"),
    ("GOV-MGT-001", "no limit range", lambda s: drop(s[HEALTH], "LimitRange", "limits", HEALTH_NS), "has no LimitRange"),
    ("GOV-MGT-002", "cpu over template", lambda s: edit(s[HEALTH], "ResourceQuota", "quota", set_path("spec", "hard", "requests.cpu", value="64"), HEALTH_NS), "exceeds the level-3 maximum 32"),
    ("GOV-MGT-002", "pods uncapped", lambda s: edit(s[HEALTH], "ResourceQuota", "quota", delete_path("spec", "hard", "pods"), HEALTH_NS), "does not cap pods"),
    ("GOV-MGT-003", "max over template", lambda s: edit(s[HEALTH], "LimitRange", "limits", lambda i: i["spec"]["limits"][0]["max"].update(cpu="16"), HEALTH_NS), "max.cpu=16 exceeds"),
    ("GOV-MGT-003", "no container item", lambda s: edit(s[HEALTH], "LimitRange", "limits", set_path("spec", "limits", value=[]), HEALTH_NS), "no limits item of type Container"),
    ("GOV-MGT-004", "no change reason", lambda s: edit(s[HEALTH], "Namespace", HEALTH_NS, delete_path("metadata", "annotations", labels.CHANGE_REASON)), labels.CHANGE_REASON),
    ("GOV-MGT-005", "approval not recorded", lambda s: edit(s[HEALTH], "Namespace", HEALTH_NS, set_path("metadata", "annotations", labels.APPROVAL, value="HNSJ-AQ-0000-000")), "the request records HNSJ-AQ-2026-031"),
    ("GOV-MGT-006", "level 4 label outside intranet", lambda s: edit(s[HEALTH], "Namespace", HEALTH_NS, set_path("metadata", "labels", labels.MLPS_LEVEL, value="4")), "level 4 lives only in egov-intranet"),
    ("GOV-MGT-007", "level label downgraded", lambda s: edit(s[HEALTH], "Namespace", HEALTH_NS, set_path("metadata", "labels", labels.MLPS_LEVEL, value="2")), "the model says 3"),
    ("GOV-MGT-007", "unknown tenant", lambda s: edit(s[HEALTH], "ConfigMap", "datapool", set_path("metadata", "labels", labels.TENANT, value="t-430100-nobody"), HEALTH_NS), "which the model does not know"),
    ("GOV-MGT-008", "cluster-scoped object", lambda s: add_object(s[HEALTH], "ClusterRole", "health-extra", {"rules": []}, object_labels=tenant_labels(s[HEALTH], HEALTH_NS)), "has no namespace"),
    ("GOV-MGT-008", "foreign namespace", lambda s: add_object(s[HEALTH], "ConfigMap", "sneaky", {"data": {}}, namespace=EDU_NS, object_labels=tenant_labels(s[HEALTH], HEALTH_NS)), "outside the namespaces of tenant t-430100-health"),
    ("GOV-SEC-001", "no default deny", lambda s: drop(s[HEALTH], "NetworkPolicy", "default-deny", HEALTH_NS), "no default-deny NetworkPolicy"),
    ("GOV-SEC-001", "default deny ingress only", lambda s: edit(s[HEALTH], "NetworkPolicy", "default-deny", set_path("spec", "policyTypes", value=["Ingress"]), HEALTH_NS), "no default-deny NetworkPolicy"),
    ("GOV-SEC-002", "baseline at level 3", lambda s: edit(s[HEALTH], "Namespace", HEALTH_NS, set_path("metadata", "labels", labels.PSA_ENFORCE, value="baseline")), "restricted is required"),
    ("GOV-SEC-002", "no psa labels", lambda s: edit(s[HEALTH], "Namespace", HEALTH_NS, delete_path("metadata", "labels", labels.PSA_WARN)), "(missing)"),
    ("GOV-SEC-003", "world ingress in a tenant", lambda s: add_object(s[HEALTH], "NetworkPolicy", "open", netpol(ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]),
                                                                     namespace=HEALTH_NS, object_labels=tenant_labels(s[HEALTH], HEALTH_NS)), "admits ingress from 0.0.0.0/0"),
    ("GOV-SEC-003", "rule without from", lambda s: add_object(s[HEALTH], "NetworkPolicy", "open", netpol(ingress=[{"ports": [{"port": 8080}]}]),
                                                             namespace=HEALTH_NS, object_labels=tenant_labels(s[HEALTH], HEALTH_NS)), "rule without 'from'"),
    ("GOV-SEC-004", "wildcard verbs", lambda s: edit(s[EGOV], "ClusterRole", role_name("system"), lambda i: i["rules"][0].update(verbs=["*"])), "verbs contains a wildcard"),
    ("GOV-SEC-005", "tenant admin cluster-wide", lambda s: add_object(s[EGOV], "ClusterRoleBinding", "health-admin", {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "zhang-wei", "apiGroup": "rbac.authorization.k8s.io"}]},
        object_labels=PLATFORM_LABELS), "binds tenant administrator zhang-wei"),
    ("GOV-SEC-005", "tenant service account", lambda s: add_object(s[EGOV], "ClusterRoleBinding", "health-sa", {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": HEALTH_NS}]},
        object_labels=PLATFORM_LABELS), "binds service account"),
    ("GOV-SEC-006", "one person twice", lambda s: edit(s[HEALTH], "RoleBinding", labels.PURPOSE_ADMIN_AUDIT, lambda i: i["subjects"][0].update(name="zhang-wei"), HEALTH_NS), "holds several administrator roles"),
    ("GOV-SEC-006", "missing audit binding", lambda s: drop(s[HEALTH], "RoleBinding", labels.PURPOSE_ADMIN_AUDIT, HEALTH_NS), "0 RoleBindings for the audit administrator"),
    ("GOV-SEC-007", "audit role writes", lambda s: edit(s[EGOV], "ClusterRole", role_name("audit"), lambda i: i["rules"][0].update(verbs=["get", "delete"])), "grants delete"),
    ("GOV-SEC-007", "audit bound to edit", lambda s: edit(s[HEALTH], "RoleBinding", labels.PURPOSE_ADMIN_AUDIT, lambda i: i["roleRef"].update(name="edit"), HEALTH_NS), "write role edit"),
    ("GOV-SEC-008", "password in configmap", lambda s: edit(s[HEALTH], "ConfigMap", "datapool", set_path("data", "PGPASSWORD", value="hunter2"), HEALTH_NS), "data.PGPASSWORD"),
    ("GOV-SEC-008", "dsn with password in annotation", lambda s: edit(s[HEALTH], "Namespace", HEALTH_NS, set_path("metadata", "annotations", "example.org/db", value="postgresql://app:s3cret@dp-1/datapool")), "annotation example.org/db"),
    ("GOV-SEC-009", "privileged", lambda s: edit(s[EGOV], "Deployment", "guardrails", container(lambda c: c["securityContext"].update(privileged=True)), "govcloud-system"), "is privileged"),
    ("GOV-SEC-009", "host network", lambda s: edit(s[EGOV], "Deployment", "guardrails", lambda i: i["spec"]["template"]["spec"].update(hostNetwork=True), "govcloud-system"), "hostNetwork"),
    ("GOV-SEC-010", "port outside the matrix", lambda s: add_object(s[HEALTH], "NetworkPolicy", "to-data-ssh", netpol(egress=[{"to": [{"ipBlock": {"cidr": "172.30.50.0/24"}}], "ports": [{"protocol": "TCP", "port": 22}]}]),
                                                                   namespace=HEALTH_NS, object_labels=tenant_labels(s[HEALTH], HEALTH_NS)), "egov-extranet -> data tcp/22"),
    ("GOV-SEC-010", "all ports to management", lambda s: add_object(s[HEALTH], "NetworkPolicy", "to-mgmt", netpol(egress=[{"to": [{"ipBlock": {"cidr": "172.30.10.0/24"}}]}]),
                                                                    namespace=HEALTH_NS, object_labels=tenant_labels(s[HEALTH], HEALTH_NS)), "egov-extranet -> management tcp/*"),
    ("GOV-SEC-011", "internet straight into data", lambda s: add_object(s[PORTAL], "NetworkPolicy", "to-data", netpol(egress=[{"to": [{"ipBlock": {"cidr": "172.30.50.10/32"}}], "ports": [{"protocol": "TCP", "port": 5432}]}]),
                                                                        namespace=PORTAL_NS, object_labels=tenant_labels(s[PORTAL], PORTAL_NS)), "internet -> data"),
    ("GOV-SEC-011", "intranet to anywhere", lambda s: add_object(s[FINANCE], "NetworkPolicy", "anywhere", netpol(egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}]),
                                                                 namespace=FINANCE_NS, object_labels=tenant_labels(s[FINANCE], FINANCE_NS)), "egov-intranet -> internet"),
    ("GOV-SVC-001", "route not requested", lambda s: edit(s[HEALTH], "Ingress", "appointments", lambda i: i["spec"]["rules"][0].update(host="other.wjw.changsha.gov.cn"), HEALTH_NS), "did not request"),
    ("GOV-SVC-002", "not gov.cn", lambda s: edit(s[HEALTH], "Ingress", "appointments", lambda i: i["spec"]["rules"][0].update(host="yuyue.example.com"), HEALTH_NS), "not under gov.cn"),
    ("GOV-SVC-003", "no tls", lambda s: edit(s[HEALTH], "Ingress", "appointments", delete_path("spec", "tls"), HEALTH_NS), "without TLS"),
    ("GOV-SVC-004", "level 1 in the internet zone", lambda s: s[TOURISM], "faces the internet but tenant t-430600-tourism is MLPS level 1"),
    ("GOV-SVC-005", "node port", lambda s: edit(s[HEALTH], "Service", "appointments", set_path("spec", "type", value="NodePort"), HEALTH_NS), "of type NodePort"),
    ("GOV-SVC-006", "ingress in the intranet", lambda s: add_object(s[FINANCE], "Ingress", "leak", {"spec": {"rules": [{"host": "czt.hunan.gov.cn"}], "tls": [{"hosts": ["czt.hunan.gov.cn"], "secretName": "x"}]}},
                                                                    namespace=FINANCE_NS, object_labels=tenant_labels(s[FINANCE], FINANCE_NS)), "from the e-government intranet"),
    ("GOV-TEC-001", "image from docker hub", lambda s: edit(s[EGOV], "Deployment", "guardrails", workload("docker.io/library/nginx:1.27"), "govcloud-system"), "uses docker.io/library/nginx:1.27"),
    ("GOV-TEC-002", "latest tag", lambda s: edit(s[EGOV], "Deployment", "guardrails", workload("harbor.egov.hunan.gov.cn/govcloud/guardrails:latest"), "govcloud-system"), "pin a version"),
    ("GOV-TEC-002", "no tag", lambda s: edit(s[EGOV], "Deployment", "guardrails", workload("harbor.egov.hunan.gov.cn/govcloud/guardrails"), "govcloud-system"), "pin a version"),
    ("GOV-TEC-003", "no managed-by", lambda s: edit(s[HEALTH], "ResourceQuota", "quota", delete_path("metadata", "labels", labels.MANAGED_BY), HEALTH_NS), labels.MANAGED_BY),
    ("GOV-TEC-003", "tenant object without zone", lambda s: edit(s[HEALTH], "ResourceQuota", "quota", delete_path("metadata", "labels", labels.ZONE), HEALTH_NS), f"lacks the {labels.ZONE} label"),
    ("GOV-TEC-004", "no resources", lambda s: edit(s[EGOV], "Deployment", "guardrails", container(lambda c: c.pop("resources")), "govcloud-system"), "sets no requests"),
    ("GOV-TEC-005", "removed api version", lambda s: _old_ingress(s[HEALTH]), "networking.k8s.io/v1beta1, which Kubernetes 1.22 removed"),
]


def _old_ingress(state):
    from dataclasses import replace

    target = find(state, "Ingress", "appointments", HEALTH_NS)
    inputs = dict(target.inputs, apiVersion="networking.k8s.io/v1beta1")
    old = replace(target, type="kubernetes:networking.k8s.io/v1beta1:Ingress", urn=target.urn.replace("v1:Ingress", "v1beta1:Ingress"), inputs=inputs)
    return replace(state, resources=tuple(old if r.urn == target.urn else r for r in state.resources))


@pytest.fixture(scope="module")
def compliant(lab_session, lab_states):
    by_rule = defaultdict(list)
    for result in lab_session.check(list(lab_states.values()), TODAY).results:
        by_rule[result.rule].append(result)
    return by_rule


@pytest.mark.parametrize("rule", [r.id for r in rules()])
def test_compliant_lab_passes_every_rule_after_looking(rule, compliant):
    results = compliant[rule]
    unexpected = [r for r in results if r.status != "passed" and (r.stack, r.rule) not in LAB_ADVISORIES]
    assert unexpected == []
    assert all(r.enforcement == "advisory" for r in results if r.status == "failed")
    assert any(r.status == "passed" for r in results), f"{rule} never applied to the compliant lab: the fixture proves nothing"


def test_every_rule_has_a_violating_fixture():
    assert {r.id for r in rules()} - {case[0] for case in VIOLATIONS} == set()


@pytest.mark.parametrize("rule,name,build,expected", VIOLATIONS, ids=[f"{c[0]}-{c[1]}" for c in VIOLATIONS])
def test_violating_fixture_fails_the_rule(rule, name, build, expected, lab_states, verdicts):
    state = build(lab_states)
    failed = [r for r in verdicts(state) if r.status == "failed"]
    mine = [r for r in failed if r.rule == rule]
    assert mine, f"{rule} did not fire; failed instead: {sorted({r.rule for r in failed})}"
    assert any(expected in r.message for r in mine), [r.message for r in mine]
    assert all(r.stack == state.stack and r.urn.startswith(f"urn:pulumi:{state.stack}::") for r in mine)


def test_tenant_state_of_every_lab_tenant_is_clean(lab, verdicts):
    """A guard on the builders themselves: a clean fixture for each tenant, not just the ones used above."""
    states = [tenant_state(lab, t.id) for t in lab.tenants]
    assert {(r.stack, r.rule) for r in verdicts(*states) if r.status != "passed"} == LAB_ADVISORIES
