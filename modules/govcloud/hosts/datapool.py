"""The data pool's access plan: departments, dataset schemas and sharing grants.

From the tenant requests: every tenant that publishes or consumes gets a login role that may
connect only from its own zone (and only if a flow reaches the pool); every published dataset
gets a schema owned by its publisher; a dataset that may be shared gets a read-only role,
granted to exactly the consumers the requests name (a conditional dataset only with an
approval reference); a not-shared dataset gets no read role at all. Reads of conditional and
core datasets are audited (pgaudit object audit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..model import Environment

MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names silently: never let it.
AUDITOR_ROLE = "govcloud_auditor"


def identifier(*parts: str) -> str:
    """A PostgreSQL identifier from model names: lower case, '-' -> '_', '__' between parts."""
    name = "__".join(p.replace("-", "_") for p in parts)
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENTIFIER - 9]}_{digest}"


@dataclass(frozen=True)
class Department:
    tenant: str
    role: str  # login role
    zone: str
    networks: tuple[str, ...]  # where it may connect from (empty: no flow reaches the pool)


@dataclass(frozen=True)
class Dataset:
    ref: str
    schema: str
    owner: str  # the publisher's login role
    sharing: str
    sensitivity: str
    read_role: str | None  # None for not-shared datasets
    audited: bool


@dataclass(frozen=True)
class Grant:
    dataset: str
    consumer: str  # consumer's login role
    read_role: str
    approval: str | None


@dataclass(frozen=True)
class AccessPlan:
    departments: tuple[Department, ...]
    datasets: tuple[Dataset, ...]
    grants: tuple[Grant, ...]

    def department(self, tenant: str) -> Department:
        return next(d for d in self.departments if d.tenant == tenant)

    def dataset(self, ref: str) -> Dataset:
        return next(d for d in self.datasets if d.ref == ref)


def _reaches_pool(env: Environment, zone: str) -> bool:
    pool = env.platform.datapool
    return any(f.source == zone and f.destination == pool.zone and pool.port in f.ports for f in env.platform.flows)


def access_plan(env: Environment) -> AccessPlan:
    departments = []
    for tenant in sorted(env.tenants, key=lambda t: t.id):
        datasets = tenant.request.datasets
        if not (datasets.publishes or datasets.consumes):
            continue
        networks = (str(env.zone(tenant.zone).cidr),) if _reaches_pool(env, tenant.zone) else ()
        departments.append(Department(tenant.id, identifier(tenant.id), tenant.zone, networks))

    published = []
    for tenant in sorted(env.tenants, key=lambda t: t.id):
        for dataset in sorted(tenant.request.datasets.publishes, key=lambda d: d.name):
            schema = identifier(tenant.id, dataset.name)
            shared = dataset.sharing != "not-shared"
            published.append(
                Dataset(
                    ref=f"{tenant.id}/{dataset.name}",
                    schema=schema,
                    owner=identifier(tenant.id),
                    sharing=dataset.sharing,
                    sensitivity=dataset.sensitivity,
                    read_role=identifier(schema, "read") if shared else None,
                    audited=dataset.sharing == "conditional" or dataset.sensitivity == "core",
                )
            )
    by_ref = {d.ref: d for d in published}

    grants = []
    for tenant in sorted(env.tenants, key=lambda t: t.id):
        for consumed in tenant.request.datasets.consumes:
            offered = by_ref.get(consumed.dataset)
            if offered is None or offered.read_role is None:
                continue  # the model refuses these; never grant on them all the same
            if offered.sharing == "conditional" and not consumed.approval:
                continue
            grants.append(Grant(offered.ref, identifier(tenant.id), offered.read_role, consumed.approval))
    grants.sort(key=lambda g: (g.dataset, g.consumer))
    return AccessPlan(tuple(departments), tuple(published), tuple(grants))


def scram_verifier(password: str, salt: bytes, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores (RFC 5802/7677), so that playbooks and
    inventories only ever carry verifiers, never the password itself."""
    import base64
    import hmac

    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
