"""The department request: ``inventories/<env>/tenants/<tenant-id>.yaml`` (the tenant factory).

A request states what a department wants; ``merge`` in ``environment.py`` combines it with the
template of its MLPS level into the effective ``Tenant`` that every later stage reads.
"""

from __future__ import annotations

from pydantic import Field

from .platform import Person
from .types import Account, Date, DnsLabel, Hostname, MlpsLevel, Port, Quantity, RegionCode, Sensitivity, ServicePath, SharingClass, Strict, Text, Uscc

DATASET_REF_PATTERN = r"^t-[0-9]{6}-[a-z]([-a-z0-9]*[a-z0-9])?/[a-z]([-a-z0-9]*[a-z0-9])?$"


class Department(Strict):
    slug: DnsLabel = Field(max_length=40, description="Short English name; the tenant id is t-<region>-<slug>")
    name: Text = Field(description="Official name, e.g. 长沙市卫生健康委员会")
    uscc: Uscc = Field(description="Unified social credit code (GB 32100-2015), 18 characters")


class Administrators(Strict):
    """Separation of duties (GB/T 22239-2019 8.1.4.2): three different people."""

    system: Person = Field(description="System administrator (系统管理员)")
    security: Person = Field(description="Security administrator (安全管理员)")
    audit: Person = Field(description="Audit administrator (审计管理员): read-only")


class Approval(Strict):
    by: Account = Field(description="Account of the approver (a security team member for the security review)")
    role: Text = Field(description="What was approved, e.g. 安全审查")
    date: Date = Field(description="When, YYYY-MM-DD")
    reference: Text = Field(description="The approval's reference number, e.g. HNSJ-AQ-2026-031; carried onto the namespace")


class Change(Strict):
    """Change management, as AWS Account Factory asks for every request."""

    requested_by: Account = Field(description="Account of the person asking for the change")
    reason: Text = Field(description="Why the department needs it, one line, e.g. the project and its document number")
    review_by: Date = Field(description="Date by which the request must be reviewed again")
    approvals: list[Approval] = Field(default_factory=list, description="Approvals given; MLPS level 3 and above need the security review (GOV-MGT-005)")


class PublishedDataset(Strict):
    name: DnsLabel = Field(description="Dataset name, e.g. health-records; others consume <tenant-id>/<name>")
    description: Text = Field(description="What the dataset holds")
    sharing: SharingClass = Field(description="Sharing class: unconditional, conditional (an approval per consumer) or not-shared")
    sensitivity: Sensitivity = Field(description="general, important or core (core never reaches the internet zone)")


class ConsumedDataset(Strict):
    dataset: str = Field(pattern=DATASET_REF_PATTERN, description="<tenant-id>/<dataset-name> of a published dataset")
    purpose: Text = Field(description="Why the department reads it")
    approval: Text | None = Field(None, description="Approval reference; required for conditional datasets")


class Datasets(Strict):
    publishes: list[PublishedDataset] = Field(default_factory=list, description="Datasets this department publishes to the data pool")
    consumes: list[ConsumedDataset] = Field(default_factory=list, description="Datasets of other departments this department reads")


class PublicService(Strict):
    """A service published through the shared internet-zone gateway."""

    name: DnsLabel = Field(max_length=30, description="Service name, e.g. appointments; names the route")
    host: Hostname = Field(description="Host name under .gov.cn, e.g. yuyue.wjw.changsha.gov.cn")
    path: ServicePath = Field("/", description="URL path prefix the service is published under (no dot segments, no //)")
    port: Port = Field(description="Backend port of the service inside the tenant's namespace")


class QuotaOverride(Strict):
    cpu: Quantity | None = Field(None, description="CPU quota, e.g. 16, within the level's maximum")
    memory: Quantity | None = Field(None, description="Memory quota, e.g. 32Gi, within the level's maximum")
    storage: Quantity | None = Field(None, description="Storage quota, e.g. 200Gi, within the level's maximum")
    pods: int | None = Field(None, gt=0, strict=True, description="Pod count quota, within the level's maximum")


class ContainerResourcesOverride(Strict):
    cpu: Quantity | None = Field(None, description="CPU, e.g. 500m")
    memory: Quantity | None = Field(None, description="Memory, e.g. 512Mi")


class LimitOverride(Strict):
    default_request: ContainerResourcesOverride | None = Field(None, description="Container requests when a container sets none")
    default_limit: ContainerResourcesOverride | None = Field(None, description="Container limits when a container sets none")


class TenantRequest(Strict):
    department: Department = Field(description="The department asking for the tenant")
    region: RegionCode = Field(description="GB/T 2260 code of the region the department belongs to")
    mlps_level: MlpsLevel = Field(description="MLPS 2.0 protection level (1-4); the zone must admit it")
    cluster: DnsLabel = Field(description="Id of the shared cluster in platform.yaml")
    zone: DnsLabel = Field(description="Zone id; must be the cluster's zone")
    namespaces: list[DnsLabel] = Field(
        default_factory=lambda: ["app"],
        min_length=1,
        description="Namespace suffixes; each namespace is <tenant-id>-<suffix>",
        json_schema_extra={"uniqueItems": True},
    )
    quotas: QuotaOverride = Field(default_factory=QuotaOverride, description="Overrides within the level's bounds")
    limits: LimitOverride = Field(default_factory=LimitOverride, description="Container defaults within bounds")
    administrators: Administrators = Field(description="System, security and audit administrators")
    change: Change = Field(description="Who asks for this change, why, and who approved it")
    datasets: Datasets = Field(default_factory=Datasets, description="Datasets published to and consumed from the data pool")
    services: list[PublicService] = Field(default_factory=list, description="Public services behind the internet gateway")


def tenant_id(region: str, slug: str) -> str:
    return f"t-{region}-{slug}"
