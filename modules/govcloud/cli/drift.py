"""`govcloud drift`: the live control planes against the rendered desired state."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from .common import EnvOption, Output, StacksOption, console, fail, info, load, output_of, prepare_output, selected_stacks, settings
from .ledger import ActorOption, RecordKeyOption, RecordOption, open_for_recording, record


class DriftFormat(str, Enum):
    table = "table"
    json = "json"
    md = "md"


def register(app: typer.Typer) -> None:
    app.command("drift")(drift)


def drift(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    stack: Optional[list[str]] = StacksOption,
    output: Optional[DriftFormat] = typer.Option(None, "--output", "-o", help="table, json or md (default: table)."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Write the report to this file instead of standard output."),
    render_dir: Optional[Path] = typer.Option(None, "--render-dir", metavar="DIR",
                                              help="Compare with this render tree (<stack>/state.json) instead of rendering the inventory now."),
    ledger: Optional[Path] = RecordOption,
    ledger_key: Optional[str] = RecordKeyOption,
    actor: Optional[str] = ActorOption,
    evidence: Optional[Path] = typer.Option(None, "--evidence", help="Where the JSON evidence goes with --ledger (default: build/drift/<env>/drift-<time>.json)."),
) -> None:
    """Compare the live objects of the lab's control planes with the rendered desired state:
    missing objects, changed fields, objects in tenant namespaces no stack manages. Exit 1 on drift."""
    from ..cluster.planes import ControlPlanes
    from ..drift import formats
    from ..drift.run import DriftInputError, run
    from ..lab import LabError

    format = output or (DriftFormat.json if output_of(ctx, None) == Output.json else DriftFormat.table)
    prepare_output(out)
    prepare_output(evidence, "--evidence")
    log = open_for_recording(ledger, ledger_key)
    environment = load(ctx, env)
    stacks = selected_stacks(environment, stack) if stack else None
    try:
        planes = ControlPlanes(environment, log=lambda message: None)
        report = run(environment, settings(ctx).inventories, planes, stacks=stacks, render_dir=render_dir)
    except (DriftInputError, LabError) as error:
        fail(str(error))
    if format == DriftFormat.json:
        text = report.to_json()
    elif format == DriftFormat.md:
        text = formats.markdown(report)
    else:
        text = None
    if out is not None:
        out.write_text(text if text is not None else formats.markdown(report), encoding="utf-8")
        info(f"wrote {out}: {formats.summary_line(report)}")
    elif text is not None:
        typer.echo(text, nl=False)
    else:
        for table in formats.tables(report):
            console.print(table)
        console.print(Text(formats.summary_line(report), style="red" if report.drifted else "green"))
    if log is not None:
        path = out if (out is not None and format == DriftFormat.json) else (
            evidence or Path("build") / "drift" / report.env / f"drift-{report.generated_at.replace(':', '')}.json")
        if path != out:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(report.to_json(), encoding="utf-8")
        s = report.summary()
        record(log, "drift", {"env": report.env, "stack": stacks[0] if stacks and len(stacks) == 1 else ""}, path, actor,
               formats.summary_line(report), {"missing": str(s["missing"]), "changed": str(s["changed"]),
                                              "unmanaged": str(s["unmanaged"])})
    raise typer.Exit(1 if report.drifted else 0)
