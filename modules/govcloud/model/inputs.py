"""The input files the stacks/ program reads for a stack, with their digests.

What a stack's desired state can depend on (besides govcloud's own code):

- a foundation stack: ``platform.yaml`` (clusters, zones, flows, hosts, data pool);
- a tenant stack: ``platform.yaml`` (its level's template, its cluster, zone, flows, data pool),
  its own request ``tenants/<id>.yaml``, and the requests of the tenants whose datasets it
  consumes (their sharing class decides its data pool access).

``govcloud render`` records them beside each state (``inputs.json``), so check and review can
tell a render older than the inventory; the diff proves stacks unchanged from them.
"""

from __future__ import annotations

from .environment import Environment, Stack
from .loader import PLATFORM_FILE, TENANTS_DIR

ABSENT = "absent"


def tenant_sources(env: Environment) -> dict[str, str]:
    """Tenant id -> the key of its request in ``env.sources``."""
    found = {}
    prefix = TENANTS_DIR + "/"
    for key in env.sources:  # keys are relative POSIX paths; strings, not 4,000 PurePosixPaths
        name = key.rpartition("/")[2]
        if key.startswith(prefix) and name.endswith(".yaml") and len(name) > len(".yaml"):  # ".yaml" alone has no suffix
            found[name[:-len(".yaml")]] = key
    return found


def render_inputs(env: Environment, stack: Stack, requests: dict[str, str] | None = None) -> dict[str, str]:
    """The input files the program reads for ``stack``, with their digests."""
    requests = tenant_sources(env) if requests is None else requests
    inputs = {PLATFORM_FILE: env.sources.get(PLATFORM_FILE, ABSENT)}
    if stack.kind == "tenant":
        assert stack.tenant is not None
        tenant = env.tenant(stack.tenant)
        ids = {tenant.id} | {c.dataset.split("/", 1)[0] for c in tenant.request.datasets.consumes}
        for tenant_id in sorted(ids):
            key = requests.get(tenant_id)
            # A request that is not where the loader keeps requests cannot be proven equal: never skip it.
            inputs[key or f"{TENANTS_DIR}/{tenant_id}.yaml"] = env.sources.get(key, ABSENT) if key else f"unknown:{id(env)}"
    return inputs
