"""The foundation of one shared cluster: what every tenant on it relies on.

- Pod Security Admission defaults: the ``default`` namespace enforces ``restricted``, and a
  guardrail keeps every tenant namespace at ``baseline`` or ``restricted``.
- Admission guardrails (ValidatingAdmissionPolicy + binding, CEL; see ``guardrails``).
- Priority classes.
- The tenant roles (ClusterRoles bound per tenant namespace; see ``roles``).
- Gateways (Gateway API) in the ``govcloud-gateway`` namespace: the shared public gateway on a
  cluster in the internet zone; a zone ingress gateway on a cluster whose zone receives the
  public-service flow from the internet zone (see ``publishing`` in the tenant component).

Tenant stacks read the foundation's outputs through a StackReference.
"""

from __future__ import annotations

from typing import Any

import pulumi

from .. import labels
from ..model import Environment
from ..model.platform import Cluster
from . import guardrails, network, roles
from .kube import KubeObject, meta

TYPE = "govcloud:platform:ClusterFoundation"

PUBLIC_GATEWAY = "public"
ZONE_INGRESS_GATEWAY = "zone-ingress"
GATEWAY_LISTENER = "https"
GATEWAY_API = "gateway.networking.k8s.io/v1"

PRIORITY_CLASSES = (
    # name, value, global default, preemption, purpose
    ("govcloud-platform", 100000, False, "PreemptLowerPriority", "platform services (gateways, log shipping)"),
    ("govcloud-tenant-critical", 10000, False, "PreemptLowerPriority", "tenant services the public depends on"),
    ("govcloud-tenant-standard", 1000, True, "PreemptLowerPriority", "tenant workloads (the default)"),
    ("govcloud-tenant-batch", 100, False, "Never", "tenant batch jobs; never preempt others"),
)


def admission_api_version(kubernetes_version: str) -> str:
    """ValidatingAdmissionPolicy is GA (v1) from Kubernetes 1.30 and beta (v1beta1) in 1.28-1.29."""
    minor = int(kubernetes_version.split(".")[1])
    if minor >= 30:
        return "admissionregistration.k8s.io/v1"
    if minor >= 28:
        return "admissionregistration.k8s.io/v1beta1"
    raise ValueError(f"Kubernetes {kubernetes_version} has no ValidatingAdmissionPolicy; govcloud guardrails need 1.28 or later")


def gateway_role(env: Environment, cluster: Cluster) -> str | None:
    """``public`` on internet-zone clusters, ``zone-ingress`` where public services flow in, else None."""
    if env.zone(cluster.zone).kind == "internet":
        return PUBLIC_GATEWAY
    if any(network.is_public_service_flow(env, f) for f in env.flows_to(cluster.zone)):
        return ZONE_INGRESS_GATEWAY
    return None


def zone_ingress_port(env: Environment, cluster: Cluster) -> int:
    ports = sorted({p for f in env.flows_to(cluster.zone) if network.is_public_service_flow(env, f) for p in f.ports})
    return ports[0]


def node_addresses(env: Environment, cluster: Cluster) -> list[str]:
    return sorted(str(h.address) for h in env.platform.hosts if h.role == "cluster-node" and h.cluster == cluster.id)


def platform_labels(env: Environment, cluster: Cluster, purpose: str) -> dict[str, str]:
    return {labels.ENVIRONMENT: env.name, labels.CLUSTER: cluster.id, labels.ZONE: cluster.zone, labels.PURPOSE: purpose}


def _psa(level: str) -> dict[str, str]:
    return {labels.PSA_ENFORCE: level, labels.PSA_AUDIT: level, labels.PSA_WARN: level}


def guardrail_manifests(rail: guardrails.Guardrail, api_version: str, common: dict[str, str]) -> tuple[dict, dict]:
    policy: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": meta(rail.name, labels_=common, annotations={labels.DESCRIPTION: rail.description}),
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                # Equivalent (the default, spelled out): a request through another version of
                # the same resource is converted and checked too.
                "matchPolicy": "Equivalent",
                "resourceRules": [
                    {"apiGroups": [group], "apiVersions": ["v1"], "operations": list(guardrails.WRITE_OPERATIONS), "resources": list(resources)}
                    for group, resources in rail.rules
                ],
            },
            "validations": [{"expression": v.expression, "message": v.message} for v in rail.validations],
        },
    }
    if rail.match_conditions:
        policy["spec"]["matchConditions"] = [{"name": n, "expression": e} for n, e in rail.match_conditions]
    if rail.variables:
        policy["spec"]["variables"] = [{"name": n, "expression": e} for n, e in rail.variables]
    binding: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": meta(rail.name, labels_=common),
        "spec": {"policyName": rail.name, "validationActions": ["Deny"]},
    }
    if rail.tenant_namespaces_only:
        binding["spec"]["matchResources"] = {"namespaceSelector": {"matchExpressions": [{"key": labels.TENANT, "operator": "Exists"}]}}
    return policy, binding


def gateway_manifest(name: str, gateway_class: str, port: int, common: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": meta(name, network.GATEWAY_NAMESPACE, labels_=common),
        "spec": {
            "gatewayClassName": gateway_class,
            "listeners": [
                {
                    "name": GATEWAY_LISTENER,
                    "port": port,
                    "protocol": "HTTPS",
                    # Certificates come from the platform PKI (e.g. cert-manager with an SM2
                    # issuer); govcloud names the Secret, it never holds key material.
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "group": "", "name": f"{name}-tls"}]},
                    "allowedRoutes": {
                        "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                        "namespaces": {
                            "from": "Selector",
                            "selector": {"matchExpressions": [{"key": labels.TENANT, "operator": "Exists"}]},
                        },
                    },
                }
            ],
        },
    }


class ClusterFoundation(pulumi.ComponentResource):
    """Cluster-wide baseline, zone defaults and admission guardrails of one shared cluster."""

    def __init__(self, env: Environment, cluster: Cluster, provider: pulumi.ProviderResource, *,
                 gateway_class: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, cluster.id, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        common = platform_labels(env, cluster, "foundation")

        KubeObject({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default", "labels": _psa("restricted")}},
                   child, patch=True)

        for name, value, default, preemption, purpose in PRIORITY_CLASSES:
            KubeObject({
                "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": meta(name, labels_=common), "value": value, "globalDefault": default,
                "preemptionPolicy": preemption, "description": purpose,
            }, child)

        for tenant_role, name in sorted(roles.ROLE_NAMES.items()):
            KubeObject({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": meta(name, labels_={**common, labels.PURPOSE: f"tenant-{tenant_role}"}),
                "rules": roles.ROLE_RULES[tenant_role],
            }, child)

        admission = admission_api_version(cluster.kubernetes_version)
        for rail in guardrails.for_cluster(env, cluster):
            policy, binding = guardrail_manifests(rail, admission, common)
            created = KubeObject(policy, child)
            KubeObject(binding, pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[created])))

        role = gateway_role(env, cluster)
        gateway = None
        if role is not None:
            gateway_labels = platform_labels(env, cluster, "gateway")
            namespace = KubeObject({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": meta(network.GATEWAY_NAMESPACE, labels_={**gateway_labels, **_psa("restricted")}),
            }, child)
            port = 443 if role == PUBLIC_GATEWAY else zone_ingress_port(env, cluster)
            KubeObject(gateway_manifest(role, gateway_class, port, gateway_labels),
                       pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace])))
            gateway = {"name": role, "namespace": network.GATEWAY_NAMESPACE, "listener": GATEWAY_LISTENER, "port": port}

        self.outputs: dict[str, Any] = {
            "cluster": cluster.id,
            "zone": cluster.zone,
            "kubernetesVersion": cluster.kubernetes_version,
            "registry": cluster.registry,
            "tenantRoles": dict(roles.ROLE_NAMES),
            "ingressAddresses": node_addresses(env, cluster) if role == ZONE_INGRESS_GATEWAY else [],
            "priorityClasses": [p[0] for p in PRIORITY_CLASSES],
        }
        if gateway is not None:
            self.outputs["gateway"] = gateway
        self.register_outputs(self.outputs)
