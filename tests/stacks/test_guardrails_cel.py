"""The admission guardrails' CEL, as rendered into the foundation, evaluated with cel-python.

A guardrail that never fires, or that blocks compliant workloads, fails here rather than in a
cluster. The expressions are read from the rendered ValidatingAdmissionPolicies, evaluated the
way the API server does: variables in order, then every validation; all must hold to admit.
"""

from __future__ import annotations

import copy

import celpy
import pytest

from govcloud import labels

REGISTRY = "harbor.egov.hunan.gov.cn"
TENANT = "t-430100-health"
NAMESPACE = {"metadata": {"name": f"{TENANT}-app", "labels": {labels.TENANT: TENANT}}}
TENANT_LABELS = {labels.TENANT: TENANT, labels.ZONE: "egov-extranet", labels.MLPS_LEVEL: "3"}
_env = celpy.Environment()


def _cel(value):
    return celpy.json_to_cel(value)


def _map(values: dict):
    return celpy.celtypes.MapType({celpy.celtypes.StringType(k): v for k, v in values.items()})


def admit(policy: dict, obj: dict, namespace: dict = NAMESPACE) -> list[str]:
    """Messages of the validations that deny ``obj``; empty when it is admitted."""
    activation = {"object": _cel(obj), "namespaceObject": _cel(namespace)}
    variables: dict = {}
    for variable in policy["spec"].get("variables", []):
        activation["variables"] = _map(variables)
        variables[variable["name"]] = _env.program(_env.compile(variable["expression"])).evaluate(activation)
    activation["variables"] = _map(variables)
    denied = []
    for validation in policy["spec"]["validations"]:
        result = _env.program(_env.compile(validation["expression"])).evaluate(activation)
        if isinstance(result, celpy.CELEvalError) or not bool(result):
            denied.append(validation["message"])  # an evaluation error denies too (failurePolicy: Fail)
    return denied


@pytest.fixture(scope="module")
def rails(lab):
    return {r.inputs["metadata"]["name"]: r.inputs for r in lab.objects("lab.cluster-egov-1", "ValidatingAdmissionPolicy")}


def pod(**spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": dict(TENANT_LABELS)},
            "spec": {"containers": [{"name": "web", "image": f"{REGISTRY}/health/web:1.4"}], **spec}}


def deployment(**pod_spec) -> dict:
    template = pod(**pod_spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": dict(TENANT_LABELS)},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": template["metadata"], "spec": template["spec"]}}}


def cronjob(**pod_spec) -> dict:
    template = pod(**pod_spec)
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "labels": dict(TENANT_LABELS)},
            "spec": {"schedule": "0 2 * * *", "jobTemplate": {
                "metadata": {"labels": dict(TENANT_LABELS)},
                "spec": {"template": {"metadata": template["metadata"], "spec": template["spec"]}}}}}


WORKLOAD_RAILS = ["govcloud-approved-registry", "govcloud-no-privileged", "govcloud-no-host-namespaces",
                  "govcloud-no-host-path", "govcloud-required-labels"]


@pytest.mark.parametrize("make", [pod, deployment, cronjob])
def test_compliant_workloads_pass_every_guardrail(rails, make):
    obj = make(initContainers=[{"name": "init", "image": f"{REGISTRY}/health/migrate:1"}],
               volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
               securityContext={"runAsNonRoot": True})
    for name in WORKLOAD_RAILS:
        assert admit(rails[name], obj) == [], name


@pytest.mark.parametrize("make", [pod, deployment, cronjob])
@pytest.mark.parametrize("rail,spec,message", [
    ("govcloud-approved-registry", {"containers": [{"name": "web", "image": "docker.io/library/nginx:1"}]}, "approved registry"),
    ("govcloud-approved-registry", {"initContainers": [{"name": "i", "image": "harbor.egov.hunan.gov.cn.evil.com/x:1"}]}, "approved registry"),
    ("govcloud-no-privileged", {"containers": [{"name": "web", "image": f"{REGISTRY}/a:1", "securityContext": {"privileged": True}}]}, "privileged"),
    ("govcloud-no-host-namespaces", {"hostNetwork": True}, "hostNetwork"),
    ("govcloud-no-host-namespaces", {"hostPID": True}, "hostPID"),
    ("govcloud-no-host-path", {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "hostPath"),
])
def test_violating_workloads_are_denied(rails, make, rail, spec, message):
    obj = make(**spec)
    denied = admit(rails[rail], obj)
    assert denied and message in " ".join(denied)
    # and only by the guardrail about that violation: the others keep admitting it
    for other in WORKLOAD_RAILS:
        if other != rail:
            assert admit(rails[other], obj) == [], other


def test_privileged_false_and_host_network_false_are_allowed(rails):
    obj = pod(hostNetwork=False, containers=[{"name": "w", "image": f"{REGISTRY}/a:1", "securityContext": {"privileged": False}}])
    assert admit(rails["govcloud-no-privileged"], obj) == []
    assert admit(rails["govcloud-no-host-namespaces"], obj) == []


@pytest.mark.parametrize("make", [pod, deployment, cronjob])
def test_missing_tenant_labels_are_denied(rails, make):
    obj = make()
    del obj["metadata"]["labels"][labels.MLPS_LEVEL]
    assert admit(rails["govcloud-required-labels"], obj)
    unlabelled = make()
    del unlabelled["metadata"]["labels"]
    assert admit(rails["govcloud-required-labels"], unlabelled)


def test_pod_template_without_labels_is_denied_even_if_the_deployment_has_them(rails):
    obj = deployment()
    obj["spec"]["template"]["metadata"] = {"labels": {"app": "web"}}
    assert "pod templates must carry" in " ".join(admit(rails["govcloud-required-labels"], obj))


def test_cronjob_job_templates_need_the_labels(rails):
    obj = cronjob()
    del obj["spec"]["jobTemplate"]["metadata"]
    assert "job templates of CronJobs must carry" in " ".join(admit(rails["govcloud-required-labels"], obj))


def test_a_workload_cannot_claim_another_tenant(rails):
    obj = pod()
    obj["metadata"]["labels"][labels.TENANT] = "t-430000-finance"
    assert "tenant label must name the tenant" in " ".join(admit(rails["govcloud-required-labels"], obj))


@pytest.mark.parametrize("service_type,allowed", [(None, True), ("ClusterIP", True), ("NodePort", False), ("LoadBalancer", False)])
def test_node_exposure_outside_the_internet_zone(rails, service_type, allowed):
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"ports": [{"port": 8080}], **({"type": service_type} if service_type else {})}}
    assert (admit(rails["govcloud-no-node-exposure"], service) == []) is allowed


@pytest.mark.parametrize("psa,allowed", [("restricted", True), ("baseline", True), ("privileged", False), (None, False)])
def test_tenant_namespaces_keep_an_enforcing_pod_security_level(rails, psa, allowed):
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "x", "labels": {labels.TENANT: TENANT, **({labels.PSA_ENFORCE: psa} if psa else {})}}}
    assert (admit(rails["govcloud-namespace-pod-security"], ns) == []) is allowed


def test_the_registry_is_the_clusters_own(lab):
    intranet = {r.inputs["metadata"]["name"]: r.inputs for r in lab.objects("lab.cluster-intranet-1", "ValidatingAdmissionPolicy")}
    harbor = pod()
    assert admit(intranet["govcloud-approved-registry"], harbor)  # egov registry is not approved in the intranet
    inside = copy.deepcopy(harbor)
    inside["spec"]["containers"][0]["image"] = "registry.intranet.hunan.gov.cn/finance/budget:2"
    assert admit(intranet["govcloud-approved-registry"], inside) == []


# --- NetworkPolicies written in tenant namespaces stay inside the zone matrix -------------------
def _zone_rail(lab, cluster: str) -> dict:
    [rail] = [r.inputs for r in lab.objects(f"lab.cluster-{cluster}", "ValidatingAdmissionPolicy")
              if r.inputs["metadata"]["name"] == "govcloud-zone-flows"]
    return rail


def test_every_rendered_tenant_network_policy_passes_its_clusters_zone_rail(lab):
    checked = 0
    for stack in lab.env.stacks:
        if stack.kind != "tenant":
            continue
        for policy in lab.objects(stack.name, "NetworkPolicy"):
            # The provider says which cluster an object goes to (edge objects go to the internet cluster).
            cluster = policy.provider.rsplit("::", 1)[-1].removeprefix("cluster-")
            assert admit(_zone_rail(lab, cluster), policy.inputs) == [], (stack.name, policy.urn, cluster)
            checked += 1
    assert checked >= 2 * len(lab.env.tenants)


def _policy(egress=None, ingress=None) -> dict:
    spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    if egress is not None:
        spec["egress"] = egress
    if ingress is not None:
        spec["ingress"] = ingress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "mine", "namespace": f"{TENANT}-app"}, "spec": spec}


def _to(cidr, *ports, protocol="TCP", **extra):
    return {"to": [{"ipBlock": {"cidr": cidr}}], "ports": [{"port": p, "protocol": protocol, **extra} for p in ports]}


def _from(cidr, *ports):
    return {"from": [{"ipBlock": {"cidr": cidr}}], "ports": [{"port": p, "protocol": "TCP"} for p in ports]}


EGRESS_DENIED = "egress to an address the zone matrix does not allow"
INGRESS_DENIED = "ingress from an address the zone matrix does not allow"


@pytest.mark.parametrize("policy, denied", [
    (_policy(egress=[_to("172.30.50.0/24", 5432)]), None),                        # extranet -> data pool zone
    (_policy(egress=[_to("172.30.50.10/32", 5432)]), None),                       # ... or its host
    (_policy(ingress=[_from("172.30.10.0/24", 22)]), None),                       # management -> extranet ssh
    (_policy(egress=[{"to": [{"podSelector": {}}]}]), None),                       # inside the namespace: not this rail
    (_policy(egress=[_to("0.0.0.0/0", 443)]), EGRESS_DENIED),                       # the world
    (_policy(egress=[_to("172.30.40.0/24", 5432)]), EGRESS_DENIED),               # extranet -> intranet: no flow
    (_policy(egress=[_to("172.30.50.0/24", 22)]), EGRESS_DENIED),                 # allowed zone, wrong port
    (_policy(egress=[_to("172.30.50.0/24", 5432, protocol="UDP")]), EGRESS_DENIED),  # wrong protocol
    (_policy(egress=[_to("172.30.50.0/24", 5432, endPort=6000)]), EGRESS_DENIED),    # a range beyond the flow
    (_policy(egress=[{"to": [{"ipBlock": {"cidr": "172.30.50.0/24"}}]}]), EGRESS_DENIED),  # any port
    (_policy(egress=[_to("172.30.50.0/23", 5432)]), EGRESS_DENIED),               # wider than the zone
    (_policy(ingress=[_from("172.30.30.0/24", 22)]), INGRESS_DENIED),             # internet -> extranet ssh: no flow
], ids=["zone", "host", "ingress", "selector", "world", "intranet", "port", "protocol", "range", "all-ports", "wider", "ingress-denied"])
def test_zone_rail_admits_the_matrix_and_nothing_else(lab, policy, denied):
    messages = admit(_zone_rail(lab, "egov-1"), policy)
    if denied is None:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].startswith(denied)
