"""govcloud's program plus what no tenant may have: a privileged pod and a wildcard Role in the
tenant's namespace (GOV-SEC-009, GOV-SEC-004, both mandatory). The engine must stop it with the
pack before anything reaches the cluster."""

from pathlib import Path

import pulumi

from govcloud.components import program
from govcloud.components.kube import KubeObject, KubernetesProvider, meta

program.main(program.PROJECT_DIR)

env_name, tenant_id = program.split_stack_name(pulumi.get_stack())
env = program.environment(env_name, Path(pulumi.Config(program.CONFIG_NAMESPACE).require(program.INVENTORIES_KEY)))
tenant = env.tenant(tenant_id)
cluster = env.cluster(tenant.cluster)
provider = KubernetesProvider("violation", context=cluster.kube_context)
opts = pulumi.ResourceOptions(provider=provider)
namespace = tenant.namespaces[0]
KubeObject({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("everything", namespace),
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}, opts)
KubeObject({"apiVersion": "v1", "kind": "Pod", "metadata": meta("root-shell", namespace),
            "spec": {"containers": [{"name": "shell", "image": f"{cluster.registry}/library/busybox:1.36",
                                     "securityContext": {"privileged": True}}]}}, opts)
