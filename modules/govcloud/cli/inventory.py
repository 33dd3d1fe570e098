"""Commands over the inventory: validate, tenant new/validate/list, platform show, schema, scale-gen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table
from rich.tree import Tree

from ..inventory_io import dump_document, write_atomic
from ..model import Environment, codes, load_environment, schema, tenant_id
from ..model.environment import RESOURCE_KINDS
from ..model.loader import PLATFORM_FILE, TENANTS_DIR
from ..text import plural
from .common import EnvOption, Output, OutputOption, console, env_name, fail, is_interactive, load, output_of, print_json, renamed, settings, styled

tenant_app = typer.Typer(help="Department requests (the tenant factory).", no_args_is_help=True)
platform_app = typer.Typer(help="The platform model.", no_args_is_help=True)
schema_app = typer.Typer(help="JSON Schemas and reference pages of the inventory documents.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.add_typer(tenant_app, name="tenant")
    app.add_typer(platform_app, name="platform")
    app.add_typer(schema_app, name="schema")
    app.command("scale-gen", cls=renamed(__out="--inventories"))(scale_gen)


def summary(env: Environment) -> dict:
    p = env.platform
    return {
        "env": env.name,
        "regions": len(p.regions),
        "zones": len(p.zones),
        "flows": len(p.flows),
        "clusters": len(p.clusters),
        "hosts": len(p.hosts),
        "tenants": len(env.tenants),
        "datasets": sum(len(t.request.datasets.publishes) for t in env.tenants),
        "waivers": len(env.waivers),
        "stacks": len(env.stacks),
    }


def validate(ctx: typer.Context, env: Optional[str] = EnvOption, output: Optional[Output] = OutputOption) -> None:
    """Validate the whole environment: platform, tenant requests and waivers."""
    environment = load(ctx, env)
    facts = summary(environment)
    if output_of(ctx, output) == Output.json:
        print_json({"ok": True, **facts})
        return
    console.print(styled(
        "[green]✓[/] {}", f"{facts['env']}: valid: {facts['regions']} regions, {facts['zones']} zones, {facts['flows']} flows, "
        f"{facts['clusters']} clusters, {facts['hosts']} hosts, {facts['tenants']} tenants, "
        f"{facts['datasets']} datasets, {facts['waivers']} waivers"
    ))


# --- tenant ------------------------------------------------------------------------------
def _person(value: str | None, role: str) -> dict | None:
    if value is None:
        return None
    account, sep, name = value.partition("=")
    if not sep or not account or not name:
        fail(f"--{role} takes ACCOUNT=NAME, e.g. --{role} zhang-wei=张伟")
    return {"account": account.strip(), "name": name.strip()}


@tenant_app.command("new")
def tenant_new(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    slug: Optional[str] = typer.Option(None, help="Department slug (DNS label), e.g. health."),
    department: Optional[str] = typer.Option(None, help="Official department name (Chinese allowed)."),
    uscc: Optional[str] = typer.Option(None, help="Unified social credit code (18 characters)."),
    region: Optional[str] = typer.Option(None, help="GB/T 2260 region code."),
    level: Optional[int] = typer.Option(None, help="MLPS level 1-4."),
    cluster: Optional[str] = typer.Option(None, help="Cluster id."),
    zone: Optional[str] = typer.Option(None, help="Zone id (default: the cluster's zone)."),
    namespace: list[str] = typer.Option([], help="Namespace suffix; repeat for several (default: app)."),
    cpu: Optional[str] = typer.Option(None, help="CPU quota override, e.g. 8."),
    memory: Optional[str] = typer.Option(None, help="Memory quota override, e.g. 16Gi."),
    storage: Optional[str] = typer.Option(None, help="Storage quota override, e.g. 100Gi."),
    pods: Optional[int] = typer.Option(None, help="Pod count quota override."),
    system: Optional[str] = typer.Option(None, help="System administrator as ACCOUNT=NAME."),
    security: Optional[str] = typer.Option(None, help="Security administrator as ACCOUNT=NAME."),
    audit: Optional[str] = typer.Option(None, help="Audit administrator as ACCOUNT=NAME."),
    requested_by: Optional[str] = typer.Option(None, help="Account of the requester."),
    reason: Optional[str] = typer.Option(None, help="Why the department needs this change."),
    review_by: Optional[str] = typer.Option(None, help="Review-by date, YYYY-MM-DD."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and print, write nothing."),
) -> None:
    """Scaffold a tenant request from flags (prompts for what is missing when interactive)."""
    name = env_name(ctx, env)
    answers: dict[str, Any] = {
        "slug": slug, "department": department, "uscc": uscc, "region": region, "level": level, "cluster": cluster,
        "system": system, "security": security, "audit": audit, "requested_by": requested_by, "reason": reason,
        "review_by": review_by,
    }
    missing = [k for k, v in answers.items() if v is None]
    if missing and is_interactive():
        for key in missing:
            answers[key] = typer.prompt(key.replace("_", " "), type=int if key == "level" else str)
    elif missing:
        fail("missing " + ", ".join("--" + k.replace("_", "-") for k in missing))
    inventories = settings(ctx).inventories
    platform_env = load_environment(name, inventories)
    if zone is None:
        zone = next((c.zone for c in platform_env.platform.clusters if c.id == answers["cluster"]), answers["cluster"])
    quotas = {k: v for k, v in (("cpu", cpu), ("memory", memory), ("storage", storage), ("pods", pods)) if v is not None}
    try:
        review_date = dt.date.fromisoformat(str(answers["review_by"]))
    except ValueError:
        fail(f"--review-by {answers['review_by']!r} is not a date (YYYY-MM-DD)")
    document = {
        "department": {"slug": answers["slug"], "name": answers["department"], "uscc": answers["uscc"]},
        "region": str(answers["region"]),
        "mlps_level": answers["level"],
        "cluster": answers["cluster"],
        "zone": zone,
        "namespaces": list(namespace) or ["app"],
        **({"quotas": quotas} if quotas else {}),
        "administrators": {
            "system": _person(answers["system"], "system"),
            "security": _person(answers["security"], "security"),
            "audit": _person(answers["audit"], "audit"),
        },
        "change": {"requested_by": answers["requested_by"], "reason": answers["reason"], "review_by": review_date},
    }
    text = dump_document(document, "tenant", depth=3)
    slug_problem = codes.dns_label_problem(str(answers["slug"]), "slug")
    if slug_problem:
        fail(slug_problem)
    region_problem = codes.region_code_problem(str(answers["region"]))
    if region_problem:
        fail(region_problem)
    tid = tenant_id(str(answers["region"]), str(answers["slug"]))
    path = inventories / name / TENANTS_DIR / f"{tid}.yaml"
    if path.exists():
        fail(f"{path} already exists; edit it instead")
    load_environment(name, inventories, extra_tenants={path: text.encode("utf-8")})
    if dry_run:
        console.print(text, markup=False)
        return
    write_atomic(path, text)
    console.print(styled("[green]✓[/] wrote {} (tenant {}); it validates against environment {}", path, tid, name))


@tenant_app.command("validate")
def tenant_validate(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Tenant request files; each is checked with its environment."),
    output: Optional[Output] = OutputOption,
) -> None:
    """Validate tenant requests in the context of their environment (cross-file rules included)."""
    by_env: dict[tuple[Path, str], dict[Path, bytes]] = {}
    for file in files:
        if not file.is_file():
            fail(f"{file}: no such file")
        env_dir = file.resolve().parent.parent
        if file.resolve().parent.name != TENANTS_DIR or not (env_dir / PLATFORM_FILE).is_file():
            fail(f"{file}: expected inventories/<env>/{TENANTS_DIR}/<tenant-id>.yaml next to a {PLATFORM_FILE}")
        by_env.setdefault((env_dir.parent, env_dir.name), {})[env_dir / TENANTS_DIR / file.name] = file.read_bytes()
    checked = []
    for (inventories, name), extra in sorted(by_env.items()):
        load_environment(name, inventories, extra_tenants=extra)
        checked += [str(p) for p in extra]
    if output_of(ctx, output) == Output.json:
        print_json({"ok": True, "files": sorted(str(f) for f in files)})
    else:
        for file in files:
            console.print(styled("[green]✓[/] {}", file))


def _quota_text(tenant) -> str:
    q = tenant.quotas
    return f"{q.cpu} cpu / {q.memory} / {q.storage} / {q.pods} pods"


@tenant_app.command("list")
def tenant_list(ctx: typer.Context, env: Optional[str] = EnvOption, output: Optional[Output] = OutputOption) -> None:
    """List tenants: id, department, region, zone, level, quotas."""
    environment = load(ctx, env)
    rows = [
        {
            "id": t.id,
            "department": t.department,
            "region": t.region,
            "region_name": environment.region(t.region).name,
            "cluster": t.cluster,
            "zone": t.zone,
            "mlps_level": t.level,
            "namespaces": list(t.namespaces),
            "quotas": {k: str(getattr(t.quotas, k)) for k in RESOURCE_KINDS},
            "published": [d.name for d in t.request.datasets.publishes],
            "consumed": [c.dataset for c in t.request.datasets.consumes],
        }
        for t in environment.tenants
    ]
    if output_of(ctx, output) == Output.json:
        print_json(rows)
        return
    table = Table(title=f"tenants of {environment.name} ({len(rows)})")
    for column in ("id", "department", "region", "zone", "level", "quotas (cpu / memory / storage / pods)"):
        table.add_column(column)
    for t in environment.tenants:
        table.add_row(t.id, t.department, f"{t.region} {environment.region(t.region).name}", t.zone, str(t.level), _quota_text(t))
    console.print(table)


# --- platform ----------------------------------------------------------------------------
def platform_facts(env: Environment) -> dict:
    p = env.platform
    clusters = []
    for c in p.clusters:
        used, limit = env.capacity_used(c.id), env.capacity_limit(c.id)
        clusters.append(
            {
                "id": c.id, "zone": c.zone, "region": c.region, "kubernetes_version": c.kubernetes_version,
                "registry": c.registry, "overcommit": c.overcommit, "tenants": len(env.tenants_on(c.id)),
                "capacity": {
                    k: {"used": codes.format_quantity(used[k], k), "limit": codes.format_quantity(limit[k], k),
                        "free": codes.format_quantity(limit[k] - used[k], k)}
                    for k in RESOURCE_KINDS
                },
            }
        )
    return {
        "name": p.name,
        "regions": [r.model_dump(mode="json") for r in p.regions],
        "zones": [z.model_dump(mode="json") for z in p.zones],
        "flows": [f.model_dump(mode="json", by_alias=True) for f in p.flows],
        "clusters": clusters,
        "datapool": p.datapool.model_dump(mode="json"),
        "hosts": [h.model_dump(mode="json") for h in p.hosts],
    }


@platform_app.command("show")
def platform_show(ctx: typer.Context, env: Optional[str] = EnvOption, output: Optional[Output] = OutputOption) -> None:
    """Regions tree, zones, flows, clusters with capacity used/free, hosts."""
    environment = load(ctx, env)
    facts = platform_facts(environment)
    if output_of(ctx, output) == Output.json:
        print_json(facts)
        return
    p = environment.platform
    tree = Tree(styled("[bold]{}[/] ({})", p.name, environment.name))
    nodes: dict[str | None, Tree] = {}
    for region in sorted(p.regions, key=lambda r: (codes.region_level(r.code) != "province", r.code)):
        label = f"{region.code} {region.name}" + (f" — {region.bureau}" if region.bureau else "")
        parent = nodes.get(region.parent, tree)
        nodes[region.code] = parent.add(label)
    console.print(tree)

    zones = Table(title="zones")
    for column in ("id", "kind", "cidr", "max level", "hosts", "tenants"):
        zones.add_column(column)
    for z in p.zones:
        tenants = sum(1 for t in environment.tenants if t.zone == z.id)
        zones.add_row(z.id, z.kind, str(z.cidr), str(z.max_level), str(len(environment.hosts_in(z.id))), str(tenants))
    console.print(zones)

    flows = Table(title="flows (everything else is denied)")
    for column in ("from", "to", "protocol", "ports", "gateway", "purpose"):
        flows.add_column(column)
    for f in p.flows:
        flows.add_row(f.source, f.destination, f.protocol, ",".join(map(str, f.ports)) or "-", f.gateway or "", f.purpose)
    console.print(flows)

    clusters = Table(title="clusters: capacity used / allocatable x overcommit (free)")
    for column in ("id", "zone", "k8s", "tenants", *RESOURCE_KINDS, "registry"):
        clusters.add_column(column)
    for c in facts["clusters"]:
        cells = [f"{v['used']} / {v['limit']} ({v['free']})" for v in (c["capacity"][k] for k in RESOURCE_KINDS)]
        clusters.add_row(c["id"], c["zone"], c["kubernetes_version"], str(c["tenants"]), *cells, c["registry"])
    console.print(clusters)

    hosts = Table(title=f"hosts; data pool {p.datapool.id}: {p.datapool.engine} {p.datapool.version} on {', '.join(p.datapool.hosts)}")
    for column in ("name", "zone", "role", "address", "os", "level"):
        hosts.add_column(column)
    for h in p.hosts:
        hosts.add_row(h.name, h.zone, h.role + (f" ({h.cluster})" if h.cluster else ""), str(h.address),
                      f"{h.os.distribution} {h.os.version}", str(environment.host_level(h)))
    console.print(hosts)


# --- schema ------------------------------------------------------------------------------
@schema_app.command("export", cls=renamed(__out="--schema-dir"))
def schema_export(
    out: Path = typer.Option(Path("schemas"), "--schema-dir", metavar="DIR", help="Directory for *.schema.json and *.md."),
    check: bool = typer.Option(False, "--check", help="Change nothing; exit 1 if the committed files differ from the model."),
) -> None:
    """Regenerate the JSON Schemas and their Markdown reference pages from the model."""
    if check:
        stale = schema.stale(out)
        if stale:
            fail(f"out of date: {', '.join(stale)}; run `govcloud schema export`", code=1)
        console.print(styled("[green]✓[/] {} matches the model", out))
        return
    changed = schema.export(out)
    console.print(f"wrote {plural(len(changed), 'changed file')} to {out}" + (f": {', '.join(changed)}" if changed else ""))


# --- synthetic province --------------------------------------------------------------------
def scale_gen(
    out: Path = typer.Option(Path("build/inventories"), "--inventories", metavar="DIR", help="Inventories directory to write into."),
    name: str = typer.Option("province", "--name", help="Environment name to create."),
    cities: int = typer.Option(14, min=1, max=99),
    counties: int = typer.Option(122, min=0, max=2000),
    tenants: int = typer.Option(4000, min=1, max=50000),
    seed: int = typer.Option(20261125),
) -> None:
    """Generate a synthetic province-scale inventory (used by the benchmarks)."""
    from ..scalegen import generate

    problem = codes.dns_label_problem(name, "environment")
    if problem:
        fail(problem)
    written = generate(out, name, cities=cities, counties=counties, tenants=tenants, seed=seed)
    console.print(f"wrote {written} files to {out / name}")
