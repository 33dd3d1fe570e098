"""`govcloud lab up|down|status`: real hosts for an environment on this machine."""

from __future__ import annotations

import os
import shutil
import time
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table
from rich.text import Text

from .common import EnvOption, Output, OutputOption, console, fail, load, output_of, print_json, styled

if TYPE_CHECKING:
    from ..lab.lab import Lab

lab_app = typer.Typer(help="The lab: booted Debian hosts (systemd-nspawn) for an environment, in their own network namespace.",
                      no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")


def _lab(ctx: typer.Context, env: str | None) -> Lab:
    from ..lab import LabError
    from ..lab.lab import Lab

    try:
        return Lab(load(ctx, env), log=lambda message: console.print(Text(message, style="dim")))
    except LabError as error:
        fail(str(error))


@lab_app.command("up")
def up(ctx: typer.Context, env: Optional[str] = EnvOption,
       clusters: bool = typer.Option(True, "--clusters/--no-clusters",
                                     help="Also bring up the control planes (govcloud cluster up).")) -> None:
    """Build (once) the base image, then start every host, the bridges, the zone router and the control planes. Idempotent."""
    from ..lab import LabError
    from .cluster import bring_up, planes_for

    planes = planes_for(ctx, env) if clusters else None  # a bad API address stops before anything starts
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
    if planes is not None:
        bring_up(planes)


@lab_app.command("down")
def down(ctx: typer.Context, env: Optional[str] = EnvOption) -> None:
    """Stop the control planes and machines and remove exactly what the lab created (processes by PID, mounts, namespace, files)."""
    from ..lab import LabError
    from .cluster import planes_for, take_down

    take_down(planes_for(ctx, env))
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
    from ..lab import LabError

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


@lab_app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def exec_(ctx: typer.Context, env: Optional[str] = EnvOption,
          command: list[str] = typer.Argument(..., help="The command and its arguments (after --).")) -> None:
    """Run a command inside the lab's network namespace with KUBECONFIG set to the lab's kubeconfig
    (e.g. `govcloud lab exec -- pulumi up`, `govcloud lab exec -- kubectl --context lab-egov-1 get ns`)."""
    from ..lab import LabError
    from ..lab.preflight import check_root
    from .cluster import planes_for

    planes = planes_for(ctx, env)
    try:
        check_root()
    except LabError as error:
        fail(str(error))
    access = planes.access
    if not os.path.exists(f"/run/netns/{access.namespace}"):
        fail(f"the lab namespace {access.namespace} does not exist: run `govcloud lab up` or `govcloud cluster up` first")
    if shutil.which(command[0]) is None:
        fail(f"{command[0]}: command not found")
    argv = access.command(list(command))
    os.execvpe(argv[0], argv, access.environment())
