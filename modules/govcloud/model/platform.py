"""The platform document: ``inventories/<env>/platform.yaml``.

Only shapes live here; rules that relate one part of the document to another are in
``rules.py`` so that every rule reports the exact field it is about.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from .types import (
    Account,
    CidrText,
    DnsLabel,
    HostRole,
    IPv4Text,
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

_PROVINCE_CODE: dict[str, Any] = {"anyOf": [{"type": "string", "pattern": "0000$"}, {"type": "integer", "multipleOf": 10000}]}


class Region(Strict):
    """An administrative division; its big data bureau operates the platform there."""

    # For editors, as the platform rules say: the province has no parent, every other region has one.
    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["code"], "properties": {"code": _PROVINCE_CODE}},
        "then": {"properties": {"parent": {"type": "null"}}},
        "else": {"required": ["parent"], "properties": {"parent": {"not": {"type": "null"}}}},
    })

    code: RegionCode = Field(description="GB/T 2260 six-digit code, e.g. 430100")
    name: Text = Field(description="Official name, e.g. 长沙市")
    parent: RegionCode | None = Field(None, description="Code of the enclosing region; none for the province")
    bureau: Text | None = Field(None, description="The big data bureau operating the platform in this region")


class Zone(Strict):
    """A network security zone with its own address plan (GB/T 22239-2019 8.1.2)."""

    id: DnsLabel = Field(description="Zone id, e.g. egov-extranet")
    kind: ZoneKind = Field(description="What kind of zone it is; rules on flows and tenants follow from it")
    cidr: CidrText = Field(description="Address plan of the zone; zones must not overlap")
    max_level: MlpsLevel = Field(description="Highest MLPS level a tenant or host in this zone may have")
    description: Text | None = Field(None, description="What the zone is for")

    @property
    def router_address(self) -> IPv4Address:
        """The zone router's address in the zone: the first host address of its plan."""
        return next(self.cidr.hosts())


class Flow(Strict):
    """An allowed connection between zones. Everything not listed is denied."""

    # For editors, as the platform rules say: icmp has no ports, tcp and udp need at least one.
    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["protocol"], "properties": {"protocol": {"const": "icmp"}}},
        "then": {"properties": {"ports": {"maxItems": 0}}},
        "else": {"required": ["ports"], "properties": {"ports": {"minItems": 1}}},
    })

    source: DnsLabel = Field(alias="from", description="Zone id the connection starts in")
    destination: DnsLabel = Field(alias="to", description="Zone id the connection goes to")
    protocol: Literal["tcp", "udp", "icmp"] = Field(description="tcp, udp or icmp")
    ports: list[Port] = Field(default_factory=list, description="Destination ports; empty only for icmp",
                              json_schema_extra={"uniqueItems": True})
    purpose: Text = Field(description="Why the flow exists, e.g. 日志汇聚")
    gateway: DnsLabel | None = Field(None, description="Host name of the gateway the flow passes")

    @property
    def label(self) -> str:
        ports = ",".join(str(p) for p in self.ports) or "-"
        return f"{self.source}->{self.destination} {self.protocol}/{ports}"


class Capacity(Strict):
    cpu: Quantity = Field(description="Allocatable cpu of the cluster's nodes")
    memory: Quantity = Field(description="Allocatable memory of the cluster's nodes")
    storage: Quantity = Field(description="Persistent storage available to the cluster")
    pods: int = Field(gt=0, strict=True, description="Pods the cluster's nodes can run")


class ClusterApi(Strict):
    """Where the cluster's API server listens: a management interface, so an address in a
    management zone (where deployments and administrators work from), never a host's."""

    address: IPv4Text = Field(description="API server address, in a management zone, unique, not a host's or the zone router's")
    port: Port = Field(6443, description="API server port (HTTPS)")


class Cluster(Strict):
    """A shared Kubernetes cluster in one zone; tenants get namespaces on it."""

    id: DnsLabel = Field(description="Cluster id, e.g. egov-1; tenant requests name it, its foundation stack is <env>.cluster-<id>")
    zone: DnsLabel = Field(description="Zone id the cluster's nodes live in (egov-extranet, internet or egov-intranet kind)")
    region: RegionCode = Field(description="Region whose big data bureau operates the cluster")
    kubernetes_version: KubernetesVersion = Field(description="Minor version, e.g. '1.37'")
    kube_context: str = Field(pattern=r"^[A-Za-z0-9@._:/-]{1,200}$", description="kubeconfig context of the cluster")
    api: ClusterApi = Field(description="The API server's endpoint")
    capacity: Capacity = Field(description="Allocatable capacity of the cluster's nodes")
    overcommit: float = Field(ge=1.0, le=4.0, strict=True, description="Ratio applied to cpu and memory when checking quotas")
    registry: Registry = Field(description="The only image registry workloads may pull from")


class DataPool(Strict):
    """The shared data pool: one PostgreSQL service in the data zone."""

    id: DnsLabel = Field(description="Data pool id, e.g. dp")
    zone: DnsLabel = Field(description="Zone id of the data pool (a data zone)")
    engine: Literal["postgresql"] = Field(description="Database engine")
    version: int = Field(15, ge=13, le=17, strict=True, description="PostgreSQL major version")
    port: Port = Field(5432, description="Port tenants connect to; zones need a flow to it")
    database: DnsLabel = Field("datapool", description="Database that holds one schema per published dataset")
    hosts: list[DnsLabel] = Field(min_length=1, description="Host names (role datapool, in the data pool's zone) that run it")


Distribution = Literal["debian", "ubuntu", "openeuler", "kylin", "rhel", "rocky"]
OsVersion = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,20}$")]


class HostOs(Strict):
    family: Literal["Debian", "RedHat"] = Field(description="Debian or RedHat (openEuler, Kylin)")
    distribution: Distribution = Field(description="The distribution")
    version: OsVersion = Field(description="Its version, e.g. 12")


class Host(Strict):
    """A host of the platform; cluster nodes name their cluster, other hosts belong to none."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["role"], "properties": {"role": {"const": "cluster-node"}}},
        "then": {"required": ["cluster"], "properties": {"cluster": {"type": "string"}}},
        "else": {"properties": {"cluster": {"type": "null"}}},
    })

    name: DnsLabel = Field(description="Host name, e.g. node-egov-1")
    zone: DnsLabel = Field(description="Zone id the host lives in")
    role: HostRole = Field(description="What the host does; its firewall rules follow from it")
    address: IPv4Text = Field(description="IPv4 address inside the zone's cidr")
    os: HostOs = Field(description="Operating system, which selects the playbooks' variables")
    cluster: DnsLabel | None = Field(None, description="Cluster id, for cluster nodes only")


class PackageSource(Strict):
    """An approved package mirror for one release of a distribution; hosts use these and no other."""

    distribution: Distribution = Field(description="The distribution the mirror serves")
    version: OsVersion = Field(description="The hosts' os.version it serves, e.g. '12'")
    uri: str = Field(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?$",
                     description="Base URI of the mirror (http or https; packages are signed either way)")
    suites: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9._/-]{1,64}$")]] = Field(
        min_length=1, description="Debian suites (bookworm, bookworm-updates, bookworm-security) or RPM repository paths")
    components: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]] = Field(
        default_factory=lambda: ["main"], description="Debian components (ignored for RPM repositories)")
    security: bool = Field(False, strict=True, description="Carries the distribution's security updates")


class Person(Strict):
    account: Account = Field(description="Account name, e.g. zhang-wei (lower case; also the operating-system and Kubernetes user name)")
    name: Text = Field(description="Full name, e.g. 张伟")


class PasswordPolicy(Strict):
    min_length: int = Field(ge=8, le=64, strict=True, description="Minimum password length")
    min_classes: int = Field(ge=1, le=4, strict=True, description="Character classes required")
    max_age_days: int = Field(ge=1, le=365, strict=True, description="Days before a password must be changed")
    min_age_days: int = Field(ge=0, le=30, strict=True, description="Days before a password may be changed again")
    warn_age_days: int = Field(ge=0, le=30, strict=True, description="Days of warning before a password expires")
    history: int = Field(ge=0, le=24, strict=True, description="Previous passwords that may not be reused")


class LockoutPolicy(Strict):
    attempts: int = Field(ge=1, le=10, strict=True, description="Failed logins before an account is locked")
    unlock_seconds: int = Field(ge=60, le=86400, strict=True, description="Seconds until a locked account unlocks")


class Baseline(Strict):
    """Controls a host or tenant must meet for its MLPS level (GB/T 22239-2019 8.1.4)."""

    password: PasswordPolicy = Field(description="Password rules for local accounts")
    lockout: LockoutPolicy = Field(description="Account lockout after failed logins")
    idle_timeout_seconds: int = Field(ge=60, le=3600, strict=True, description="Idle shell and SSH sessions end after this many seconds")
    ssh_max_auth_tries: int = Field(ge=1, le=6, strict=True, description="SSH MaxAuthTries")
    umask: str = Field(pattern=r"^0?[0-7]{3}$", description="Default file creation mask, e.g. 027 (077 at level 4)")
    log_retention_days: int = Field(ge=180, le=3650, strict=True, description="Cybersecurity Law art. 21: >= 180")
    remote_logging: bool = Field(strict=True, description="Forward logs off the host to the management zone")
    integrity_checking: bool = Field(strict=True, description="File integrity baseline (AIDE)")
    pod_security: PodSecurityLevel = Field(description="Pod Security Admission level for tenant namespaces")


class QuotaSet(Strict):
    cpu: Quantity = Field(description="CPU, e.g. 8")
    memory: Quantity = Field(description="Memory, e.g. 16Gi")
    storage: Quantity = Field(description="Persistent storage, e.g. 100Gi")
    pods: int = Field(gt=0, strict=True, description="Pods")


class ContainerResources(Strict):
    cpu: Quantity = Field(description="CPU, e.g. 500m")
    memory: Quantity = Field(description="Memory, e.g. 512Mi")


class QuotaTemplate(Strict):
    default: QuotaSet = Field(description="Quotas a tenant gets when its request sets none")
    max: QuotaSet = Field(description="The most a request may set")


class LimitTemplate(Strict):
    default_request: ContainerResources = Field(description="Container resource requests when a container sets none")
    default_limit: ContainerResources = Field(description="Container resource limits when a container sets none")
    max: ContainerResources = Field(description="The most a container may ask for")


class TenantTemplate(Strict):
    """Defaults for tenant requests of one level, and the bounds a request may not exceed."""

    quotas: QuotaTemplate = Field(description="Namespace quotas: defaults and maxima")
    limits: LimitTemplate = Field(description="Container defaults and maxima (LimitRange)")
    namespaces_max: int = Field(3, ge=1, le=20, strict=True, description="The most namespaces a tenant of this level may have")


class LevelProfile(Strict):
    level: MlpsLevel = Field(description="The MLPS level this profile is for (1-4)")
    baseline: Baseline = Field(description="Host controls at this level")
    tenant_template: TenantTemplate = Field(description="Quotas and limits a tenant of this level gets, and their bounds")


Enforcement = Literal["advisory", "mandatory", "disabled"]


class PolicySettings(Strict):
    security_team: list[Person] = Field(min_length=1, description="Who may approve waivers and sign reviews")
    waiver_max_days: int = Field(90, ge=1, le=365, strict=True, description="The longest a waiver may run, in days")
    certificate_validity_days: int = Field(30, ge=1, le=365, strict=True, description="How long a review certificate is valid, in days")
    enforcement: dict[Annotated[str, Field(pattern=RULE_ID_PATTERN)], Enforcement] = Field(
        default_factory=dict,
        description="Per-environment enforcement of policy rules by rule id, overriding each rule's default",
    )


VerifierKey = Annotated[str, Field(pattern=r"^[^\s+]{1,200}\+[0-9a-f]{8}\+[A-Za-z0-9+/]{40,200}={0,2}$",
                                    description="A C2SP signed-note verifier key: <key name>+<8 hex digits key ID>+<base64 of "
                                                "signature type and public key>")]


class EvidenceWitness(Strict):
    """A bureau that cosigns ledger checkpoints after checking the ledger only grew (C2SP tlog-cosignature)."""

    id: DnsLabel = Field(description="Witness id, e.g. changsha-audit; ledgers name it")
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

    witnesses: list[EvidenceWitness] = Field(default_factory=list, description="Bureaus that cosign ledger checkpoints")
    ledgers: list[WitnessedLedger] = Field(default_factory=list, description="Ledgers whose checkpoints need cosignatures, with their quorum")


class Platform(Strict):
    """One province's unified government cloud."""

    name: Text = Field(description="Name of the platform, shown on reports, e.g. 湖南省政务云")
    regions: list[Region] = Field(min_length=1, json_schema_extra={"contains": {"properties": {"code": _PROVINCE_CODE}},
                                                                   "minContains": 1, "maxContains": 1}, description="The province and the cities and counties whose bureaus operate the platform")
    zones: list[Zone] = Field(min_length=1, description="Network security zones; each tenant, cluster and host lives in one")
    flows: list[Flow] = Field(default_factory=list, description="The zone flow matrix: the only connections allowed between zones")
    clusters: list[Cluster] = Field(default_factory=list, description="Shared Kubernetes clusters; tenants get namespaces on them")
    datapool: DataPool = Field(description="The shared data pool datasets are published to and consumed from")
    hosts: list[Host] = Field(default_factory=list, description="Every host of the platform, hardened to its zone's level")
    package_sources: list[PackageSource] = Field(
        default_factory=list,
        description="Approved package mirrors; when given, hosts use only these, and each host's release needs a security source")
    levels: list[LevelProfile] = Field(min_length=1, description="One profile per MLPS level: the host baseline and the tenant template")
    policy: PolicySettings = Field(description="The security team, waiver and certificate limits, enforcement overrides")
    evidence: Evidence = Field(default_factory=Evidence, description="Witnesses of the evidence ledgers and the quorum each ledger needs")
