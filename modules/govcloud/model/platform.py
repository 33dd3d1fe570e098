"""The platform document: ``inventories/<env>/platform.yaml``.

Only shapes live here; rules that relate one part of the document to another are in
``rules.py`` so that every rule reports the exact field it is about.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import Field

from .types import (
    Account,
    DnsLabel,
    HostRole,
    KubernetesVersion,
    MlpsLevel,
    PodSecurityLevel,
    Port,
    Quantity,
    RegionCode,
    Registry,
    Strict,
    Text,
    ZoneKind,
)
from .waivers import RULE_ID_PATTERN


class Region(Strict):
    """An administrative division; its big data bureau operates the platform there."""

    code: RegionCode = Field(description="GB/T 2260 six-digit code, e.g. 430100")
    name: Text = Field(description="Official name, e.g. 长沙市")
    parent: RegionCode | None = Field(None, description="Code of the enclosing region; none for the province")
    bureau: Text | None = Field(None, description="The big data bureau operating the platform in this region")


class Zone(Strict):
    """A network security zone with its own address plan (GB/T 22239-2019 8.1.2)."""

    id: DnsLabel
    kind: ZoneKind
    cidr: IPv4Network = Field(description="Address plan of the zone; zones must not overlap")
    max_level: MlpsLevel = Field(description="Highest MLPS level a tenant or host in this zone may have")
    description: Text | None = None


class Flow(Strict):
    """An allowed connection between zones. Everything not listed is denied."""

    source: DnsLabel = Field(alias="from", description="Zone id the connection starts in")
    destination: DnsLabel = Field(alias="to", description="Zone id the connection goes to")
    protocol: Literal["tcp", "udp", "icmp"]
    ports: list[Port] = Field(default_factory=list, description="Destination ports; empty only for icmp")
    purpose: Text
    gateway: DnsLabel | None = Field(None, description="Host name of the gateway the flow passes")

    @property
    def label(self) -> str:
        ports = ",".join(str(p) for p in self.ports) or "-"
        return f"{self.source}->{self.destination} {self.protocol}/{ports}"


class Capacity(Strict):
    cpu: Quantity
    memory: Quantity
    storage: Quantity
    pods: int = Field(gt=0, strict=True)


class Cluster(Strict):
    """A shared Kubernetes cluster in one zone; tenants get namespaces on it."""

    id: DnsLabel
    zone: DnsLabel
    region: RegionCode = Field(description="Region whose big data bureau operates the cluster")
    kubernetes_version: KubernetesVersion = Field(description="Minor version, e.g. '1.37'")
    kube_context: str = Field(pattern=r"^[A-Za-z0-9@._:/-]{1,200}$", description="kubeconfig context of the cluster")
    capacity: Capacity = Field(description="Allocatable capacity of the cluster's nodes")
    overcommit: float = Field(ge=1.0, le=4.0, description="Ratio applied to cpu and memory when checking quotas")
    registry: Registry = Field(description="The only image registry workloads may pull from")


class DataPool(Strict):
    """The shared data pool: one PostgreSQL service in the data zone."""

    id: DnsLabel
    zone: DnsLabel
    engine: Literal["postgresql"]
    version: int = Field(15, ge=13, le=17, strict=True)
    port: Port = 5432
    database: DnsLabel = "datapool"
    hosts: list[DnsLabel] = Field(min_length=1)


class HostOs(Strict):
    family: Literal["Debian", "RedHat"]
    distribution: Literal["debian", "ubuntu", "openeuler", "kylin", "rhel", "rocky"]
    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,20}$")


class Host(Strict):
    name: DnsLabel
    zone: DnsLabel
    role: HostRole
    address: IPv4Address
    os: HostOs
    cluster: DnsLabel | None = Field(None, description="Cluster id, for cluster nodes only")


class Person(Strict):
    account: Account
    name: Text


class PasswordPolicy(Strict):
    min_length: int = Field(ge=8, le=64, strict=True)
    min_classes: int = Field(ge=1, le=4, strict=True, description="Character classes required")
    max_age_days: int = Field(ge=1, le=365, strict=True)
    min_age_days: int = Field(ge=0, le=30, strict=True)
    warn_age_days: int = Field(ge=0, le=30, strict=True)
    history: int = Field(ge=0, le=24, strict=True, description="Previous passwords that may not be reused")


class LockoutPolicy(Strict):
    attempts: int = Field(ge=1, le=10, strict=True)
    unlock_seconds: int = Field(ge=60, le=86400, strict=True)


class Baseline(Strict):
    """Controls a host or tenant must meet for its MLPS level (GB/T 22239-2019 8.1.4)."""

    password: PasswordPolicy
    lockout: LockoutPolicy
    idle_timeout_seconds: int = Field(ge=60, le=3600, strict=True)
    ssh_max_auth_tries: int = Field(ge=1, le=6, strict=True)
    umask: str = Field(pattern=r"^0?[0-7]{3}$")
    log_retention_days: int = Field(ge=180, le=3650, strict=True, description="Cybersecurity Law art. 21: >= 180")
    remote_logging: bool = Field(description="Forward logs off the host to the management zone")
    integrity_checking: bool = Field(description="File integrity baseline (AIDE)")
    pod_security: PodSecurityLevel = Field(description="Pod Security Admission level for tenant namespaces")


class QuotaSet(Strict):
    cpu: Quantity
    memory: Quantity
    storage: Quantity
    pods: int = Field(gt=0, strict=True)


class ContainerResources(Strict):
    cpu: Quantity
    memory: Quantity


class QuotaTemplate(Strict):
    default: QuotaSet
    max: QuotaSet


class LimitTemplate(Strict):
    default_request: ContainerResources
    default_limit: ContainerResources
    max: ContainerResources


class TenantTemplate(Strict):
    """Defaults for tenant requests of one level, and the bounds a request may not exceed."""

    quotas: QuotaTemplate
    limits: LimitTemplate
    namespaces_max: int = Field(3, ge=1, le=20, strict=True)


class LevelProfile(Strict):
    level: MlpsLevel
    baseline: Baseline
    tenant_template: TenantTemplate


Enforcement = Literal["advisory", "mandatory", "disabled"]


class PolicySettings(Strict):
    security_team: list[Person] = Field(min_length=1, description="Who may approve waivers and sign reviews")
    waiver_max_days: int = Field(90, ge=1, le=365, strict=True)
    certificate_validity_days: int = Field(30, ge=1, le=365, strict=True)
    enforcement: dict[Annotated[str, Field(pattern=RULE_ID_PATTERN)], Enforcement] = Field(
        default_factory=dict,
        description="Per-environment enforcement of policy rules by rule id, overriding each rule's default",
    )


VerifierKey = Annotated[str, Field(pattern=r"^[^\s+]{1,200}\+[0-9a-f]{8}\+[A-Za-z0-9+/]{40,200}={0,2}$",
                                    description="A C2SP signed-note verifier key: <key name>+<8 hex digits key ID>+<base64 of "
                                                "signature type and public key>")]


class EvidenceWitness(Strict):
    """A bureau that cosigns ledger checkpoints after checking the ledger only grew (C2SP tlog-cosignature)."""

    id: DnsLabel
    name: Text = Field(description="The bureau, e.g. 长沙市大数据局 or 湖南省审计厅")
    region: RegionCode = Field(description="Region of the bureau")
    key: VerifierKey = Field(description="The witness's cosignature verifier key (Ed25519 type 0x04 or govcloud's SM2 type), "
                                         "as `govcloud ledger witness-key` prints it")


class WitnessedLedger(Strict):
    """A ledger whose checkpoints need cosignatures before auditors accept them."""

    origin: str = Field(pattern=r"^[^\s+]{1,200}$", description="The ledger's checkpoint origin (its log id), e.g. hunan.gov.cn/govcloud/lab/evidence")
    key: VerifierKey = Field(description="The ledger's own verifier key (signed-note Ed25519 type 0x01 or govcloud's SM2 type), "
                                         "as `govcloud ledger witness-key --log` prints it")
    witnesses: list[DnsLabel] = Field(min_length=1, description="Ids of the witnesses (evidence.witnesses) that cosign its checkpoints")
    quorum: int = Field(ge=1, strict=True, description="How many of them must cosign a checkpoint, e.g. 2 of 3")


class Evidence(Strict):
    """Who vouches for the evidence ledgers (the alliance of bureaus)."""

    witnesses: list[EvidenceWitness] = Field(default_factory=list)
    ledgers: list[WitnessedLedger] = Field(default_factory=list)


class Platform(Strict):
    """One province's unified government cloud."""

    name: Text
    regions: list[Region] = Field(min_length=1)
    zones: list[Zone] = Field(min_length=1)
    flows: list[Flow] = Field(default_factory=list)
    clusters: list[Cluster] = Field(default_factory=list)
    datapool: DataPool
    hosts: list[Host] = Field(default_factory=list)
    levels: list[LevelProfile] = Field(min_length=1)
    policy: PolicySettings
    evidence: Evidence = Field(default_factory=Evidence, description="Witnesses of the evidence ledgers and the quorum each ledger needs")
