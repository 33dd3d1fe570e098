"""The components under the Pulumi mock runtime: real properties of what the lab renders."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import yaml

from govcloud import labels
from govcloud.components import guardrails, network, program, roles
from govcloud.components import tenant as tenant_component
from govcloud.hosts.datapool import access_plan
from govcloud.model import codes
from govcloud.state import REDACTED

from .conftest import LAB_INVENTORIES, render_inventory

TENANTS = ["t-430000-finance", "t-430000-portal", "t-430000-pubsec", "t-430100-health",
           "t-430100-hrss", "t-430121-agri", "t-430600-edu", "t-430600-tourism"]


def tenant_stack(tid: str) -> str:
    return f"lab.{tid}"


def policies(lab, tid, namespace):
    return {r.inputs["metadata"]["name"]: r.inputs for r in lab.objects(tenant_stack(tid), "NetworkPolicy")
            if r.inputs["metadata"]["namespace"] == namespace}


@pytest.mark.parametrize("tid", TENANTS)
def test_default_deny_selects_every_pod_both_ways(lab, tid):
    tenant = lab.env.tenant(tid)
    for namespace in tenant.namespaces:
        deny = policies(lab, tid, namespace)["default-deny"]["spec"]
        assert deny["podSelector"] == {}
        assert sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
        assert "ingress" not in deny and "egress" not in deny


@pytest.mark.parametrize("tid", TENANTS)
def test_quotas_add_up_to_the_merged_request(lab, tid):
    tenant = lab.env.tenant(tid)
    totals = {k: Decimal(0) for k in ("requests.cpu", "limits.memory", "requests.storage", "pods")}
    for namespace in tenant.namespaces:
        hard = lab.object(tenant_stack(tid), "ResourceQuota", namespace, "quota").inputs["spec"]["hard"]
        for key in totals:
            totals[key] += codes.parse_quantity(hard[key])
        assert hard["requests.cpu"] == hard["limits.cpu"] and hard["requests.memory"] == hard["limits.memory"]
        closed = lab.env.zone(tenant.zone).kind != "internet"
        assert (hard.get("services.loadbalancers") == "0") == closed
    assert totals["requests.cpu"] == tenant.quota_amount("cpu")
    assert totals["limits.memory"] == tenant.quota_amount("memory")
    assert totals["requests.storage"] == tenant.quota_amount("storage")
    assert totals["pods"] == tenant.quota_amount("pods")


def test_health_quota_is_split_over_its_two_namespaces(lab):
    app = lab.object("lab.t-430100-health", "ResourceQuota", "t-430100-health-app", "quota").inputs["spec"]["hard"]
    data = lab.object("lab.t-430100-health", "ResourceQuota", "t-430100-health-data", "quota").inputs["spec"]["hard"]
    assert (app["requests.cpu"], data["requests.cpu"]) == ("8", "8")  # 16 cores requested
    assert (app["limits.memory"], data["limits.memory"]) == ("16Gi", "16Gi")
    assert (app["pods"], data["pods"]) == ("25", "25")


def test_limit_range_carries_the_merged_container_defaults(lab):
    tenant = lab.env.tenant("t-430121-agri")
    limits = lab.object("lab.t-430121-agri", "LimitRange", tenant.namespaces[0], "limits").inputs["spec"]["limits"][0]
    assert limits["default"] == {"cpu": tenant.limits.default_limit.cpu, "memory": tenant.limits.default_limit.memory}
    assert limits["defaultRequest"]["cpu"] == tenant.limits.default_request.cpu
    assert limits["max"]["memory"] == tenant.limits.max.memory


def cluster_roles(lab, cluster="egov-1"):
    return {r.inputs["metadata"]["name"]: r.inputs["rules"] for r in lab.objects(f"lab.cluster-{cluster}", "ClusterRole")}


def verbs_on(rules, group, resource):
    return {v for r in rules if group in r["apiGroups"] and resource in r["resources"] for v in r["verbs"]}


def test_audit_admin_reads_only_and_never_secrets(lab):
    audit = cluster_roles(lab)[roles.ROLE_NAMES["audit"]]
    assert {v for r in audit for v in r["verbs"]} == {"get", "list", "watch"}
    assert not any("secrets" in r["resources"] for r in audit)
    assert verbs_on(audit, "", "events") == {"get", "list", "watch"}
    assert verbs_on(audit, "events.k8s.io", "events") == {"get", "list", "watch"}


def test_security_admin_manages_network_policies_reads_rbac_no_exec(lab):
    security = cluster_roles(lab)[roles.ROLE_NAMES["security"]]
    assert {"create", "update", "delete"} <= verbs_on(security, "networking.k8s.io", "networkpolicies")
    assert verbs_on(security, "rbac.authorization.k8s.io", "rolebindings") == {"get", "list", "watch"}
    assert not verbs_on(security, "", "pods/exec")
    assert not any("secrets" in r["resources"] for r in security)


def test_system_admin_manages_workloads_but_not_rbac_or_network_policy(lab):
    system = cluster_roles(lab)[roles.ROLE_NAMES["system"]]
    assert {"create", "delete"} <= verbs_on(system, "apps", "deployments")
    assert not any(g in r["apiGroups"] for r in system for g in ("rbac.authorization.k8s.io", "networking.k8s.io"))


def test_no_wildcards_and_no_cluster_role_bindings_anywhere(lab):
    for stack in lab.env.stacks:
        state = lab.state(stack.name)
        assert not [r for r in state.resources if r.kind == "ClusterRoleBinding"]
        for role in (r for r in state.resources if r.kind == "ClusterRole"):
            for rule in role.inputs["rules"]:
                assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], (stack.name, rule)


@pytest.mark.parametrize("tid", TENANTS)
def test_role_bindings_bind_the_three_separated_people_and_the_deployer(lab, tid):
    tenant = lab.env.tenant(tid)
    admins = tenant.request.administrators
    for namespace in tenant.namespaces:
        for role in ("system", "security", "audit"):
            binding = lab.object(tenant_stack(tid), "RoleBinding", namespace, f"admin-{role}").inputs
            assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": roles.ROLE_NAMES[role]}
            assert binding["subjects"] == [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": getattr(admins, role).account}]
        deployer = lab.object(tenant_stack(tid), "RoleBinding", namespace, "deployer").inputs
        assert deployer["subjects"] == [{"kind": "ServiceAccount", "name": "deployer", "namespace": tenant.namespaces[0]}]
    lab.object(tenant_stack(tid), "ServiceAccount", tenant.namespaces[0], "deployer")


def expected_flow_rules(env, tenant):
    """What the flow matrix allows a tenant, written independently of the component."""
    ingress, egress = [], []
    has_pool_access = bool(tenant.request.datasets.publishes or tenant.request.datasets.consumes)
    for flow in env.platform.flows:
        if flow.source == tenant.zone and (env.zone(flow.destination).kind != "data" or has_pool_access):
            egress.append(flow.label)
        if flow.destination == tenant.zone:
            public = flow.gateway and env.zone(flow.source).kind == "internet"
            if not public or tenant.request.services:
                ingress.append(flow.label)
    if tenant.request.services and env.zone(tenant.zone).kind == "internet":
        ingress.append(network.PUBLIC_SERVICES)
    return ingress, egress


@pytest.mark.parametrize("tid", TENANTS)
def test_each_allowed_flow_is_exactly_one_rule(lab, tid):
    tenant = lab.env.tenant(tid)
    want_in, want_out = expected_flow_rules(lab.env, tenant)
    for namespace in tenant.namespaces:
        flows = policies(lab, tid, namespace)["allowed-flows"]
        implements = json.loads(flows["metadata"]["annotations"][labels.FLOW_RULES])
        assert implements == {"ingress": want_in, "egress": [network.DNS] + want_out}
        assert len(flows["spec"].get("ingress", [])) == len(want_in)
        assert len(flows["spec"]["egress"]) == 1 + len(want_out)
        assert sorted(policies(lab, tid, namespace)) == ["allowed-flows", "default-deny"]  # nothing else opens a path


def test_forbidden_flows_have_no_rule(lab):
    env = lab.env
    internet = str(env.zone("internet").cidr)
    gateway = f"{env.host('gw-internet-1').address}/32"
    for tid in ("t-430000-finance", "t-430000-pubsec"):  # egov-intranet: no flow to or from the internet
        text = json.dumps([r.inputs for r in lab.objects(tenant_stack(tid), "NetworkPolicy")])
        assert internet not in text and gateway not in text
    # egov-extranet pods reach the data zone only at the data pool hosts, never the whole zone
    flows = policies(lab, "t-430100-hrss", "t-430100-hrss-app")["allowed-flows"]["spec"]
    peers = [p["ipBlock"]["cidr"] for rule in flows["egress"] for p in rule["to"] if "ipBlock" in p]
    assert str(env.zone("data").cidr) not in peers
    assert f"{env.host('dp-1').address}/32" in peers


def test_public_service_rule_admits_only_the_gateway_namespace_on_the_service_port(lab):
    ingress = policies(lab, "t-430100-health", "t-430100-health-app")["allowed-flows"]["spec"]["ingress"]
    public = [r for r in ingress if "namespaceSelector" in r["from"][0]]
    assert public == [{"from": [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: network.GATEWAY_NAMESPACE}}}],
                       "ports": [{"protocol": "TCP", "port": 8080}]}]


def test_dns_egress_is_allowed_to_cluster_dns_only(lab):
    dns = policies(lab, "t-430600-edu", "t-430600-edu-app")["allowed-flows"]["spec"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"] == [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: "kube-system"}},
                          "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]


def test_no_datapool_rule_or_credentials_without_datasets(lab_copy, tmp_path):
    path = lab_copy / "lab" / "tenants" / "t-430600-edu.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["datasets"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rendered = render_inventory(lab_copy, tmp_path / "out", only=["lab.t-430600-edu"], jobs=1)
    assert all(r.ok for r in rendered.results), rendered.results
    flows = [r for r in rendered.objects("lab.t-430600-edu", "NetworkPolicy") if r.inputs["metadata"]["name"] == "allowed-flows"][0]
    egress = json.loads(flows.inputs["metadata"]["annotations"][labels.FLOW_RULES])["egress"]
    assert not [f for f in egress if "->data" in f]
    assert not rendered.objects("lab.t-430600-edu", "Secret") and not rendered.objects("lab.t-430600-edu", "ConfigMap")


@pytest.mark.parametrize("tid,level", [("t-430600-tourism", "baseline"), ("t-430000-portal", "restricted"),
                                       ("t-430100-health", "restricted"), ("t-430000-pubsec", "restricted")])
def test_namespaces_carry_tenant_labels_and_pod_security_by_level(lab, tid, level):
    tenant = lab.env.tenant(tid)
    for namespace in tenant.namespaces:
        ns = lab.object(tenant_stack(tid), "Namespace", None, namespace).inputs["metadata"]["labels"]
        assert ns[labels.PSA_ENFORCE] == ns[labels.PSA_AUDIT] == ns[labels.PSA_WARN] == level
        assert ns[labels.TENANT] == tid and ns[labels.ZONE] == tenant.zone and ns[labels.REGION] == tenant.region
        assert ns[labels.MLPS_LEVEL] == str(tenant.level)


def test_guardrails_are_installed_with_their_cel_and_bound_to_tenant_namespaces(lab):
    for cluster in lab.env.platform.clusters:
        stack = f"lab.cluster-{cluster.id}"
        policies_ = {r.inputs["metadata"]["name"]: r.inputs for r in lab.objects(stack, "ValidatingAdmissionPolicy")}
        bindings = {r.inputs["metadata"]["name"]: r.inputs for r in lab.objects(stack, "ValidatingAdmissionPolicyBinding")}
        expected = guardrails.for_cluster(lab.env, cluster)
        assert sorted(policies_) == sorted(bindings) == sorted(g.name for g in expected)
        for rail in expected:
            spec = policies_[rail.name]["spec"]
            assert [v["expression"] for v in spec["validations"]] == [v.expression for v in rail.validations]
            assert spec["failurePolicy"] == "Fail"
            assert [c["expression"] for c in spec.get("matchConditions", [])] == [e for _, e in rail.match_conditions]
            binding = bindings[rail.name]["spec"]
            assert binding["validationActions"] == ["Deny"]
            if rail.tenant_namespaces_only:
                assert binding["matchResources"]["namespaceSelector"]["matchExpressions"] == [{"key": labels.TENANT, "operator": "Exists"}]
            else:  # the Namespace rail sees every namespace and selects tenant ones (old or new labels) by its match condition
                assert "matchResources" not in binding and labels.TENANT in spec["matchConditions"][0]["expression"]
    registry = lab.objects("lab.cluster-intranet-1", "ValidatingAdmissionPolicy")
    assert any("registry.intranet.hunan.gov.cn/" in json.dumps(r.inputs) for r in registry)


def test_node_exposure_guardrail_only_outside_the_internet_zone(lab):
    def names(cluster):
        return {r.inputs["metadata"]["name"] for r in lab.objects(f"lab.cluster-{cluster}", "ValidatingAdmissionPolicy")}
    assert guardrails.SERVICE_EXPOSURE.name in names("egov-1")
    assert guardrails.SERVICE_EXPOSURE.name in names("intranet-1")
    assert guardrails.SERVICE_EXPOSURE.name not in names("internet-1")


def test_gateways_public_on_internet_zone_ingress_where_public_services_flow_in(lab):
    def gateways(cluster):
        return {r.inputs["metadata"]["name"]: r.inputs for r in lab.objects(f"lab.cluster-{cluster}", "Gateway")}
    assert list(gateways("internet-1")) == ["public"]
    assert list(gateways("egov-1")) == ["zone-ingress"]
    assert gateways("intranet-1") == {}
    listener = gateways("internet-1")["public"]["spec"]["listeners"][0]
    assert listener["protocol"] == "HTTPS" and listener["allowedRoutes"]["namespaces"]["from"] == "Selector"


def test_extranet_service_is_published_through_both_halves(lab):
    stack = "lab.t-430100-health"
    inner = lab.object(stack, "HTTPRoute", "t-430100-health-app", "appointments").inputs["spec"]
    assert inner["parentRefs"][0]["name"] == "zone-ingress"
    assert inner["hostnames"] == ["yuyue.wjw.changsha.gov.cn"]
    edge_ns = "edge-t-430100-health"
    edge = lab.object(stack, "HTTPRoute", edge_ns, "appointments")
    assert edge.inputs["spec"]["parentRefs"][0]["name"] == "public"
    slice_ = lab.object(stack, "EndpointSlice", edge_ns, "appointments-zone-ingress").inputs
    nodes = sorted(str(h.address) for h in lab.env.platform.hosts if h.cluster == "egov-1")
    assert sorted(a for e in slice_["endpoints"] for a in e["addresses"]) == nodes
    tls = lab.object(stack, "BackendTLSPolicy", edge_ns, "appointments").inputs["spec"]["validation"]
    assert tls["hostname"] == "yuyue.wjw.changsha.gov.cn"
    quota = lab.object(stack, "ResourceQuota", edge_ns, "quota").inputs["spec"]["hard"]
    assert quota == {"pods": "0"}
    # the edge objects go to the internet cluster, through its own provider
    providers = {r.urn: r.inputs["context"] for r in lab.state(stack).resources if r.type == "pulumi:providers:kubernetes"}
    assert providers[edge.provider] == "lab-internet-1"


def test_datapool_secret_is_a_redacted_pulumi_secret(lab):
    stack = "lab.t-430100-health"
    secret = lab.object(stack, "Secret", "t-430100-health-app", "datapool-credentials")
    assert secret.inputs["stringData"] == {"username": REDACTED, "password": REDACTED}
    assert set(secret.secret_paths) == {"stringData.password", "stringData.username"}
    state = lab.state(stack)
    # The password lives in the environment's secret store; the stack does not re-export it.
    assert "datapoolPassword" not in state.outputs
    for stack_ in lab.env.stacks:
        for name in ("state.json", "manifests.yaml"):
            assert program.SECRET_PLACEHOLDER not in (lab.out / stack_.name / name).read_text(encoding="utf-8")


def test_the_datapool_password_is_the_secret_store_s_for_the_role_postgresql_knows(lab):
    """The stack configuration carries the password of the role the hosts' access plan creates
    (the one whose SCRAM verifier Ansible installs), as a secret; a missing one is refused by name."""
    env = lab.env
    plan = access_plan(env)
    store = {d.role: f"pw-{d.role}" for d in plan.departments}
    health = env.stack("lab.t-430100-health")
    config = program.stack_configuration(env, health, LAB_INVENTORIES, store)
    role = plan.department("t-430100-health").role
    assert config.secret == {"govcloud:datapoolPassword": f"pw-{role}"}
    assert config.plain == {"govcloud:inventories": str(LAB_INVENTORIES.resolve())}
    offline = program.stack_configuration(env, health, LAB_INVENTORIES)
    assert offline.secret == {"govcloud:datapoolPassword": program.SECRET_PLACEHOLDER}
    foundation = program.stack_configuration(env, env.stack("lab.cluster-egov-1"), LAB_INVENTORIES, store)
    assert foundation.secret == {}
    del store[role]
    with pytest.raises(program.MissingSecret, match=f"no password for role {role} .tenant t-430100-health"):
        program.stack_configuration(env, health, LAB_INVENTORIES, store)
    # every tenant that reaches the pool has a role in the access plan
    for stack_ in env.stacks:
        if stack_.kind == "tenant" and network.has_datapool_access(env, env.tenant(stack_.tenant)):
            assert plan.department(stack_.tenant).role == tenant_component.datapool_role(env.tenant(stack_.tenant))


def test_services_from_a_cluster_without_nodes_fail_clearly(lab_copy, tmp_path):
    path = lab_copy / "lab" / "platform.yaml"
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "cluster: egov-1," not in line]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rendered = render_inventory(lab_copy, tmp_path / "out", only=["lab.t-430100-health"], jobs=1)
    (result,) = rendered.results
    assert not result.ok
    assert "cluster egov-1 lists no cluster-node hosts" in result.errors[0]
    assert not (tmp_path / "out" / "lab.t-430100-health" / "state.json").exists()
