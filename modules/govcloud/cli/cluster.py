"""`govcloud cluster up|down|status`: the lab's Kubernetes control planes (etcd + kube-apiserver)."""

from __future__ import annotations

import time
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from .common import EnvOption, Output, OutputOption, console, fail, load, output_of, print_json, styled

cluster_app = typer.Typer(help="Real control planes (etcd + kube-apiserver, no nodes) for the clusters of an environment, "
                               "inside the lab's network namespace.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(cluster_app, name="cluster")


def planes_for(ctx: typer.Context, env: str | None):
    from ..cluster.planes import ControlPlanes
    from ..lab import LabError

    try:
        return ControlPlanes(load(ctx, env), log=lambda message: console.print(Text(message, style="dim")))
    except LabError as error:
        fail(str(error))


def bring_up(planes) -> None:
    from ..lab import LabError

    started = time.monotonic()
    try:
        timings = planes.up()
    except LabError as error:
        fail(str(error))
    console.print(styled("[green]✓[/] {}", f"{len(planes.planes)} control planes of {planes.env.name} are ready "
                         f"({time.monotonic() - started:.1f} s; etcd {timings['etcd']:.1f} s, kube-apiserver {timings['apiserver']:.1f} s, "
                         f"controllers and bootstrap {timings['bootstrap']:.1f} s)"))
    for plane in planes.planes:
        console.print(Text(f"  {plane.cluster.kube_context}: {plane.server} (Kubernetes {plane.cluster.kubernetes_version})"))
    console.print(Text(f"  kubeconfig: {planes.kubeconfig}\n"
                       f"  use:        govcloud lab exec --env {planes.env.name} -- CMD   (runs CMD in the lab namespace with KUBECONFIG)"))


def take_down(planes) -> None:
    from ..lab import LabError

    try:
        removed = planes.down()
    except LabError as error:
        fail(str(error))
    for item in removed:
        console.print(Text(f"  removed {item}"))


@cluster_app.command("up")
def up(ctx: typer.Context, env: Optional[str] = EnvOption) -> None:
    """Start (or repair) a control plane per cluster: etcd, kube-apiserver, CRDs, kubeconfig. Idempotent."""
    bring_up(planes_for(ctx, env))


@cluster_app.command("down")
def down(ctx: typer.Context, env: Optional[str] = EnvOption) -> None:
    """Stop the control planes by PID and remove their data, certificates, addresses and kubeconfig."""
    planes = planes_for(ctx, env)
    take_down(planes)


@cluster_app.command("status")
def status(ctx: typer.Context, env: Optional[str] = EnvOption, output: Optional[Output] = OutputOption) -> None:
    """Processes, readiness (/readyz from the control node) and versions of every control plane; exit 1 unless all are ready."""
    from ..lab import LabError

    planes = planes_for(ctx, env)
    try:
        state = planes.status()
    except LabError as error:
        fail(str(error))
    if output_of(ctx, output) == Output.json:
        print_json(state)
    else:
        console.print(styled("control planes of {}: " + ("[green]ready[/]" if state["up"] else "[red]not ready[/]") + " {}", state["env"],
                             f"(namespace {state['namespace']}{'' if state['namespace_exists'] else ' missing'}; "
                             f"kubeconfig {state['kubeconfig'] or 'not written'}; Gateway API {state['gateway_api']})"))
        table = Table()
        for column in ("cluster", "zone", "context", "server", "version", "etcd", "kube-apiserver", "controller manager", "ready"):
            table.add_column(column)
        for c in state["clusters"]:
            table.add_row(Text(c["cluster"]), Text(c["zone"]), Text(c["kube_context"]), c["server"],
                          c["version"] or f"({c['kubernetes_version']})", str(c["etcd_pid"] or "-"), str(c["apiserver_pid"] or "-"),
                          str(c["controller_manager_pid"] or "-"),
                          Text("yes", style="green") if c["ready"] else Text("no", style="red"))
        console.print(table)
    if not state["up"]:
        raise typer.Exit(1)
