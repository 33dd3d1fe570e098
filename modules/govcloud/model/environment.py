"""The loaded, validated, merged environment: what every later stage reads.

Nothing downstream (stacks, playbooks, render, check, review, diff) re-reads inventory YAML;
they all take an ``Environment``. Lookups are built once here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Literal

from . import codes
from .platform import Baseline, Cluster, Flow, Host, LevelProfile, LimitTemplate, Platform, QuotaSet, Region, Zone
from .tenant import PublishedDataset, TenantRequest
from .waivers import Waiver

RESOURCE_KINDS = ("cpu", "memory", "storage", "pods")


@dataclass(frozen=True)
class Tenant:
    """A department's environment: its request merged with the template of its level."""

    id: str
    file: str
    request: TenantRequest
    namespaces: tuple[str, ...]
    quotas: QuotaSet
    limits: LimitTemplate
    baseline: Baseline

    @property
    def level(self) -> int:
        return self.request.mlps_level

    @property
    def zone(self) -> str:
        return self.request.zone

    @property
    def cluster(self) -> str:
        return self.request.cluster

    @property
    def region(self) -> str:
        return self.request.region

    @property
    def department(self) -> str:
        return self.request.department.name

    def quota_amount(self, kind: str) -> Decimal:
        return codes.parse_quantity(getattr(self.quotas, kind))


@dataclass(frozen=True)
class Stack:
    """One Pulumi stack the model implies, named ``<env>.<project-local name>``."""

    name: str
    kind: Literal["foundation", "tenant"]
    cluster: str
    tenant: str | None = None

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]


def foundation_stack_name(env: str, cluster: str) -> str:
    return f"{env}.cluster-{cluster}"


def tenant_stack_name(env: str, tenant: str) -> str:
    return f"{env}.{tenant}"


@dataclass(frozen=True)
class Environment:
    name: str
    root: Path
    platform: Platform
    tenants: tuple[Tenant, ...]
    waivers: tuple[Waiver, ...] = ()
    # sha256 of every input file, relative to ``root``: the evidence of what was loaded.
    sources: dict[str, str] = field(default_factory=dict)

    # -- lookups -------------------------------------------------------------------------
    @cached_property
    def _zones(self) -> dict[str, Zone]:
        return {z.id: z for z in self.platform.zones}

    @cached_property
    def _clusters(self) -> dict[str, Cluster]:
        return {c.id: c for c in self.platform.clusters}

    @cached_property
    def _hosts(self) -> dict[str, Host]:
        return {h.name: h for h in self.platform.hosts}

    @cached_property
    def _regions(self) -> dict[str, Region]:
        return {r.code: r for r in self.platform.regions}

    @cached_property
    def _levels(self) -> dict[int, LevelProfile]:
        return {p.level: p for p in self.platform.levels}

    @cached_property
    def _tenants(self) -> dict[str, Tenant]:
        return {t.id: t for t in self.tenants}

    @cached_property
    def _datasets(self) -> dict[str, tuple[Tenant, PublishedDataset]]:
        return {f"{t.id}/{d.name}": (t, d) for t in self.tenants for d in t.request.datasets.publishes}

    def zone(self, zone_id: str) -> Zone:
        return self._zones[zone_id]

    def cluster(self, cluster_id: str) -> Cluster:
        return self._clusters[cluster_id]

    def host(self, name: str) -> Host:
        return self._hosts[name]

    def region(self, code: str) -> Region:
        return self._regions[code]

    def level(self, level: int) -> LevelProfile:
        return self._levels[level]

    def tenant(self, tenant_id: str) -> Tenant:
        return self._tenants[tenant_id]

    def dataset(self, ref: str) -> tuple[Tenant, PublishedDataset]:
        """The publishing tenant and the dataset for ``<tenant-id>/<name>``."""
        return self._datasets[ref]

    def consumers(self, ref: str) -> list[tuple[Tenant, str | None]]:
        """Tenants consuming a dataset, with their approval reference."""
        return [
            (t, c.approval)
            for t in self.tenants
            for c in t.request.datasets.consumes
            if c.dataset == ref
        ]

    def flows_from(self, zone_id: str) -> list[Flow]:
        return [f for f in self.platform.flows if f.source == zone_id]

    def flows_to(self, zone_id: str) -> list[Flow]:
        return [f for f in self.platform.flows if f.destination == zone_id]

    def zones_of_kind(self, kind: str) -> list[Zone]:
        return [z for z in self.platform.zones if z.kind == kind]

    def hosts_in(self, zone_id: str) -> list[Host]:
        return [h for h in self.platform.hosts if h.zone == zone_id]

    def tenants_on(self, cluster_id: str) -> list[Tenant]:
        return [t for t in self.tenants if t.cluster == cluster_id]

    def host_level(self, host: Host) -> int:
        """Hosts are hardened to the highest level their zone admits."""
        return self.zone(host.zone).max_level

    # -- stacks --------------------------------------------------------------------------
    @cached_property
    def stacks(self) -> tuple[Stack, ...]:
        """Foundation stacks (one per cluster) first, then tenant stacks, each sorted."""
        foundations = [
            Stack(foundation_stack_name(self.name, c.id), "foundation", c.id)
            for c in sorted(self.platform.clusters, key=lambda c: c.id)
        ]
        tenants = [Stack(tenant_stack_name(self.name, t.id), "tenant", t.cluster, t.id) for t in self.tenants]
        return tuple(foundations + tenants)

    @cached_property
    def _stacks(self) -> dict[str, Stack]:
        return {s.name: s for s in self.stacks}

    def stack(self, name: str) -> Stack:
        return self._stacks[name]

    # -- capacity ------------------------------------------------------------------------
    def capacity_used(self, cluster_id: str) -> dict[str, Decimal]:
        used = {kind: Decimal(0) for kind in RESOURCE_KINDS}
        for tenant in self.tenants_on(cluster_id):
            for kind in RESOURCE_KINDS:
                used[kind] += tenant.quota_amount(kind)
        return used

    def capacity_limit(self, cluster_id: str) -> dict[str, Decimal]:
        """Allocatable x overcommit for cpu and memory; storage and pods are not overcommitted."""
        cluster = self.cluster(cluster_id)
        ratio = Decimal(str(cluster.overcommit))
        cap = cluster.capacity
        return {
            "cpu": codes.parse_quantity(cap.cpu) * ratio,
            "memory": codes.parse_quantity(cap.memory) * ratio,
            "storage": codes.parse_quantity(cap.storage),
            "pods": Decimal(cap.pods),
        }
