"""The Pulumi program behind ``stacks/__main__.py``: the stack name alone selects what it builds.

``<env>.cluster-<id>`` builds the foundation of cluster ``<id>``; ``<env>.<tenant-id>`` builds
that tenant's environment. The model comes from ``govcloud.model.load_environment``; the
inventories directory is the Pulumi config ``govcloud:inventories`` (relative paths are taken
from the project directory), by default the project's ``inventories/``.

The stack configuration is a function of the model and the environment's secret store
(``stack_configuration``): `govcloud deploy` writes exactly it into the stack (and checks the
engine reads nothing else), and the offline render feeds the same configuration to the mock
runtime, secret values it does not hold replaced by a placeholder that the desired state
redacts like any secret, so both digest the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import pulumi

from ..model import Environment, Stack, foundation_stack_name, load_environment
from ..model.platform import Cluster
from . import foundation, network
from . import tenant as tenant_component
from .kube import KubernetesProvider

# The Pulumi project (Pulumi.yaml, stacks/, policies/) this package belongs to.
PROJECT_DIR = Path(__file__).resolve().parents[3]
CONFIG_NAMESPACE = "govcloud"
INVENTORIES_KEY = "inventories"
GATEWAY_CLASS_KEY = "gatewayClassName"
DEFAULT_GATEWAY_CLASS = "govcloud"
# A tenant's data pool password (a secret), for tenants that reach the data pool.
DATAPOOL_PASSWORD_KEY = "datapoolPassword"
# What the offline render configures for a secret it does not hold; never reaches a file.
SECRET_PLACEHOLDER = "offline-secret-placeholder"


def config_key(name: str) -> str:
    return f"{CONFIG_NAMESPACE}:{name}"


@dataclass(frozen=True)
class StackConfiguration:
    """A stack's configuration: plain values and secret values, by full key (``govcloud:...``)."""

    plain: dict[str, str] = field(default_factory=dict)
    secret: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        return {**self.plain, **self.secret}


class MissingSecret(LookupError):
    """The secret store has no value for a secret a stack needs (the message names it)."""


def stack_configuration(env: Environment, stack: Stack, inventories: Path,
                        datapool_passwords: Mapping[str, str] | None = None) -> StackConfiguration:
    """The configuration of ``stack``: the inventories it is built from and, for a tenant that
    reaches the data pool, its role's password from ``datapool_passwords`` (role -> password).
    Without a store (the offline render) secrets get ``SECRET_PLACEHOLDER``."""
    plain = {config_key(INVENTORIES_KEY): str(inventories.resolve())}
    secret: dict[str, str] = {}
    if stack.kind == "tenant":
        assert stack.tenant is not None
        tenant = env.tenant(stack.tenant)
        if network.has_datapool_access(env, tenant):
            role = tenant_component.datapool_role(tenant)
            if datapool_passwords is None:
                secret[config_key(DATAPOOL_PASSWORD_KEY)] = SECRET_PLACEHOLDER
            elif role in datapool_passwords:
                secret[config_key(DATAPOOL_PASSWORD_KEY)] = datapool_passwords[role]
            else:
                raise MissingSecret(f"the data pool secret store has no password for role {role} (tenant {tenant.id})")
    return StackConfiguration(plain, secret)


# One model per process: the engine runs one program per process; the offline renderer
# loads the model once and hands it to every program run in a worker (``remember``).
_loaded: dict[tuple[str, Path], Environment] = {}


def remember(environment: Environment, inventories: Path) -> None:
    _loaded.clear()
    _loaded[(environment.name, inventories.resolve())] = environment


def environment(env: str, inventories: Path) -> Environment:
    key = (env, inventories.resolve())
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = load_environment(env, inventories)
    return _loaded[key]


def split_stack_name(stack: str) -> tuple[str, str]:
    env, sep, rest = stack.partition(".")
    if not sep or not env or not rest:
        raise ValueError(f"stack name {stack!r} is not <env>.<name> (e.g. lab.cluster-egov-1, lab.t-430100-health)")
    return env, rest


PROVIDER_PREFIX = "cluster-"


def provider_for(cluster: Cluster) -> KubernetesProvider:
    """A Kubernetes provider per cluster, from the kubeconfig context named in platform.yaml."""
    return KubernetesProvider(f"{PROVIDER_PREFIX}{cluster.id}", context=cluster.kube_context)


def cluster_of_provider(provider_urn: str) -> str:
    """The cluster id a resource goes to, from its provider's URN (``...::cluster-<id>``)."""
    return provider_urn.rsplit("::", 1)[-1].removeprefix(PROVIDER_PREFIX)


def stack_reference(stack: str) -> pulumi.StackReference:
    return pulumi.StackReference(f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack}")


def main(project_dir: Path) -> None:
    config = pulumi.Config(CONFIG_NAMESPACE)
    stack_name = pulumi.get_stack()
    env_name, _ = split_stack_name(stack_name)
    inventories = Path(config.get(INVENTORIES_KEY) or "inventories")
    if not inventories.is_absolute():
        inventories = project_dir / inventories
    env = environment(env_name, inventories)
    try:
        stack = env.stack(stack_name)
    except KeyError:
        raise ValueError(f"stack {stack_name} is not implied by the model of environment {env_name}; "
                         f"`govcloud stacks list --env {env_name}` lists them") from None
    cluster = env.cluster(stack.cluster)
    provider = provider_for(cluster)
    built: foundation.ClusterFoundation | tenant_component.TenantEnvironment
    if stack.kind == "foundation":
        built = foundation.ClusterFoundation(env, cluster, provider,
                                             gateway_class=config.get(GATEWAY_CLASS_KEY) or DEFAULT_GATEWAY_CLASS)
    else:
        assert stack.tenant is not None
        tenant = env.tenant(stack.tenant)
        own = stack_reference(foundation_stack_name(env.name, cluster.id))
        public_provider = public_outputs = None
        if tenant.request.services and env.zone(cluster.zone).kind != "internet":
            public = tenant_component.public_cluster(env, cluster)
            public_provider = provider_for(public)
            public_outputs = stack_reference(foundation_stack_name(env.name, public.id))
        password = config.require_secret(DATAPOOL_PASSWORD_KEY) if network.has_datapool_access(env, tenant) else None
        built = tenant_component.TenantEnvironment(env, tenant, provider, own,
                                                   public_provider=public_provider, public_outputs=public_outputs,
                                                   datapool_password=password)
    for key, value in sorted(built.outputs.items()):
        pulumi.export(key, value)


def foundations_needed(env: Environment, stacks: Iterable[Stack]) -> list[Stack]:
    """Foundation stacks whose outputs the given stacks read: their own cluster's, and the
    internet cluster's for tenants that publish services from another zone."""
    names: set[str] = set()
    for stack in stacks:
        cluster = env.cluster(stack.cluster)
        names.add(foundation_stack_name(env.name, cluster.id))
        if stack.kind == "tenant":
            assert stack.tenant is not None
            tenant = env.tenant(stack.tenant)
            if tenant.request.services and env.zone(cluster.zone).kind != "internet":
                names.add(foundation_stack_name(env.name, tenant_component.public_cluster(env, cluster).id))
    return [s for s in env.stacks if s.name in names]
