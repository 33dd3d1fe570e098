"""Desired-state fixtures shaped exactly like what a Kubernetes Pulumi program registers.

Types such as ``kubernetes:core/v1:Namespace``, camelCase inputs with apiVersion/kind/metadata/
spec, URNs with the component parent chain, labels from ``govcloud.labels``. ``tenant_state``
and ``foundation_state`` build compliant stacks from the model; tests mutate copies to make
each rule fail. They were written before the render existed and stay as explicit per-rule
fixtures: they also carry what the lab's render has no instance of (workloads, Ingress,
ClusterRoleBindings, annotated dataset grants), which the rules must judge when a program
creates them. The real render is checked in test_policy_lab_render and test_policy_bad_requests.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from govcloud import labels
from govcloud.model import Environment
from govcloud.model.environment import foundation_stack_name, tenant_stack_name
from govcloud.state import ResourceState, StackState

PROJECT = "govcloud"
TENANT_COMPONENT = "govcloud:tenant:Tenant"
FOUNDATION_COMPONENT = "govcloud:cluster:Foundation"
TYPES = {
    "Namespace": "kubernetes:core/v1:Namespace",
    "ResourceQuota": "kubernetes:core/v1:ResourceQuota",
    "LimitRange": "kubernetes:core/v1:LimitRange",
    "ConfigMap": "kubernetes:core/v1:ConfigMap",
    "Secret": "kubernetes:core/v1:Secret",
    "Service": "kubernetes:core/v1:Service",
    "NetworkPolicy": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "Ingress": "kubernetes:networking.k8s.io/v1:Ingress",
    "Role": "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "ClusterRole": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "RoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "ClusterRoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    "Deployment": "kubernetes:apps/v1:Deployment",
}
API_VERSIONS = {
    "Namespace": "v1", "ResourceQuota": "v1", "LimitRange": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
    "NetworkPolicy": "networking.k8s.io/v1", "Ingress": "networking.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1", "ClusterRole": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "Deployment": "apps/v1",
}
PROVIDER_TYPE = "pulumi:providers:kubernetes"


def role_name(role: str) -> str:
    return f"govcloud-tenant-{role}-admin"


def urn(stack: str, type_: str, name: str, parents: tuple[str, ...] = ()) -> str:
    chain = "$".join(parents + (type_,))
    return f"urn:pulumi:{stack}::{PROJECT}::{chain}::{name}"


class StackBuilder:
    def __init__(self, stack: str, component_type: str, component_name: str):
        self.stack = stack
        self.root = urn(stack, "pulumi:pulumi:Stack", f"{PROJECT}-{stack}")
        self.provider = urn(stack, PROVIDER_TYPE, "default")
        self.component = urn(stack, component_type, component_name, ("pulumi:pulumi:Stack",))
        self.component_type = component_type
        self.resources: list[ResourceState] = [
            ResourceState(self.root, "pulumi:pulumi:Stack", f"{PROJECT}-{stack}", custom=False),
            ResourceState(self.provider, PROVIDER_TYPE, "default", custom=True, inputs={"version": "4.34.2"}),
            ResourceState(self.component, component_type, component_name, custom=False, parent=self.root),
        ]

    def add(self, kind: str, name: str, body: dict[str, Any], *, namespace: str | None = None,
            object_labels: dict | None = None, annotations: dict | None = None, secret_paths: tuple[str, ...] = ()) -> str:
        type_ = TYPES[kind]
        resource_name = f"{namespace}/{name}" if namespace else name
        metadata: dict[str, Any] = {"name": name, "labels": dict(object_labels or {})}
        if namespace:
            metadata["namespace"] = namespace
        if annotations:
            metadata["annotations"] = dict(annotations)
        inputs = {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata, **body}
        resource_urn = urn(self.stack, type_, resource_name, ("pulumi:pulumi:Stack", self.component_type))
        self.resources.append(ResourceState(
            resource_urn, type_, resource_name, custom=True, parent=self.component,
            provider=f"{self.provider}::04da6b54-80e4-46f7-96ec-b56ff0331ba9", inputs=inputs, secret_paths=secret_paths,
        ))
        return resource_urn


def _platform_labels(env: Environment, cluster: str) -> dict[str, str]:
    return {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.ENVIRONMENT: env.name, labels.CLUSTER: cluster}


def tenant_state(env: Environment, tenant_id: str) -> StackState:
    tenant = env.tenant(tenant_id)
    zone = env.zone(tenant.zone)
    cluster = env.cluster(tenant.cluster)
    stack = tenant_stack_name(env.name, tenant.id)
    b = StackBuilder(stack, TENANT_COMPONENT, tenant.id)
    base = {**_platform_labels(env, cluster.id), labels.TENANT: tenant.id, labels.REGION: tenant.region,
            labels.ZONE: zone.id, labels.MLPS_LEVEL: str(tenant.level)}
    pod_security = tenant.baseline.pod_security
    approvals = ",".join(sorted({a.reference for a in tenant.request.change.approvals}))
    pool = env.platform.datapool
    pool_addresses = sorted(str(env.host(h).address) for h in pool.hosts)
    for namespace in tenant.namespaces:
        ns_annotations = {labels.DEPARTMENT: tenant.department, labels.REQUESTED_BY: tenant.request.change.requested_by,
                          labels.CHANGE_REASON: tenant.request.change.reason}
        if approvals:
            ns_annotations[labels.APPROVAL] = approvals
        b.add("Namespace", namespace, {}, object_labels={
            **base, labels.PSA_ENFORCE: pod_security, labels.PSA_AUDIT: pod_security, labels.PSA_WARN: pod_security,
        }, annotations=ns_annotations)
        q = tenant.quotas
        b.add("ResourceQuota", "quota", {"spec": {"hard": {
            "requests.cpu": str(q.cpu), "limits.cpu": str(q.cpu), "requests.memory": str(q.memory),
            "limits.memory": str(q.memory), "requests.storage": str(q.storage), "pods": str(q.pods),
        }}}, namespace=namespace, object_labels=base)
        lim = tenant.limits
        b.add("LimitRange", "limits", {"spec": {"limits": [{
            "type": "Container",
            "defaultRequest": {"cpu": lim.default_request.cpu, "memory": lim.default_request.memory},
            "default": {"cpu": lim.default_limit.cpu, "memory": lim.default_limit.memory},
            "max": {"cpu": lim.max.cpu, "memory": lim.max.memory},
        }]}}, namespace=namespace, object_labels=base)
        b.add("NetworkPolicy", "default-deny", {"spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
              namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_DEFAULT_DENY})
        b.add("NetworkPolicy", "allow-dns", {"spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }]}}, namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_FLOW})
        for flow in env.flows_from(zone.id):
            if flow.destination == pool.zone:
                continue  # the data pool has its own, narrower policy
            # One policy per flow: a zone may reach another by several (logs on tcp, time on udp).
            name = f"flow-to-{flow.destination}-{flow.protocol}-{'-'.join(map(str, flow.ports))}"
            b.add("NetworkPolicy", name, {"spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"ipBlock": {"cidr": str(env.zone(flow.destination).cidr)}}],
                "ports": [{"protocol": flow.protocol.upper(), "port": p} for p in flow.ports],
            }]}}, namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_FLOW},
                annotations={labels.FLOW: flow.label})
        datasets = tenant.request.datasets
        if datasets.publishes or datasets.consumes:
            b.add("NetworkPolicy", "datapool", {"spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"ipBlock": {"cidr": f"{a}/32"}} for a in pool_addresses],
                "ports": [{"protocol": "TCP", "port": pool.port}],
            }]}}, namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_DATAPOOL})
            b.add("ConfigMap", "datapool", {"data": {
                "PGHOST": pool_addresses[0], "PGPORT": str(pool.port), "PGDATABASE": pool.database,
                "PGSSLMODE": "verify-full", "PGSSLROOTCERT": "/etc/govcloud/ca/ca.crt",
            }}, namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_DATAPOOL})
            b.add("Secret", "datapool-credentials", {"type": "Opaque", "stringData": {"PGUSER": tenant.id.replace("-", "_"), "PGPASSWORD": "[secret]"}},
                  namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_DATAPOOL}, secret_paths=("stringData.PGPASSWORD",))
            for consumed in datasets.consumes:
                grant_annotations = {labels.DATASET: consumed.dataset}
                if consumed.approval:
                    grant_annotations[labels.APPROVAL] = consumed.approval
                b.add("ConfigMap", f"grant-{consumed.dataset.replace('/', '--')}", {"data": {"dataset": consumed.dataset, "purpose": consumed.purpose}},
                      namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_DATAPOOL}, annotations=grant_annotations)
        for role, purpose in labels.ADMIN_PURPOSES.items():
            person = getattr(tenant.request.administrators, role)
            b.add("RoleBinding", purpose, {
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name(role)},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": person.account}],
            }, namespace=namespace, object_labels={**base, labels.PURPOSE: purpose})
    for service in tenant.request.services:
        namespace = tenant.namespaces[0]
        b.add("Ingress", service.name, {"spec": {
            "ingressClassName": "govcloud-gateway",
            "tls": [{"hosts": [service.host], "secretName": f"{service.name}-tls"}],
            "rules": [{"host": service.host, "http": {"paths": [{"path": service.path, "pathType": "Prefix", "backend": {
                "service": {"name": service.name, "port": {"number": service.port}}}}]}}],
        }}, namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_SERVICE})
        b.add("Service", service.name, {"spec": {"type": "ClusterIP", "selector": {"app": service.name},
                                                 "ports": [{"name": "http", "port": service.port, "targetPort": service.port}]}},
              namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_SERVICE})
        # The cluster's ingress controller (foundation stack) forwards to the service inside the cluster.
        b.add("NetworkPolicy", f"service-{service.name}", {"spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "govcloud-system"}}}],
            "ports": [{"protocol": "TCP", "port": service.port}],
        }]}}, namespace=namespace, object_labels={**base, labels.PURPOSE: labels.PURPOSE_SERVICE})
    return StackState(stack=stack, env=env.name, kind="tenant", cluster=cluster.id, tenant=tenant.id,
                      kubernetes_version=cluster.kubernetes_version, resources=tuple(b.resources))


def foundation_state(env: Environment, cluster_id: str) -> StackState:
    cluster = env.cluster(cluster_id)
    zone = env.zone(cluster.zone)
    stack = foundation_stack_name(env.name, cluster.id)
    b = StackBuilder(stack, FOUNDATION_COMPONENT, cluster.id)
    base = _platform_labels(env, cluster.id)
    read = ["get", "list", "watch"]
    roles = {
        "system": [
            {"apiGroups": ["", "apps", "batch"], "resources": ["pods", "services", "configmaps", "deployments", "statefulsets", "jobs", "cronjobs"],
             "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
        ],
        "security": [
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": read},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": read},
        ],
        "audit": [
            {"apiGroups": ["", "apps", "networking.k8s.io"], "resources": ["pods", "services", "deployments", "networkpolicies", "events"], "verbs": read},
        ],
    }
    for role, rules in roles.items():
        b.add("ClusterRole", role_name(role), {"rules": rules}, object_labels={**base, labels.PURPOSE: labels.ROLE_PURPOSES[role]})
    b.add("ClusterRoleBinding", "govcloud-security-team", {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name("audit")},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": p.account} for p in env.platform.policy.security_team],
    }, object_labels=base)
    b.add("Namespace", "govcloud-system", {}, object_labels={**base, labels.PSA_ENFORCE: "restricted"})
    b.add("NetworkPolicy", "default-deny", {"spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
          namespace="govcloud-system", object_labels={**base, labels.PURPOSE: labels.PURPOSE_DEFAULT_DENY})
    b.add("Deployment", "guardrails", {"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "guardrails"}}, "template": {
        "metadata": {"labels": {"app": "guardrails"}},
        "spec": {"securityContext": {"runAsNonRoot": True}, "containers": [{
            "name": "webhook", "image": f"{cluster.registry}/govcloud/guardrails:1.4.2",
            "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        }]},
    }}}, namespace="govcloud-system", object_labels=base)
    for flow in env.flows_to(zone.id):
        if flow.gateway:
            b.add("NetworkPolicy", f"from-gateway-{flow.gateway}", {"spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
                "from": [{"ipBlock": {"cidr": f"{env.host(flow.gateway).address}/32"}}],
                "ports": [{"protocol": flow.protocol.upper(), "port": p} for p in flow.ports],
            }]}}, namespace="govcloud-system", object_labels={**base, labels.ZONE: zone.id, labels.PURPOSE: labels.PURPOSE_SERVICE})
    if zone.kind == "internet":
        b.add("NetworkPolicy", "gateway-ingress", {"spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [str(z.cidr) for z in env.platform.zones]}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        }]}}, namespace="govcloud-system", object_labels={**base, labels.ZONE: zone.id, labels.PURPOSE: labels.PURPOSE_INTERNET_GATEWAY})
    return StackState(stack=stack, env=env.name, kind="foundation", cluster=cluster.id, tenant=None,
                      kubernetes_version=cluster.kubernetes_version, resources=tuple(b.resources))


def all_states(env: Environment) -> list[StackState]:
    return [foundation_state(env, c.id) for c in sorted(env.platform.clusters, key=lambda c: c.id)] + [
        tenant_state(env, t.id) for t in env.tenants
    ]


# --- mutation helpers for violating fixtures ------------------------------------------------
def find(state: StackState, kind: str, name: str, namespace: str | None = None) -> ResourceState:
    for r in state.resources:
        meta = r.inputs.get("metadata", {})
        if r.inputs.get("kind") == kind and meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
            return r
    raise KeyError(f"{kind} {namespace}/{name} not in {state.stack}")


def edit(state: StackState, kind: str, name: str, change, namespace: str | None = None) -> StackState:
    """A copy of ``state`` where ``change(inputs)`` edited one object's inputs in place."""
    target = find(state, kind, name, namespace)
    inputs = copy.deepcopy(target.inputs)
    change(inputs)
    resources = tuple(replace(r, inputs=inputs) if r.urn == target.urn else r for r in state.resources)
    return replace(state, resources=resources)


def drop(state: StackState, kind: str, name: str, namespace: str | None = None) -> StackState:
    target = find(state, kind, name, namespace)
    return replace(state, resources=tuple(r for r in state.resources if r.urn != target.urn))


def add_object(state: StackState, kind: str, name: str, body: dict, *, namespace: str | None = None,
               object_labels: dict | None = None, annotations: dict | None = None) -> StackState:
    component = next(r for r in state.resources if not r.custom and r.type != "pulumi:pulumi:Stack")
    b = StackBuilder(state.stack, component.type, component.name)
    b.resources = []
    b.add(kind, name, body, namespace=namespace, object_labels=object_labels, annotations=annotations)
    return replace(state, resources=state.resources + tuple(b.resources))
