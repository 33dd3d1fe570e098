"""``govcloud tools``: the Go components (control planes, Pulumi engine) built into the cache."""

from __future__ import annotations

from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from .common import Output, OutputOption, console, fail, output_of, print_json, styled

tools_app = typer.Typer(help="Go components built from their modules: etcd, kube-apiserver, the Pulumi engine.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tools_app, name="tools")


@tools_app.command("build")
def build(
    names: Optional[list[str]] = typer.Argument(None, help="Components to build (default: all)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when the cache holds the same build."),
    control_planes: bool = typer.Option(False, "--control-planes", help="Only what the lab's control planes run (etcd, kube-apiserver per minor)."),
) -> None:
    """Build components into the cache (once per pinned version; later runs and clones reuse them)."""
    from .. import toolchain
    from ..toolchain.components import CONTROL_PLANE

    try:
        for name in names or (CONTROL_PLANE if control_planes else sorted(toolchain.COMPONENTS)):
            built = toolchain.build(name, log=lambda message: console.print(message), force=force)
            if built.cached:
                console.print(styled("[green]✓[/] {} {} (cached) {}", name, built.version, built.binary))
    except toolchain.ToolchainError as error:
        fail(str(error), code=1)


@tools_app.command("status")
def status(ctx: typer.Context, output: Optional[Output] = OutputOption) -> None:
    """Each component, its pinned module version, and whether the cache holds its build."""
    from .. import toolchain

    try:
        go = toolchain.go_version()
        rows: list[dict[str, Any]] = []
        for name, component in sorted(toolchain.COMPONENTS.items()):
            built = toolchain.find(name, go)
            rows.append({"component": name, "module": component.module, "version": component.version(),
                         "built": built is not None, "path": str(built.binary) if built else None,
                         "summary": component.summary})
    except toolchain.ToolchainError as error:
        fail(str(error))
    if output_of(ctx, output) == Output.json:
        print_json({"go": go, "cache": str(toolchain.cache_root()), "components": rows})
        return
    table = Table(title=f"Go components ({go}; cache {toolchain.cache_root()})")
    for column in ("component", "module", "version", "built", "what"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["component"], row["module"], row["version"], Text("yes", style="green") if row["built"] else Text("no", style="red"),
                      row["summary"])
    console.print(table)


@tools_app.command("path")
def path(name: str = typer.Argument(..., help="A component name (see `govcloud tools status`).")) -> None:
    """Print the path of a built component's binary (exit 2 if it is not built)."""
    from .. import toolchain

    try:
        console.print(str(toolchain.require(name).binary), soft_wrap=True)
    except toolchain.ToolchainError as error:
        fail(str(error))
