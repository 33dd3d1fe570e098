"""Label and annotation keys govcloud puts on Kubernetes objects.

The stacks write them, the admission guardrails and the policy pack read them: one home, so
that a renamed key cannot silently disable a rule.
"""

from __future__ import annotations

PREFIX = "govcloud.gov.cn"

TENANT = f"{PREFIX}/tenant"
REGION = f"{PREFIX}/region"
ZONE = f"{PREFIX}/zone"
MLPS_LEVEL = f"{PREFIX}/mlps-level"
CLUSTER = f"{PREFIX}/cluster"
ENVIRONMENT = f"{PREFIX}/env"
# What an object is for inside a tenant (e.g. default-deny, flow, datapool, admin-system).
PURPOSE = f"{PREFIX}/purpose"
# Values of PURPOSE that the policy pack relies on.
PURPOSE_DEFAULT_DENY = "default-deny"
PURPOSE_FLOW = "flow"
PURPOSE_DATAPOOL = "datapool"
PURPOSE_SERVICE = "service"
PURPOSE_INTERNET_GATEWAY = "internet-gateway"
PURPOSE_ADMIN_SYSTEM = "admin-system"
PURPOSE_ADMIN_SECURITY = "admin-security"
PURPOSE_ADMIN_AUDIT = "admin-audit"
ADMIN_PURPOSES = {"system": PURPOSE_ADMIN_SYSTEM, "security": PURPOSE_ADMIN_SECURITY, "audit": PURPOSE_ADMIN_AUDIT}
# The ClusterRoles (foundation) those RoleBindings refer to.
ROLE_PURPOSES = {"system": "tenant-system", "security": "tenant-security", "audit": "tenant-audit"}
# A tenant's namespace on the internet cluster that only holds the routes of its public services.
PURPOSE_EDGE = "edge"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "govcloud"

# Labels every tenant workload must carry (enforced by admission guardrails and the pack).
REQUIRED_WORKLOAD_LABELS = (TENANT, ZONE, MLPS_LEVEL)

# Annotations (free text, Chinese allowed).
DEPARTMENT = f"{PREFIX}/department"
REQUESTED_BY = f"{PREFIX}/requested-by"
CHANGE_REASON = f"{PREFIX}/change-reason"
FLOW = f"{PREFIX}/flow"
# On an object granting a tenant access to a dataset: the dataset ref (<tenant-id>/<name>) and
# the approval reference that allows it (conditional datasets). Several refs: comma-separated.
DATASET = f"{PREFIX}/dataset"
APPROVAL = f"{PREFIX}/approval"
DESCRIPTION = f"{PREFIX}/description"
# Which zone flow each NetworkPolicy rule implements: JSON {"ingress": [...], "egress": [...]}.
FLOW_RULES = f"{PREFIX}/flow-rules"

# Upstream keys govcloud sets on objects it owns.
NAMESPACE_NAME = "kubernetes.io/metadata.name"
SERVICE_NAME = "kubernetes.io/service-name"
ENDPOINTSLICE_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
ENDPOINTSLICE_MANAGED_BY_VALUE = "govcloud.gov.cn"
# ConfigMap key of the data pool settings listing the datasets a tenant consumes (comma-separated).
DATASETS_CONSUMED_KEY = "GOVCLOUD_DATASETS_CONSUMED"

# Pod Security Admission (upstream keys).
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_AUDIT = "pod-security.kubernetes.io/audit"
PSA_WARN = "pod-security.kubernetes.io/warn"
# Pins the checks of an older Kubernetes release; tenant namespaces may not set it (guardrails).
PSA_ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version"
