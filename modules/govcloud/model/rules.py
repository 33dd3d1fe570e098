"""Rules that relate one part of the inventory to another.

Each check reports the exact field it is about (``SourceDocument.problem`` turns a location
into file, line and field). Checks never stop at the first problem.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Iterable, Iterator

from ..text import plural
from . import codes
from .environment import RESOURCE_KINDS, Environment, Tenant
from .errors import Problem, field_path
from .partial import PlatformParts, complete
from .platform import ContainerResources, LimitTemplate, Platform, QuotaSet
from .source import SourceDocument
from .tenant import TenantRequest, tenant_id
from .types import TENANT_ZONE_KINDS
from .waivers import Waiver


def _duplicates(doc: SourceDocument, items: Iterable, key: str, section: tuple[str, ...], what: str) -> Iterator[Problem]:
    seen: dict[object, int] = {}
    for index, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            yield doc.problem(section + (index, key), f"duplicate {what} {value} (also {field_path(section)}[{seen[value]}])")
        else:
            seen[value] = index


# ---------------------------------------------------------------------------------------
# platform.yaml
# ---------------------------------------------------------------------------------------
def check_platform(doc: SourceDocument, platform: Platform) -> list[Problem]:
    problems: list[Problem] = []
    add = problems.append
    problems += _duplicates(doc, platform.regions, "code", ("regions",), "region")
    problems += _duplicates(doc, platform.zones, "id", ("zones",), "zone")
    problems += _duplicates(doc, platform.clusters, "id", ("clusters",), "cluster")
    problems += _duplicates(doc, platform.hosts, "name", ("hosts",), "host")
    problems += _duplicates(doc, platform.hosts, "address", ("hosts",), "address")
    problems += _duplicates(doc, platform.levels, "level", ("levels",), "level profile")
    problems += _duplicates(doc, platform.policy.security_team, "account", ("policy", "security_team"), "account")

    regions = {r.code: r for r in platform.regions}
    provinces = [r for r in platform.regions if codes.region_level(r.code) == "province"]
    if len(provinces) != 1:
        add(doc.problem(("regions",), f"exactly one province is required, found {len(provinces)}"))
    for i, region in enumerate(platform.regions):
        if region.parent is not None and region.parent not in regions:
            add(doc.problem(("regions", i, "parent"), f"parent region {region.parent} is not defined"))
            continue
        message = codes.region_parent_problem(region.code, region.parent)
        if message:
            add(doc.problem(("regions", i, "parent" if region.parent else "code"), message))

    zones = {z.id: z for z in platform.zones}
    for i, z in enumerate(platform.zones):
        for j in range(i):
            other = platform.zones[j]
            if z.cidr.overlaps(other.cidr):
                add(doc.problem(("zones", i, "cidr"), f"{z.cidr} overlaps zone {other.id} ({other.cidr})"))

    hosts = {h.name: h for h in platform.hosts}
    seen_flows: dict[tuple, int] = {}
    for i, flow in enumerate(platform.flows):
        loc = ("flows", i)
        ends = []
        for attr, alias in (("source", "from"), ("destination", "to")):
            zone_id = getattr(flow, attr)
            if zone_id not in zones:
                add(doc.problem(loc + (alias,), f"zone {zone_id} is not defined"))
            else:
                ends.append(zones[zone_id].kind)
        if flow.source == flow.destination:
            add(doc.problem(loc + ("to",), "a flow must connect two different zones"))
        if sorted(ends) == ["egov-intranet", "internet"]:
            add(doc.problem(loc, "the e-government intranet may have no flow to or from the internet zone"))
        if flow.protocol == "icmp" and flow.ports:
            add(doc.problem(loc + ("ports",), "icmp flows have no ports"))
        if flow.protocol != "icmp" and not flow.ports:
            add(doc.problem(loc + ("ports",), f"{flow.protocol} flows need at least one port"))
        if len(set(flow.ports)) != len(flow.ports):
            add(doc.problem(loc + ("ports",), "ports are listed twice"))
        if flow.gateway is not None:
            gateway = hosts.get(flow.gateway)
            if gateway is None:
                add(doc.problem(loc + ("gateway",), f"host {flow.gateway} is not defined"))
            elif gateway.role != "gateway":
                add(doc.problem(loc + ("gateway",), f"host {flow.gateway} has role {gateway.role}, not gateway"))
        for port in flow.ports or [None]:  # type: ignore[list-item]  # a flow without ports counts once  # type: ignore[list-item]  # a flow without ports counts once
            key = (flow.source, flow.destination, flow.protocol, port)
            if key in seen_flows:
                add(doc.problem(loc, f"flow {flow.label} repeats flows[{seen_flows[key]}]"))
                break
            seen_flows[key] = i

    for i, cluster in enumerate(platform.clusters):
        loc = ("clusters", i)
        zone = zones.get(cluster.zone)
        if zone is None:
            add(doc.problem(loc + ("zone",), f"zone {cluster.zone} is not defined"))
        elif zone.kind not in TENANT_ZONE_KINDS:
            add(doc.problem(loc + ("zone",), f"clusters for tenants live in {', '.join(TENANT_ZONE_KINDS)} zones, not {zone.kind}"))
        if cluster.region not in regions:
            add(doc.problem(loc + ("region",), f"region {cluster.region} is not defined"))
        problems += _api_problems(doc, loc + ("api", "address"), cluster.api.address, platform)
    api_owner: dict = {}
    for i, cluster in enumerate(platform.clusters):
        owner = api_owner.setdefault(cluster.api.address, cluster.id)
        if owner != cluster.id:
            add(doc.problem(("clusters", i, "api", "address"), f"duplicate API address {cluster.api.address} (also cluster {owner})"))

    pool = platform.datapool
    pool_zone = zones.get(pool.zone)
    if pool_zone is None:
        add(doc.problem(("datapool", "zone"), f"zone {pool.zone} is not defined"))
    elif pool_zone.kind != "data":
        add(doc.problem(("datapool", "zone"), f"the data pool lives in a data zone, not {pool_zone.kind}"))
    for i, name in enumerate(pool.hosts):
        host = hosts.get(name)
        if host is None:
            add(doc.problem(("datapool", "hosts", i), f"host {name} is not defined"))
        elif host.role != "datapool" or host.zone != pool.zone:
            add(doc.problem(("datapool", "hosts", i), f"host {name} must have role datapool in zone {pool.zone}"))

    clusters = {c.id: c for c in platform.clusters}
    for i, host in enumerate(platform.hosts):
        loc = ("hosts", i)
        zone = zones.get(host.zone)
        if zone is None:
            add(doc.problem(loc + ("zone",), f"zone {host.zone} is not defined"))
        elif host.address not in zone.cidr or host.address in (zone.cidr.network_address, zone.cidr.broadcast_address):
            add(doc.problem(loc + ("address",), f"{host.address} is not a host address of zone {zone.id} ({zone.cidr})"))
        if host.role == "cluster-node":
            if host.cluster is None:
                add(doc.problem(loc + ("cluster",), "cluster nodes must name their cluster"))
            elif host.cluster not in clusters:
                add(doc.problem(loc + ("cluster",), f"cluster {host.cluster} is not defined"))
            elif clusters[host.cluster].zone != host.zone:
                add(doc.problem(loc + ("zone",), f"cluster {host.cluster} is in zone {clusters[host.cluster].zone}"))
        elif host.cluster is not None:
            add(doc.problem(loc + ("cluster",), "only cluster nodes belong to a cluster"))
    if platform.hosts and not any(h.role == "log-collector" and zones.get(h.zone) and zones[h.zone].kind == "management" for h in platform.hosts):
        add(doc.problem(("hosts",), "a log-collector host in a management zone is required (logs are forwarded off every host)"))

    if platform.package_sources:
        releases = {(s.distribution, s.version) for s in platform.package_sources}
        secured = {(s.distribution, s.version) for s in platform.package_sources if s.security}
        for i, host in enumerate(platform.hosts):
            release = (host.os.distribution, host.os.version)
            if release not in releases:
                add(doc.problem(("hosts", i, "os"), f"no package source for {release[0]} {release[1]} (package_sources)"))
            elif release not in secured:
                add(doc.problem(("hosts", i, "os"), f"no package source with security updates for {release[0]} {release[1]}"))

    levels = {p.level for p in platform.levels}
    for i, zone in enumerate(platform.zones):
        for level in range(1, zone.max_level + 1):
            if level not in levels:
                add(doc.problem(("zones", i, "max_level"), f"no level profile for MLPS level {level}"))
    for i, profile in enumerate(platform.levels):
        problems += _template_problems(doc, ("levels", i, "tenant_template"), profile.tenant_template.quotas.default,
                                       profile.tenant_template.quotas.max, profile.tenant_template.limits)
    problems += _evidence_problems(doc, platform, regions)
    return problems


def _evidence_problems(doc: SourceDocument, platform: Platform, regions) -> list[Problem]:
    from .. import note

    evidence = platform.evidence
    problems = list(_duplicates(doc, evidence.witnesses, "id", ("evidence", "witnesses"), "witness"))
    problems += _duplicates(doc, evidence.ledgers, "origin", ("evidence", "ledgers"), "ledger origin")
    names: dict[str, int] = {}
    for i, witness in enumerate(evidence.witnesses):
        loc = ("evidence", "witnesses", i)
        if witness.region not in regions:
            problems.append(doc.problem(loc + ("region",), f"region {witness.region} is not defined"))
        try:
            key = note.parse_vkey(witness.key, cosigner=True)
        except note.NoteError as problem:
            problems.append(doc.problem(loc + ("key",), str(problem)))
            continue
        if key.name in names:
            problems.append(doc.problem(loc + ("key",), f"key name {key.name} is also the key of evidence.witnesses[{names[key.name]}]"))
        names[key.name] = i
    known = {w.id for w in evidence.witnesses}
    for i, ledger in enumerate(evidence.ledgers):
        loc = ("evidence", "ledgers", i)
        try:
            key = note.parse_vkey(ledger.key, cosigner=False)
        except note.NoteError as problem:
            problems.append(doc.problem(loc + ("key",), str(problem)))
        else:
            if key.name != ledger.origin:
                problems.append(doc.problem(loc + ("key",), f"the key is named {key.name}, not the ledger's origin {ledger.origin}"))
        for j, witness_id in enumerate(ledger.witnesses):
            if witness_id not in known:
                problems.append(doc.problem(loc + ("witnesses", j), f"witness {witness_id} is not defined in evidence.witnesses"))
            elif witness in ledger.witnesses[:j]:
                problems.append(doc.problem(loc + ("witnesses", j), f"witness {witness} is listed twice"))
        if ledger.quorum > len(set(ledger.witnesses)):
            problems.append(doc.problem(loc + ("quorum",), f"a quorum of {ledger.quorum} cannot be met by {plural(len(set(ledger.witnesses)), 'witness', 'witnesses')}"))
    return problems


def _api_problems(doc: SourceDocument, loc: tuple, address, platform: Platform) -> Iterator[Problem]:
    """A cluster's API endpoint is a management interface: a host address of a management
    zone, neither a host's nor the zone router's."""
    zone = next((z for z in platform.zones if address in z.cidr), None)
    if zone is None or zone.kind != "management":
        where = f"zone {zone.id} ({zone.kind})" if zone else "no zone"
        yield doc.problem(loc, f"{address} must be in a management zone, not in {where}: the API server is a management interface")
    elif address in (zone.cidr.network_address, zone.cidr.broadcast_address):
        yield doc.problem(loc, f"{address} is not a host address of zone {zone.id} ({zone.cidr})")
    elif address == zone.router_address:
        yield doc.problem(loc, f"{address} is the zone router's address in zone {zone.id}")
    else:
        host = next((h for h in platform.hosts if h.address == address), None)
        if host is not None:
            yield doc.problem(loc, f"{address} is the address of host {host.name}")


def _exceeds(value: str, bound: str) -> bool:
    return codes.parse_quantity(value) > codes.parse_quantity(bound)


def _template_problems(doc, loc, default: QuotaSet, maximum: QuotaSet, limits: LimitTemplate) -> Iterator[Problem]:
    for kind in RESOURCE_KINDS:
        if _exceeds(str(getattr(default, kind)), str(getattr(maximum, kind))):
            yield doc.problem(loc + ("quotas", "default", kind), f"default {kind} is above the template's max")
    for kind in ("cpu", "memory"):
        if _exceeds(getattr(limits.default_request, kind), getattr(limits.default_limit, kind)):
            yield doc.problem(loc + ("limits", "default_request", kind), "default request is above the default limit")
        if _exceeds(getattr(limits.default_limit, kind), getattr(limits.max, kind)):
            yield doc.problem(loc + ("limits", "default_limit", kind), "default limit is above max")


# ---------------------------------------------------------------------------------------
# tenants/*.yaml: merge with the level template, then relate to the platform and each other
# ---------------------------------------------------------------------------------------
def known_regions_hint(code: str, regions: Iterable) -> str:
    """The regions a user may have meant: those under the same city or province first."""
    regions = sorted(regions, key=lambda r: r.code)
    for width in (4, 2, 0):
        near = [r for r in regions if r.code[:width] == code[:width]]
        if near:
            break
    shown = ", ".join(f"{r.code} {r.name}" for r in near[:12])
    more = len(near) - 12
    scope = {4: f"under {code[:4]}00", 2: f"under {code[:2]}0000", 0: "defined"}[width] if regions else "defined"
    return f"regions {scope}: {shown}" + (f" and {more} more (`govcloud platform show`)" if more > 0 else "") if near else "no regions are defined"


def merge_tenant(doc: SourceDocument, request: TenantRequest, platform: Platform | PlatformParts, file_stem: str | None) -> tuple[Tenant | None, list[Problem]]:
    """The request merged with its level's template, and every problem of the request against
    the platform; with a platform that did not fully validate (``PlatformParts``), checks that
    need a broken part are skipped rather than reported as follow-on errors."""
    parts = platform if isinstance(platform, PlatformParts) else complete(platform)
    platform = parts.platform
    problems: list[Problem] = []
    add = problems.append
    tid = tenant_id(request.region, request.department.slug)
    if len(tid) > codes.DNS_LABEL_MAX:
        add(doc.problem(("department", "slug"), f"tenant id {tid} is longer than {codes.DNS_LABEL_MAX} characters"))
    if file_stem is not None and file_stem != tid:  # None: a draft, kept under any name
        add(doc.problem((), f"file must be named {tid}.yaml (t-<region>-<department slug>), not {file_stem}.yaml"))

    regions = {r.code for r in platform.regions}
    zones = {z.id: z for z in platform.zones}
    clusters = {c.id: c for c in platform.clusters}
    levels = {p.level: p for p in platform.levels}
    if request.region not in regions and not parts.unsure("regions", request.region):
        add(doc.problem(("region",), f"region {request.region} is not defined in platform.yaml; {known_regions_hint(request.region, platform.regions)}"))
    cluster = clusters.get(request.cluster)
    if cluster is None and not parts.unsure("clusters", request.cluster):
        add(doc.problem(("cluster",), f"cluster {request.cluster} is not defined; clusters: {', '.join(sorted(clusters)) or 'none'}"))
    zone = zones.get(request.zone)
    if zone is None and not parts.unsure("zones", request.zone):
        add(doc.problem(("zone",), f"zone {request.zone} is not defined; zones: {', '.join(sorted(zones)) or 'none'}"))
    elif zone is not None:
        if cluster is not None and cluster.zone != zone.id:
            add(doc.problem(("zone",), f"cluster {cluster.id} is in zone {cluster.zone}, not {zone.id}"))
        if request.mlps_level > zone.max_level:
            add(doc.problem(("mlps_level",), f"zone {zone.id} admits MLPS level {zone.max_level} at most, not {request.mlps_level}"))
        if zone.kind == "egov-intranet" and request.services:
            add(doc.problem(("services",), "egov-intranet tenants cannot expose public services"))

    admins = request.administrators
    accounts = [admins.system.account, admins.security.account, admins.audit.account]
    for role, account in zip(("system", "security", "audit"), accounts, strict=True):
        if accounts.count(account) > 1:
            add(doc.problem(("administrators", role, "account"),
                            f"{account} holds more than one administrator role; system, security and audit must be three different people"))

    for section, items, key in (
        ("namespaces", [(n,) for n in request.namespaces], 0),
        (("datasets", "publishes"), [(d.name,) for d in request.datasets.publishes], 0),
        ("services", [(s.name,) for s in request.services], 0),
    ):
        seen: set = set()
        base = section if isinstance(section, tuple) else (section,)
        for index, item in enumerate(items):
            if item[key] in seen:
                add(doc.problem(base + (index,), f"{item[key]} is listed twice"))
            seen.add(item[key])
    namespaces = tuple(f"{tid}-{suffix}" for suffix in request.namespaces)
    for index, name in enumerate(namespaces):
        if len(name) > codes.DNS_LABEL_MAX:
            add(doc.problem(("namespaces", index), f"namespace {name} is longer than {codes.DNS_LABEL_MAX} characters"))

    profile = levels.get(request.mlps_level)
    if profile is None:
        if not parts.unsure("levels", request.mlps_level):
            add(doc.problem(("mlps_level",), f"no level profile for MLPS level {request.mlps_level}"))
        return None, problems
    template = profile.tenant_template
    if len(request.namespaces) > template.namespaces_max:
        add(doc.problem(("namespaces",), f"level {request.mlps_level} allows {template.namespaces_max} namespaces, not {len(request.namespaces)}"))

    quota_values = {}
    for kind in RESOURCE_KINDS:
        value = getattr(request.quotas, kind)
        if value is None:
            value = getattr(template.quotas.default, kind)
        elif _exceeds(str(value), str(getattr(template.quotas.max, kind))):
            add(doc.problem(("quotas", kind), f"{kind} {value} exceeds the level-{request.mlps_level} maximum {getattr(template.quotas.max, kind)}"))
        quota_values[kind] = value
    quotas = QuotaSet(**quota_values)

    merged: dict[str, dict[str, str]] = {}
    for part in ("default_request", "default_limit"):
        override = getattr(request.limits, part)
        merged[part] = {}
        for kind in ("cpu", "memory"):
            value = getattr(override, kind) if override is not None else None
            merged[part][kind] = value if value is not None else getattr(getattr(template.limits, part), kind)
            if _exceeds(merged[part][kind], getattr(template.limits.max, kind)):
                add(doc.problem(("limits", part, kind), f"{kind} {merged[part][kind]} exceeds the level-{request.mlps_level} maximum {getattr(template.limits.max, kind)}"))
    for kind in ("cpu", "memory"):
        if _exceeds(merged["default_request"][kind], merged["default_limit"][kind]):
            add(doc.problem(("limits", "default_request", kind), f"default request {merged['default_request'][kind]} is above the default limit {merged['default_limit'][kind]}"))
    limits = LimitTemplate(
        default_request=ContainerResources(**merged["default_request"]),
        default_limit=ContainerResources(**merged["default_limit"]),
        max=template.limits.max,
    )
    tenant = Tenant(
        id=tid,
        file=doc.path,
        request=request,
        namespaces=namespaces,
        quotas=quotas,
        limits=limits,
        baseline=profile.baseline,
    )
    return tenant, problems


def check_tenants(env: Environment, docs: dict[str, SourceDocument], parts: PlatformParts | None = None,
                  broken_tenants: Iterable[str] = ()) -> list[Problem]:
    """Cross-file rules over merged tenants; ``docs`` maps tenant id to its source. With a
    platform that did not fully validate (``parts``) or requests that did not load
    (``broken_tenants``, by id), the checks that depend on them are skipped."""
    parts = parts or complete(env.platform)
    broken_tenants = set(broken_tenants)
    problems: list[Problem] = []
    add = problems.append
    zones = {z.id: z for z in env.platform.zones}
    pool_known = parts.usable("datapool", "flows")
    namespace_owner: dict[str, str] = {}
    service_owner: dict[tuple[str, str], str] = {}
    for tenant in env.tenants:
        doc = docs[tenant.id]
        for index, ns in enumerate(tenant.namespaces):
            owner = namespace_owner.setdefault(ns, tenant.id)
            if owner != tenant.id:
                add(doc.problem(("namespaces", index), f"namespace {ns} is already used by tenant {owner}"))
        for index, service in enumerate(tenant.request.services):
            key = (service.host, service.path)
            owner = service_owner.setdefault(key, tenant.id)
            if owner != tenant.id:
                add(doc.problem(("services", index, "host"), f"{service.host}{service.path} is already published by {owner}"))
        tenant_zone = zones.get(tenant.zone)
        datasets = tenant.request.datasets
        if pool_known and tenant_zone is not None and (datasets.publishes or datasets.consumes) and not any(
            f.source == tenant.zone and f.destination == env.platform.datapool.zone and env.platform.datapool.port in f.ports
            for f in env.platform.flows
        ):
            add(doc.problem(("datasets",), f"zone {tenant.zone} has no flow to the data pool "
                            f"({env.platform.datapool.zone}, tcp/{env.platform.datapool.port}); it cannot publish or consume datasets"))
        for index, consumed in enumerate(tenant.request.datasets.consumes):
            loc = ("datasets", "consumes", index)
            try:
                publisher, dataset = env.dataset(consumed.dataset)
            except KeyError:
                if consumed.dataset.split("/", 1)[0] not in broken_tenants:  # else: its publisher's request did not load
                    add(doc.problem(loc + ("dataset",), f"dataset {consumed.dataset} is not published by any tenant"))
                continue
            if publisher.id == tenant.id:
                add(doc.problem(loc + ("dataset",), "a tenant does not consume its own dataset"))
            if dataset.sharing == "not-shared":
                add(doc.problem(loc + ("dataset",), f"dataset {consumed.dataset} is not-shared and cannot be consumed"))
            if dataset.sharing == "conditional" and not consumed.approval:
                add(doc.problem(loc + ("approval",), f"dataset {consumed.dataset} is conditional: an approval reference is required"))
            if dataset.sensitivity == "core" and tenant_zone is not None and tenant_zone.kind == "internet":
                add(doc.problem(loc + ("dataset",), f"core dataset {consumed.dataset} cannot be consumed by an internet-zone tenant"))
        seen_refs: set[str] = set()
        for index, consumed in enumerate(tenant.request.datasets.consumes):
            if consumed.dataset in seen_refs:
                add(doc.problem(("datasets", "consumes", index, "dataset"), f"{consumed.dataset} is listed twice"))
            seen_refs.add(consumed.dataset)
    problems += _capacity_problems(env, docs)
    return problems


def _capacity_problems(env: Environment, docs: dict[str, SourceDocument]) -> Iterator[Problem]:
    clusters = {c.id for c in env.platform.clusters}
    by_cluster: dict[str, list[Tenant]] = defaultdict(list)
    for tenant in env.tenants:
        if tenant.cluster in clusters:  # an unknown cluster is reported with the request
            by_cluster[tenant.cluster].append(tenant)
    for cluster_id, tenants in sorted(by_cluster.items()):
        used = env.capacity_used(cluster_id)
        limit = env.capacity_limit(cluster_id)
        cluster = env.cluster(cluster_id)
        for kind in RESOURCE_KINDS:
            if used[kind] <= limit[kind]:
                continue
            biggest = sorted(tenants, key=lambda t: (-t.quota_amount(kind), t.id))[0]
            detail = (
                f"allocatable {codes.format_quantity(codes.parse_quantity(str(getattr(cluster.capacity, kind))), kind)}"
                + (f" x overcommit {cluster.overcommit}" if kind in ("cpu", "memory") else "")
            )
            yield docs[biggest.id].problem(
                ("quotas", kind),
                f"cluster {cluster_id} is over capacity: {len(tenants)} tenants request {kind} "
                f"{codes.format_quantity(used[kind], kind)} > {codes.format_quantity(limit[kind], kind)} ({detail}); "
                f"the largest request is this tenant's {codes.format_quantity(biggest.quota_amount(kind), kind)}",
            )


# ---------------------------------------------------------------------------------------
# waivers.yaml
# ---------------------------------------------------------------------------------------
def check_waivers(doc: SourceDocument, waivers: list[tuple[int, Waiver]], env: Environment, parts: PlatformParts | None = None,
                  broken_tenants: Iterable[str] = ()) -> list[Problem]:
    """Rules over the waivers that validated, each with its index in the file. Checks that need
    a broken part of the platform, or a tenant whose request did not load, are skipped."""
    parts = parts or complete(env.platform)
    broken_tenants = set(broken_tenants)
    problems: list[Problem] = []
    add = problems.append
    seen: dict[str, int] = {}
    for index, waiver in waivers:
        if waiver.id in seen:
            add(doc.problem(("waivers", index, "id"), f"duplicate waiver id {waiver.id} (also waivers[{seen[waiver.id]}])"))
        else:
            seen[waiver.id] = index
    policy = env.platform.policy if parts.usable("policy") else None
    team = {p.account: p.name for p in policy.security_team} if policy is not None else None
    stacks = {s.name for s in env.stacks} | {f"{env.name}.{t}" for t in broken_tenants}
    tenants = {t.id for t in env.tenants}
    for index, waiver in waivers:
        loc = ("waivers", index)
        if team is not None and waiver.approver not in team:
            who = ", ".join(f"{account} ({name})" for account, name in sorted(team.items()))
            add(doc.problem(loc + ("approver",), f"{waiver.approver} is not a member of the security team; "
                            f"a waiver is approved by one of: {who} (platform.yaml policy.security_team)"))
        if waiver.expires <= waiver.created:
            add(doc.problem(loc + ("expires",), "expiry must be after the creation date"))
        elif policy is not None and (waiver.expires - waiver.created) > dt.timedelta(days=policy.waiver_max_days):
            days = (waiver.expires - waiver.created).days
            add(doc.problem(loc + ("expires",), f"waiver runs {days} days; the platform allows {policy.waiver_max_days} at most"))
        scope = waiver.scope
        if scope.tenant is not None and scope.tenant not in tenants and scope.tenant not in broken_tenants:
            add(doc.problem(loc + ("scope", "tenant"), f"tenant {scope.tenant} is not defined"))
        if scope.stack is not None and scope.stack not in stacks:
            foundation = scope.stack.startswith(f"{env.name}.cluster-")
            if not (foundation and parts.unsure("clusters", scope.stack.split(".cluster-", 1)[1])):
                add(doc.problem(loc + ("scope", "stack"), f"stack {scope.stack} is not one of this environment's stacks"))
    return problems
