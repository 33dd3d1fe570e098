"""The department request: ``inventories/<env>/tenants/<tenant-id>.yaml`` (the tenant factory).

A request states what a department wants; ``merge`` in ``environment.py`` combines it with the
template of its MLPS level into the effective ``Tenant`` that every later stage reads.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from .platform import Person
from .types import Account, DnsLabel, Hostname, MlpsLevel, Port, Quantity, RegionCode, Sensitivity, ServicePath, SharingClass, Strict, Text, Uscc

DATASET_REF_PATTERN = r"^t-[0-9]{6}-[a-z]([-a-z0-9]*[a-z0-9])?/[a-z]([-a-z0-9]*[a-z0-9])?$"


class Department(Strict):
    slug: DnsLabel = Field(max_length=40, description="Short English name; the tenant id is t-<region>-<slug>")
    name: Text = Field(description="Official name, e.g. 长沙市卫生健康委员会")
    uscc: Uscc = Field(description="Unified social credit code (GB 32100-2015), 18 characters")


class Administrators(Strict):
    """Separation of duties (GB/T 22239-2019 8.1.4.2): three different people."""

    system: Person
    security: Person
    audit: Person


class Approval(Strict):
    by: Account
    role: Text
    date: dt.date
    reference: Text


class Change(Strict):
    """Change management, as AWS Account Factory asks for every request."""

    requested_by: Account
    reason: Text
    review_by: dt.date = Field(description="Date by which the request must be reviewed again")
    approvals: list[Approval] = Field(default_factory=list)


class PublishedDataset(Strict):
    name: DnsLabel
    description: Text
    sharing: SharingClass
    sensitivity: Sensitivity


class ConsumedDataset(Strict):
    dataset: str = Field(pattern=DATASET_REF_PATTERN, description="<tenant-id>/<dataset-name> of a published dataset")
    purpose: Text
    approval: Text | None = Field(None, description="Approval reference; required for conditional datasets")


class Datasets(Strict):
    publishes: list[PublishedDataset] = Field(default_factory=list)
    consumes: list[ConsumedDataset] = Field(default_factory=list)


class PublicService(Strict):
    """A service published through the shared internet-zone gateway."""

    name: DnsLabel = Field(max_length=30)
    host: Hostname
    path: ServicePath = Field("/", description="URL path prefix the service is published under (no dot segments, no //)")
    port: Port = Field(description="Backend port of the service inside the tenant's namespace")


class QuotaOverride(Strict):
    cpu: Quantity | None = None
    memory: Quantity | None = None
    storage: Quantity | None = None
    pods: int | None = Field(None, gt=0, strict=True)


class ContainerResourcesOverride(Strict):
    cpu: Quantity | None = None
    memory: Quantity | None = None


class LimitOverride(Strict):
    default_request: ContainerResourcesOverride | None = None
    default_limit: ContainerResourcesOverride | None = None


class TenantRequest(Strict):
    department: Department
    region: RegionCode = Field(description="GB/T 2260 code of the region the department belongs to")
    mlps_level: MlpsLevel = Field(description="MLPS 2.0 protection level (1-4); the zone must admit it")
    cluster: DnsLabel = Field(description="Id of the shared cluster in platform.yaml")
    zone: DnsLabel = Field(description="Zone id; must be the cluster's zone")
    namespaces: list[DnsLabel] = Field(
        default_factory=lambda: ["app"],
        min_length=1,
        description="Namespace suffixes; each namespace is <tenant-id>-<suffix>",
    )
    quotas: QuotaOverride = Field(default_factory=QuotaOverride, description="Overrides within the level's bounds")
    limits: LimitOverride = Field(default_factory=LimitOverride, description="Container defaults within bounds")
    administrators: Administrators = Field(description="System, security and audit administrators")
    change: Change = Field(description="Who asks for this change, why, and who approved it")
    datasets: Datasets = Field(default_factory=Datasets, description="Datasets published to and consumed from the data pool")
    services: list[PublicService] = Field(default_factory=list, description="Public services behind the internet gateway")


def tenant_id(region: str, slug: str) -> str:
    return f"t-{region}-{slug}"
