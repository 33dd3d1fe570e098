"""The configuration files and command lines of one control plane (no I/O but writing files).

Hardening follows what a production cluster of the province runs (CIS Kubernetes Benchmark
section 1.2, MLPS 2.0 8.1.4): no anonymous requests, Node and RBAC authorization, the admission
plugins listed below, TLS 1.2+ with ECDHE AEAD suites only, Secrets encrypted in etcd, an audit
log kept 180 days (Cybersecurity Law art. 21), no profiling endpoint, etcd reachable only on the
lab namespace's loopback and only with a client certificate from its own CA.
"""

from __future__ import annotations

from pathlib import Path

# Admission plugins, in the API server's own order of application. The defaults of 1.36/1.37 are
# listed too (not only the additions), so the set is written down in one place:
ADMISSION_PLUGINS = (
    "NamespaceLifecycle",          # nothing created in a namespace being deleted, system namespaces kept
    "LimitRanger",                 # tenant LimitRanges apply defaults and maxima
    "ServiceAccount",              # pods run as a service account of their namespace
    "NodeRestriction",             # kubelets (Node authorizer) change only their own node and pods
    "PodSecurity",                 # Pod Security Standards per namespace label (tenants: restricted)
    "Priority",                    # priority classes resolved (the foundation defines them)
    "DefaultTolerationSeconds",
    "DefaultStorageClass",
    "StorageObjectInUseProtection",
    "PersistentVolumeClaimResize",
    "RuntimeClass",
    "DefaultIngressClass",
    "CertificateApproval",         # CSR approval and signing need their own permissions
    "CertificateSigning",
    "CertificateSubjectRestriction",  # nobody gets a system:masters certificate through a CSR
    "ClusterTrustBundleAttest",
    "TaintNodesByCondition",
    "AlwaysPullImages",            # shared nodes: a pod cannot use another tenant's pulled private image
    "DenyServiceExternalIPs",      # externalIPs can hijack traffic (CVE-2020-8554); never used here
    "EventRateLimit",              # one tenant cannot flood the API server with events
    "OwnerReferencesPermissionEnforcement",  # no blocking ownerReferences on objects one cannot delete
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy",   # the foundation's CEL guardrails
    "ValidatingAdmissionWebhook",
    "ResourceQuota",               # tenant quotas (last: counts what the others admitted)
)

TLS_CIPHER_SUITES = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
)

# Services get virtual addresses from here; no node, no kube-proxy: nothing routes them.
SERVICE_CIDR = "10.96.0.0/16"
AUDIT_RETENTION_DAYS = 180

ADMISSION_CONFIG = """\
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: PodSecurity
    configuration:
      apiVersion: pod-security.admission.config.k8s.io/v1
      kind: PodSecurityConfiguration
      # Namespaces without labels enforce baseline and report restricted; govcloud labels
      # every namespace it creates (tenants: the level's profile, `default`: restricted).
      defaults: {enforce: baseline, enforce-version: latest, audit: restricted, audit-version: latest,
                 warn: restricted, warn-version: latest}
      exemptions: {usernames: [], runtimeClasses: [], namespaces: [kube-system]}
  - name: EventRateLimit
    configuration:
      apiVersion: eventratelimit.admission.k8s.io/v1alpha1
      kind: Configuration
      limits:
        - {type: Server, qps: 500, burst: 1000}
        - {type: Namespace, qps: 50, burst: 100, cacheSize: 5000}
"""

# MLPS 8.1.4.3: who did what, when, on which object; bodies of Secrets, ConfigMaps and tokens
# never reach the log.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"]
  - level: Metadata
    resources:
      - {group: "", resources: [secrets, configmaps, serviceaccounts/token]}
      - {group: authentication.k8s.io, resources: [tokenreviews, tokenrequests]}
  - level: RequestResponse
    verbs: [create, update, patch, delete, deletecollection]
    resources:
      - {group: rbac.authorization.k8s.io}
      - {group: networking.k8s.io, resources: [networkpolicies]}
      - {group: admissionregistration.k8s.io}
      - {group: "", resources: [namespaces, resourcequotas, limitranges]}
  - level: Request
    verbs: [create, update, patch, delete, deletecollection]
  - level: Metadata
"""


def etcd_command(binary: Path, name: str, data: Path, port: int, peer_port: int, ca: Path, cert: Path, key: Path) -> list[str]:
    client, peer = f"https://127.0.0.1:{port}", f"https://127.0.0.1:{peer_port}"
    return [
        str(binary), "--name", name, "--data-dir", str(data),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", f"{name}={peer}", "--initial-cluster-state", "new", "--initial-cluster-token", name,
        "--client-cert-auth", "--trusted-ca-file", str(ca), "--cert-file", str(cert), "--key-file", str(key),
        "--peer-client-cert-auth", "--peer-trusted-ca-file", str(ca), "--peer-cert-file", str(cert), "--peer-key-file", str(key),
        "--cipher-suites", ",".join(TLS_CIPHER_SUITES), "--tls-min-version", "TLS1.2",
        "--log-level", "warn",
    ]


def apiserver_command(binary: Path, *, address: str, port: int, etcd_port: int, files: dict[str, Path]) -> list[str]:
    """``files``: ca, etcd_ca, cert, key, etcd_cert, etcd_key, sa_key, sa_pub, admission, audit_policy,
    audit_log, encryption."""
    f = files
    return [
        str(binary),
        f"--advertise-address={address}", f"--bind-address={address}", f"--secure-port={port}",
        f"--etcd-servers=https://127.0.0.1:{etcd_port}", f"--etcd-cafile={f['etcd_ca']}",
        f"--etcd-certfile={f['etcd_cert']}", f"--etcd-keyfile={f['etcd_key']}",
        f"--tls-cert-file={f['cert']}", f"--tls-private-key-file={f['key']}", f"--client-ca-file={f['ca']}",
        "--tls-min-version=VersionTLS12", f"--tls-cipher-suites={','.join(TLS_CIPHER_SUITES)}",
        "--anonymous-auth=false", "--authorization-mode=Node,RBAC",
        # Node agents (CNI, kube-proxy) run privileged in kube-system on a real cluster, as kubeadm
        # allows; tenants are kept from it by Pod Security and the guardrails, per namespace.
        "--allow-privileged=true",
        f"--enable-admission-plugins={','.join(ADMISSION_PLUGINS)}", f"--admission-control-config-file={f['admission']}",
        f"--service-account-issuer=https://{address}:{port}", f"--service-account-key-file={f['sa_pub']}",
        f"--service-account-signing-key-file={f['sa_key']}", f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--encryption-provider-config={f['encryption']}",
        f"--audit-policy-file={f['audit_policy']}", f"--audit-log-path={f['audit_log']}", "--audit-log-format=json",
        f"--audit-log-maxage={AUDIT_RETENTION_DAYS}", "--audit-log-maxbackup=10", "--audit-log-maxsize=100",
        "--profiling=false", "--enable-bootstrap-token-auth=false",
    ]


# The controllers a control plane without nodes needs: quota status (quota admission enforces only
# what this controller has observed), service accounts and their tokens, namespace deletion,
# garbage collection, the cluster CA bundle in every namespace, aggregated ClusterRoles. The
# workload controllers stay off: with no node nothing they make could run.
CONTROLLERS = ("clusterrole-aggregation-controller", "garbage-collector-controller", "namespace-controller", "resourcequota-controller",
               "root-ca-certificate-publisher-controller", "serviceaccount-controller", "serviceaccount-token-controller")


def controller_manager_command(binary: Path, *, files: dict[str, Path]) -> list[str]:
    f = files
    return [
        str(binary), f"--kubeconfig={f['kcm_kubeconfig']}", f"--authentication-kubeconfig={f['kcm_kubeconfig']}",
        f"--authorization-kubeconfig={f['kcm_kubeconfig']}", f"--controllers={','.join(CONTROLLERS)}",
        f"--service-account-private-key-file={f['sa_key']}", f"--root-ca-file={f['ca']}",
        "--use-service-account-credentials=true",  # each controller acts with its own, least-privilege identity
        "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0", "--profiling=false",
    ]
