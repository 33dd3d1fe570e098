"""A tenant's environment on its shared cluster: namespaces, quotas, network policies, RBAC,
data pool access and public services.

Publishing a service from a tenant outside the internet zone (design accepted for govcloud):
the only way in from the internet is the shared gateway on an internet-zone cluster, and the
only path from there to the tenant's zone is the public-service flow of the matrix (internet ->
zone, tcp/443, through the boundary gateway host). The tenant stack therefore creates two
halves, each in the cluster that owns it:

1. in the tenant's own cluster, an HTTPRoute in the tenant's namespace attached to that
   cluster's zone ingress gateway (foundation), to the tenant's Service, plus the NetworkPolicy
   rule admitting the gateway namespace on the service's port;
2. in the internet-zone cluster, a namespace ``edge-<tenant>`` that can run nothing (pod quota
   0) holding an HTTPRoute on the shared public gateway for the service's host and path, whose
   backend is a selector-less Service with an EndpointSlice listing the tenant cluster's nodes
   on the zone ingress port, and a BackendTLSPolicy so the hop across the zone boundary is
   TLS-verified for the service's host name.

Public TLS ends at the internet zone; nothing in the tenant's zone is exposed through a
NodePort or LoadBalancer; both halves are reviewed with the tenant's stack.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pulumi

from .. import labels
from ..hosts.datapool import identifier
from ..model import Environment, Tenant, codes
from ..model.platform import Cluster
from . import foundation, network
from .kube import KubeObject, meta

TYPE = "govcloud:platform:TenantEnvironment"
DEPLOYER = "deployer"
DEFAULT_DENY = "default-deny"
ALLOWED_FLOWS = "allowed-flows"
DATAPOOL_CONFIG = "datapool"
DATAPOOL_SECRET = "datapool-credentials"
EDGE_PREFIX = "edge-"
BINARY_UNITS = ("Ti", "Gi", "Mi", "Ki")


def pod_security_level(tenant: Tenant) -> str:
    """The level profile's Pod Security level, never weaker than ``restricted`` from MLPS level 2."""
    if tenant.level >= 2:
        return "restricted"
    return tenant.baseline.pod_security


def datapool_role(tenant: Tenant) -> str:
    """The tenant's login role in the data pool: the one the hosts' access plan creates."""
    return identifier(tenant.id)


def edge_namespace(tenant: Tenant) -> str:
    # Tenant namespaces all start with "t-": an edge namespace can never collide with one.
    return f"{EDGE_PREFIX}{tenant.id}"


def public_cluster(env: Environment, cluster: Cluster) -> Cluster:
    """The internet-zone cluster whose shared gateway publishes this cluster's tenants' services."""
    candidates = sorted((c for c in env.platform.clusters if env.zone(c.zone).kind == "internet"),
                        key=lambda c: (c.region != cluster.region, c.id))
    if not candidates:
        raise ValueError(f"no cluster in an internet zone carries the shared gateway for tenants of cluster {cluster.id}")
    return candidates[0]


def _format_memory(amount: int) -> str:
    for unit in BINARY_UNITS:
        size = int(codes.parse_quantity(f"1{unit}"))
        if amount % size == 0:
            return f"{amount // size}{unit}"
    return str(amount)


def split_quantity(value: str | int, kind: str, parts: int) -> list[str]:
    """Split a tenant-wide quota over ``parts`` namespaces exactly (remainder to the first)."""
    if parts == 1:
        return [str(value)]
    if kind == "cpu":
        total = int(codes.parse_quantity(str(value)) * 1000)
        fmt = lambda m: f"{m // 1000}" if m % 1000 == 0 else f"{m}m"  # noqa: E731
    elif kind in ("memory", "storage"):
        total = int(codes.parse_quantity(str(value)))
        fmt = _format_memory
    else:
        total = int(Decimal(value))
        fmt = str
    base, rest = divmod(total, parts)
    return [fmt(base + (rest if i == 0 else 0)) for i in range(parts)]


def tenant_labels(env: Environment, tenant: Tenant, purpose: str | None = None, *, zone: str | None = None) -> dict[str, str]:
    result = {
        labels.TENANT: tenant.id,
        labels.REGION: tenant.region,
        labels.ZONE: zone or tenant.zone,
        labels.MLPS_LEVEL: str(tenant.level),
        labels.ENVIRONMENT: env.name,
        labels.CLUSTER: tenant.cluster,
    }
    if purpose:
        result[labels.PURPOSE] = purpose
    return result


def namespace_annotations(tenant: Tenant) -> dict[str, str]:
    request = tenant.request
    notes = {
        labels.DEPARTMENT: request.department.name,
        labels.REQUESTED_BY: request.change.requested_by,
        labels.CHANGE_REASON: request.change.reason,
    }
    if request.change.approvals:
        notes[labels.APPROVAL] = ", ".join(a.reference for a in request.change.approvals)
    return notes


def _route(name: str, namespace: str, gateway: Any, host: str, path: str, backend: str, port: int,
           common: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": foundation.GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": meta(name, namespace, labels_=common),
        "spec": {
            "parentRefs": [{
                "group": "gateway.networking.k8s.io", "kind": "Gateway",
                "name": gateway["name"], "namespace": gateway["namespace"], "sectionName": gateway["listener"],
            }],
            "hostnames": [host],
            "rules": [{
                "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                "backendRefs": [{"group": "", "kind": "Service", "name": backend, "port": port}],
            }],
        },
    }


class TenantEnvironment(pulumi.ComponentResource):
    """Everything one department gets on its shared cluster (and its edge on the internet cluster)."""

    def __init__(self, env: Environment, tenant: Tenant, provider: pulumi.ProviderResource,
                 foundation_outputs: pulumi.StackReference, *,
                 public_provider: pulumi.ProviderResource | None = None,
                 public_outputs: pulumi.StackReference | None = None,
                 datapool_password: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, tenant.id, None, opts)
        self._env, self._tenant = env, tenant
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        cluster = env.cluster(tenant.cluster)
        zone_kind = env.zone(tenant.zone).kind
        role_names = foundation_outputs.require_output("tenantRoles")
        ingress, egress = network.flow_rules(env, tenant)
        psa = pod_security_level(tenant)
        first = tenant.namespaces[0]
        datapool = network.has_datapool_access(env, tenant)
        quotas = {kind: split_quantity(getattr(tenant.quotas, kind), kind, len(tenant.namespaces))
                  for kind in ("cpu", "memory", "storage", "pods")}

        namespaces: dict[str, KubeObject] = {}
        for index, name in enumerate(tenant.namespaces):
            namespaces[name] = ns = KubeObject({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": meta(name, labels_={**tenant_labels(env, tenant),
                                                labels.PSA_ENFORCE: psa, labels.PSA_AUDIT: psa, labels.PSA_WARN: psa},
                                 annotations=namespace_annotations(tenant)),
            }, child)
            inside = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
            self._quota(name, {k: v[index] for k, v in quotas.items()}, zone_kind != "internet", inside)
            self._limits(name, inside)
            self._network_policies(name, ingress, egress, inside)
            for role in ("system", "security", "audit"):
                person = getattr(tenant.request.administrators, role)
                self._binding(name, f"admin-{role}", role_names[role],
                              {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": person.account}, inside)
            self._binding(name, DEPLOYER, role_names[DEPLOYER],
                          {"kind": "ServiceAccount", "name": DEPLOYER, "namespace": first}, inside)

        inside_first = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespaces[first]]))
        KubeObject({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": meta(DEPLOYER, first, labels_=tenant_labels(env, tenant, "deployer"))}, inside_first)

        outputs: dict[str, Any] = {
            "tenant": tenant.id,
            "cluster": tenant.cluster,
            "namespaces": list(tenant.namespaces),
            "publicServices": [f"{s.host}{s.path}" for s in tenant.request.services],
        }
        if datapool:
            if datapool_password is None:
                raise ValueError(f"tenant {tenant.id} reaches the data pool but was given no data pool password")
            self._datapool(first, pulumi.Output.secret(datapool_password), inside_first)
            outputs["datapool"] = self._datapool_settings()

        common = tenant_labels(env, tenant, "public-service")
        # The gateway of the tenant's own cluster: the shared public one, or the zone ingress.
        gateway = foundation_outputs.require_output("gateway") if tenant.request.services else None
        for service in tenant.request.services:
            KubeObject(_route(service.name, first, gateway, service.host, service.path, service.name, service.port, common),
                       inside_first)
        if tenant.request.services and zone_kind != "internet":
            if public_provider is None or public_outputs is None:
                raise ValueError(f"tenant {tenant.id} publishes services but no internet-zone cluster is wired to its stack")
            if not foundation.node_addresses(env, cluster):
                raise ValueError(f"cluster {cluster.id} lists no cluster-node hosts; the shared gateway cannot reach "
                                 f"the public services of tenant {tenant.id}")
            self._edge(public_provider, public_outputs, gateway, foundation_outputs.require_output("ingressAddresses"))

        self.outputs = outputs
        self.register_outputs(outputs)

    # -- per namespace ---------------------------------------------------------------------
    def _quota(self, namespace: str, amounts: dict[str, str], closed: bool, opts: pulumi.ResourceOptions) -> None:
        hard = {
            "requests.cpu": amounts["cpu"], "limits.cpu": amounts["cpu"],
            "requests.memory": amounts["memory"], "limits.memory": amounts["memory"],
            "requests.storage": amounts["storage"], "pods": amounts["pods"],
        }
        if closed:
            # Belt and braces with the guardrail: nothing but the gateways exposes a node port.
            hard.update({"services.nodeports": "0", "services.loadbalancers": "0"})
        KubeObject({"apiVersion": "v1", "kind": "ResourceQuota",
                    "metadata": meta("quota", namespace, labels_=tenant_labels(self._env, self._tenant, "quota")),
                    "spec": {"hard": hard}}, opts)

    def _limits(self, namespace: str, opts: pulumi.ResourceOptions) -> None:
        limits = self._tenant.limits
        KubeObject({"apiVersion": "v1", "kind": "LimitRange",
                    "metadata": meta("limits", namespace, labels_=tenant_labels(self._env, self._tenant, "limits")),
                    "spec": {"limits": [{
                        "type": "Container",
                        "default": {"cpu": limits.default_limit.cpu, "memory": limits.default_limit.memory},
                        "defaultRequest": {"cpu": limits.default_request.cpu, "memory": limits.default_request.memory},
                        "max": {"cpu": limits.max.cpu, "memory": limits.max.memory},
                    }]}}, opts)

    def _network_policies(self, namespace: str, ingress: list[network.Rule], egress: list[network.Rule],
                          opts: pulumi.ResourceOptions) -> None:
        env, tenant = self._env, self._tenant
        # Default deny both ways, then one policy with exactly one rule per allowed zone flow
        # (and cluster DNS), each rule's flow named in the flow-rules annotation.
        spec: dict[str, Any] = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                "egress": [network.dns_egress_rule()] + [r.body for r in egress]}
        if ingress:
            spec["ingress"] = [r.body for r in ingress]
        implements = json.dumps({"ingress": [r.implements for r in ingress],
                                 "egress": [network.DNS] + [r.implements for r in egress]},
                                ensure_ascii=False, separators=(",", ":"))
        policies = [
            (DEFAULT_DENY, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, None),
            (ALLOWED_FLOWS, spec, {labels.FLOW_RULES: implements}),
        ]
        for name, body, notes in policies:
            KubeObject({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": meta(name, namespace, labels_=tenant_labels(env, tenant, name), annotations=notes),
                        "spec": body}, opts)

    def _binding(self, namespace: str, name: str, cluster_role: Any, subject: dict[str, str],
                 opts: pulumi.ResourceOptions) -> None:
        KubeObject({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": meta(name, namespace, labels_=tenant_labels(self._env, self._tenant, name)),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
                    "subjects": [subject]}, opts)

    # -- data pool -------------------------------------------------------------------------
    def _datapool_settings(self) -> dict[str, Any]:
        pool = self._env.platform.datapool
        return {
            "role": datapool_role(self._tenant),
            "hosts": [str(self._env.host(h).address) for h in pool.hosts],
            "port": pool.port,
            "database": pool.database,
        }

    def _datapool(self, namespace: str, password: pulumi.Output, opts: pulumi.ResourceOptions) -> None:
        settings = self._datapool_settings()
        datasets = self._tenant.request.datasets
        KubeObject({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": meta(DATAPOOL_CONFIG, namespace, labels_=tenant_labels(self._env, self._tenant, "datapool")),
                    "data": {
                        "PGHOST": ",".join(settings["hosts"]),
                        "PGPORT": str(settings["port"]),
                        "PGDATABASE": settings["database"],
                        "PGUSER": settings["role"],
                        "PGSSLMODE": "verify-full",
                        "GOVCLOUD_DATASETS_PUBLISHED": ",".join(d.name for d in datasets.publishes),
                        "GOVCLOUD_DATASETS_CONSUMED": ",".join(c.dataset for c in datasets.consumes),
                    }}, opts)
        # The role's password is the one PostgreSQL knows (its SCRAM verifier is installed on the
        # data pool hosts): a secret of the environment's secret store that reaches the program
        # as secret stack configuration, encrypted in the stack's config and state.
        KubeObject({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
                    "metadata": meta(DATAPOOL_SECRET, namespace, labels_=tenant_labels(self._env, self._tenant, "datapool")),
                    "stringData": {"username": settings["role"], "password": password}}, opts)

    # -- the edge on the internet cluster ----------------------------------------------------
    def _edge(self, provider: pulumi.ProviderResource, public_outputs: pulumi.StackReference, zone_ingress: Any,
              addresses: Any) -> None:
        env, tenant = self._env, self._tenant
        public = public_cluster(env, env.cluster(tenant.cluster))
        name = edge_namespace(tenant)
        common = tenant_labels(env, tenant, "edge", zone=public.zone)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        ns = KubeObject({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": meta(name, labels_={**common, labels.PSA_ENFORCE: "restricted",
                                                         labels.PSA_AUDIT: "restricted", labels.PSA_WARN: "restricted"},
                                          annotations=namespace_annotations(tenant))}, child)
        inside = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        KubeObject({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("quota", name, labels_=common),
                    "spec": {"hard": {"pods": "0"}}}, inside)
        KubeObject({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": meta(DEFAULT_DENY, name, labels_=common),
                    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}, inside)
        gateway = public_outputs.require_output("gateway")
        port = zone_ingress["port"]
        for service in tenant.request.services:
            backend = KubeObject({"apiVersion": "v1", "kind": "Service", "metadata": meta(service.name, name, labels_=common),
                                  "spec": {"type": "ClusterIP", "ports": [
                                      {"name": "https", "protocol": "TCP", "port": port, "targetPort": port, "appProtocol": "https"}]}},
                                 inside)
            after = pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=[backend]))
            KubeObject({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                        "metadata": meta(f"{service.name}-zone-ingress", name, labels_={
                            **common, labels.SERVICE_NAME: service.name,
                            labels.ENDPOINTSLICE_MANAGED_BY: labels.ENDPOINTSLICE_MANAGED_BY_VALUE}),
                        "addressType": "IPv4",
                        "endpoints": addresses.apply(lambda ips: [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]),
                        "ports": [{"name": "https", "protocol": "TCP", "port": port}]}, after)
            KubeObject(_route(service.name, name, gateway, service.host, service.path, service.name, port, common), after)
            KubeObject({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "BackendTLSPolicy",
                        "metadata": meta(service.name, name, labels_=common),
                        "spec": {"targetRefs": [{"group": "", "kind": "Service", "name": service.name}],
                                 "validation": {"hostname": service.host, "wellKnownCACertificates": "System"}}}, after)
