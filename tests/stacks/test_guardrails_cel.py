"""The admission guardrails' CEL, as rendered into the foundation, evaluated with cel-python.

A guardrail that never fires, or that blocks compliant workloads, fails here rather than in a
cluster. The rendered ValidatingAdmissionPolicies and their bindings are evaluated the way the
API server does (``admission.py``: matchConstraints, bindings, matchConditions, variables,
validations, failurePolicy) over the cases in ``admission_cases.py``, which a live API server
can be given as they are.
"""

from __future__ import annotations

import pytest

from govcloud import labels
from govcloud.components import guardrails

from .admission import Request, review
from .admission_cases import ADMITTED, CASES, DENIED, RESOURCES, WORKLOAD_KINDS, Case


def _stack_objects(lab, cluster: str, kind: str) -> list[dict]:
    return [r.inputs for r in lab.objects(f"lab.cluster-{cluster}", kind)]


@pytest.fixture(scope="module")
def foundations(lab) -> dict[str, tuple[list[dict], list[dict]]]:
    """cluster -> (policies, bindings) as rendered."""
    return {c.id: (_stack_objects(lab, c.id, "ValidatingAdmissionPolicy"), _stack_objects(lab, c.id, "ValidatingAdmissionPolicyBinding"))
            for c in lab.env.platform.clusters}


def request_of(case: Case, *, old: bool = False) -> Request:
    obj = case.old_object if old else case.object
    assert obj is not None
    resource = case.resource
    namespace_object = None
    if resource.namespaced:
        namespace_object = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": case.namespace, "labels": case.namespace_labels}}
    return Request(
        operation="CREATE" if old else case.operation, group=resource.group, version=resource.version, resource=resource.resource,
        kind=case.kind, namespace=case.namespace, name=obj["metadata"]["name"], object=obj,
        old_object=None if old else case.old_object, subresource="" if old else case.subresource, namespace_object=namespace_object,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_admission_case(foundations, case):
    verdict = review(*foundations[case.cluster], request_of(case))
    assert not verdict.variable_errors, verdict.variable_errors
    found = ADMITTED if verdict.admitted else DENIED
    assert (found, verdict.denied_by) == (case.expected, set(case.rails)), verdict.denials
    if case.old_object is not None:  # what an UPDATE starts from could itself be created
        assert review(*foundations[case.cluster], request_of(case, old=True)).admitted


def test_cases_are_well_formed():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        assert case.expected in (ADMITTED, DENIED)
        assert bool(case.rails) == (case.expected == DENIED), case.name
        assert (case.old_object is not None) == (case.operation == "UPDATE"), case.name
        assert case.subresource in ("", "ephemeralcontainers"), case.name
        assert (case.namespace_labels is not None) == case.resource.namespaced, case.name


def test_case_namespaces_are_labelled_as_rendered(lab):
    rendered = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"] for stack in lab.env.stacks for r in lab.objects(stack.name, "Namespace")}
    for case in CASES:
        if case.resource.namespaced:
            assert rendered[case.namespace] == case.namespace_labels, case.name


def test_every_path_to_a_container_is_matched_and_covered(foundations):
    """Every resource the workload rails match has a denied and an admitted case, on CREATE and
    on UPDATE; and every pod-bearing kind the API serves is among them."""
    policies, _ = foundations["egov-1"]
    [registry] = [p for p in policies if p["metadata"]["name"] == guardrails.approved_registry("x").name]
    matched = {(rule["apiGroups"][0], resource) for rule in registry["spec"]["matchConstraints"]["resourceRules"] for resource in rule["resources"]}
    assert {(RESOURCES[k].group, RESOURCES[k].resource) for k in WORKLOAD_KINDS} | {("", "pods/ephemeralcontainers")} == matched
    for rule in registry["spec"]["matchConstraints"]["resourceRules"]:
        assert sorted(rule["operations"]) == ["CREATE", "UPDATE"]
    covered = {(c.resource.group, c.resource.resource + (f"/{c.subresource}" if c.subresource else ""), c.operation, c.expected)
               for c in CASES if c.kind in WORKLOAD_KINDS}
    for group, resource in matched:
        operations = ("UPDATE",) if resource == "pods/ephemeralcontainers" else ("CREATE", "UPDATE")
        for operation in operations:
            for expected in (ADMITTED, DENIED):
                assert (group, resource, operation, expected) in covered, (group, resource, operation, expected)


def test_every_guardrail_denies_some_case(lab):
    rails = {rail.name for cluster in lab.env.platform.clusters for rail in guardrails.for_cluster(lab.env, cluster)}
    denying = set().union(*(c.rails for c in CASES))
    assert rails == denying


def test_every_validation_fires_on_some_case(foundations):
    """Not only each rail: each of its validations, in some cluster (a validation that can
    never be false guards nothing)."""
    fired: set[tuple[str, str, str]] = set()
    for case in CASES:
        for name, messages in review(*foundations[case.cluster], request_of(case)).denials.items():
            fired.update((case.cluster, name, m) for m in messages)
    validations: dict[tuple[str, int], bool] = {}
    for cluster, (policies, _) in foundations.items():
        for policy in policies:
            name = policy["metadata"]["name"]
            for index, validation in enumerate(policy["spec"]["validations"]):
                key = (name, index)
                validations[key] = validations.get(key, False) or (cluster, name, validation["message"]) in fired
    assert [key for key, hit in validations.items() if not hit] == []


def test_the_pod_subresources_that_cannot_change_a_container_are_not_matched(foundations):
    """status, binding, eviction, resize, exec, log: the rails stay out of the kubelet's and the
    scheduler's way (a status update of a pod admitted before a rail existed must not fail)."""
    policies, bindings = foundations["internet-1"]
    case = next(c for c in CASES if c.name == "Pod privileged docker.io container")
    for subresource in ("status", "binding", "eviction", "resize", "exec", "log"):
        request = request_of(case)
        request = Request(**{**request.__dict__, "operation": "UPDATE", "old_object": case.object, "subresource": subresource})
        assert review(policies, bindings, request).evaluated == set(), subresource


def test_platform_namespaces_are_not_bound(foundations):
    policies, bindings = foundations["egov-1"]
    case = next(c for c in CASES if c.name == "Pod privileged docker.io container")
    request = request_of(case)
    request = Request(**{**request.__dict__, "namespace": "kube-system", "namespace_object": {"metadata": {"name": "kube-system", "labels": {}}}})
    assert review(policies, bindings, request).admitted


def test_guardrails_are_evaluated_on_unlabelled_tenant_objects_too(foundations):
    """The binding selects by the namespace, not by the object: dropping labels from a Pod does
    not take it out of the rails' sight."""
    policies, bindings = foundations["internet-1"]
    case = next(c for c in CASES if c.name == "Pod privileged docker.io container")
    obj = {**case.object, "metadata": {k: v for k, v in case.object["metadata"].items() if k != "labels"}}
    request = Request(**{**request_of(case).__dict__, "object": obj})
    verdict = review(policies, bindings, request)
    assert {"govcloud-approved-registry", "govcloud-no-privileged", "govcloud-required-labels"} <= verdict.denied_by
    assert labels.TENANT not in obj["metadata"].get("labels", {})


def _policy_by_name(lab, cluster: str, name: str) -> tuple[list[dict], list[dict]]:
    policies = [p for p in _stack_objects(lab, cluster, "ValidatingAdmissionPolicy") if p["metadata"]["name"] == name]
    bindings = [b for b in _stack_objects(lab, cluster, "ValidatingAdmissionPolicyBinding") if b["spec"]["policyName"] == name]
    assert len(policies) == len(bindings) == 1
    return policies, bindings


def admit(lab, cluster: str, rail: str, obj: dict, namespace: str = "t-430100-health-app") -> list[str]:
    """Messages of ``rail`` denying the CREATE of ``obj`` in a tenant namespace (empty: admitted)."""
    kind = obj["kind"]
    resource = RESOURCES[kind]
    ns = {"metadata": {"name": namespace, "labels": {labels.TENANT: "t-430100-health"}}}
    request = Request(operation="CREATE", group=resource.group, version=resource.version, resource=resource.resource, kind=kind,
                      namespace=namespace, name=obj["metadata"]["name"], object=obj, namespace_object=ns)
    return review(*_policy_by_name(lab, cluster, rail), request).denials.get(rail, [])


# --- NetworkPolicies written in tenant namespaces stay inside the zone matrix -------------------
def test_every_rendered_tenant_network_policy_passes_its_clusters_zone_rail(lab):
    checked = 0
    for stack in lab.env.stacks:
        if stack.kind != "tenant":
            continue
        for policy in lab.objects(stack.name, "NetworkPolicy"):
            # The provider says which cluster an object goes to (edge objects go to the internet cluster).
            cluster = policy.provider.rsplit("::", 1)[-1].removeprefix("cluster-")
            assert admit(lab, cluster, "govcloud-zone-flows", policy.inputs, policy.inputs["metadata"]["namespace"]) == [], (stack.name, policy.urn, cluster)
            checked += 1
    assert checked >= 2 * len(lab.env.tenants)


def _policy(egress=None, ingress=None) -> dict:
    spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    if egress is not None:
        spec["egress"] = egress
    if ingress is not None:
        spec["ingress"] = ingress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "mine", "namespace": "t-430100-health-app"}, "spec": spec}


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
    messages = admit(lab, "egov-1", "govcloud-zone-flows", policy)
    if denied is None:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].startswith(denied)
