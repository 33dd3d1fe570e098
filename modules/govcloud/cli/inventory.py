"""Commands over the inventory: validate, platform show, schema, scale-gen (tenants: ``tenant.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table
from rich.tree import Tree

from ..text import plural
from .common import EnvOption, Output, OutputOption, console, fail, load, output_of, print_json, renamed, styled

if TYPE_CHECKING:
    from ..model import Environment

platform_app = typer.Typer(help="The platform model.", no_args_is_help=True)
schema_app = typer.Typer(help="JSON Schemas and reference pages of the inventory documents.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
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


# --- platform ----------------------------------------------------------------------------
def platform_facts(env: Environment) -> dict:
    from ..model import codes
    from ..model.environment import RESOURCE_KINDS

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
    from ..model import codes
    from ..model.environment import RESOURCE_KINDS

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
    from ..model import schema

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
    from ..model import codes
    from ..scalegen import generate

    problem = codes.dns_label_problem(name, "environment")
    if problem:
        fail(problem)
    written = generate(out, name, cities=cities, counties=counties, tenants=tenants, seed=seed)
    console.print(f"wrote {written} files to {out / name}")
