"""`govcloud lab up|down|status`: real hosts for an environment on this machine."""

from __future__ import annotations

import time
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from ..lab import LabError
from ..lab.lab import Lab
from .common import EnvOption, Output, OutputOption, console, fail, load, output_of, print_json, styled

lab_app = typer.Typer(help="The lab: booted Debian hosts (systemd-nspawn) for an environment, in their own network namespace.",
                      no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")


def _lab(ctx: typer.Context, env: str | None) -> Lab:
    try:
        return Lab(load(ctx, env), log=lambda message: console.print(Text(message, style="dim")))
    except LabError as error:
        fail(str(error))


@lab_app.command("up")
def up(ctx: typer.Context, env: Optional[str] = EnvOption) -> None:
    """Build (once) the base image, then start every host, the bridges and the zone router. Idempotent."""
    lab = _lab(ctx, env)
    started = time.monotonic()
    try:
        timings = lab.up()
    except LabError as error:
        fail(str(error))
    console.print(styled(
        "[green]✓[/] {}", f"lab {lab.env.name} is up: {len(lab.plan.machines)} machines in namespace {lab.plan.namespace} "
        f"({time.monotonic() - started:.1f} s; image {timings['image']:.1f} s, boot {timings['boot']:.1f} s, ssh {timings['ssh']:.1f} s)"
    ))
    console.print(f"  inventory: {lab.paths.inventory}\n  ssh:       ssh -F {lab.paths.ssh_config} <host>")


@lab_app.command("down")
def down(ctx: typer.Context, env: Optional[str] = EnvOption) -> None:
    """Stop the machines and remove exactly what the lab created (processes by PID, mounts, namespace, files)."""
    lab = _lab(ctx, env)
    try:
        removed = lab.down()
    except LabError as error:
        fail(str(error))
    if not removed:
        console.print(f"lab {lab.env.name}: nothing to remove")
    for item in removed:
        console.print(f"  removed {item}")


@lab_app.command("status")
def status(ctx: typer.Context, env: Optional[str] = EnvOption, output: Optional[Output] = OutputOption) -> None:
    """Hosts, zones and reachability (SSH from the control node in the management zone)."""
    lab = _lab(ctx, env)
    try:
        state = lab.status()
    except LabError as error:
        fail(str(error))
    if output_of(ctx, output) == Output.json:
        print_json(state)
        return
    console.print(styled("lab {}: " + ("[green]up[/]" if state["up"] else "[red]not up[/]") + " {}", state["env"],
                         f"(namespace {state['namespace']}{'' if state['namespace_exists'] else ' missing'}, "
                         f"control node {state['control_node']})"))
    hosts = Table(title="hosts")
    for column in ("host", "zone", "role", "address", "pid", "ssh"):
        hosts.add_column(column)
    for h in state["hosts"]:
        hosts.add_row(h["name"], h["zone"], h["role"], h["address"], str(h["pid"] or "-"),
                      Text("reachable", style="green") if h["ssh"] else Text("unreachable", style="red"))
    console.print(hosts)
    zones = Table(title="zones")
    for column in ("zone", "cidr", "bridge", "router", "hosts"):
        zones.add_column(column)
    for z in state["zones"]:
        zones.add_row(z["zone"], z["cidr"], z["bridge"], z["router"], ", ".join(z["hosts"]))
    console.print(zones)
    if not state["up"]:
        raise typer.Exit(1)
