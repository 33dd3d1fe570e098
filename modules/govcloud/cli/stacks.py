"""``govcloud stacks list``, ``govcloud render``, ``govcloud deploy``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..state import render_dir
from .common import (
    EnvOption,
    Output,
    OutputOption,
    RenderDirOption,
    StacksOption,
    console,
    detail,
    env_name,
    err_console,
    fail,
    load,
    output_of,
    plural,
    prepare_output,
    print_json,
    progress_disabled,
    renamed,
    selected_stacks,
    settings,
    stack_list,
    styled,
)
from .ledger import ActorOption, RecordKeyOption, RecordOption, open_for_recording, record
from .review import ReviewsOption, TrustOption, trust_dir

stacks_app = typer.Typer(help="Pulumi stacks the model implies.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(stacks_app, name="stacks")
    app.command("render", cls=renamed(__out="--render-dir"))(render)
    app.command("deploy")(deploy)


@stacks_app.command("list")
def list_stacks(ctx: typer.Context, env: Optional[str] = EnvOption, output: Optional[Output] = OutputOption) -> None:
    """Every stack of the environment: a foundation per cluster, one per tenant."""
    environment = load(ctx, env)
    rows = [{"stack": s.name, "kind": s.kind, "cluster": s.cluster, "tenant": s.tenant} for s in environment.stacks]
    if output_of(ctx, output) == Output.json:
        print_json(rows)
        return
    table = Table(title=f"{plural(len(rows), 'stack')} of {environment.name}")
    for column in ("stack", "kind", "cluster", "tenant"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["stack"], row["kind"], row["cluster"], row["tenant"] or "")
    console.print(table)


def render(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    stack: Optional[list[str]] = StacksOption,
    render_dir_: Optional[Path] = RenderDirOption,
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: one per core)."),
    output: Optional[Output] = OutputOption,
) -> None:
    """Run the stacks/ program offline under Pulumi's mock runtime; write and validate the desired state."""
    from ..render import pipeline  # imports the Pulumi SDK: only for the commands that need it

    environment = load(ctx, env)
    only = selected_stacks(environment, stack) if stack_list(stack) else None
    target = render_dir_ or render_dir(Path("build"), environment.name)
    prepare_output(target, "--render-dir", directory=True)
    total = len(only) if only else len(environment.stacks)
    started = time.perf_counter()
    with Progress(TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                  transient=True, disable=output_of(ctx, output) == Output.json or progress_disabled()) as progress:
        task = progress.add_task("render", total=total)
        results = pipeline.render(environment, settings(ctx).inventories, target, only=only, jobs=jobs,
                                  progress=lambda n: progress.advance(task, n))
    elapsed = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if output_of(ctx, output) == Output.json:
        print_json({"ok": not failed, "out": str(target), "stacks": [
            {"stack": r.stack, "resources": r.resources, "objects": r.objects, "digest": r.digest, "errors": r.errors}
            for r in results]})
    else:
        for result in failed:
            for error in result.errors:
                err_console.print(styled("[bold red]error:[/] {}", error), soft_wrap=True)
        for result in results:
            detail(f"{result.stack}: {plural(result.objects, 'object')}, {result.digest or 'not written'}")
        objects = sum(r.objects for r in results)
        console.print(f"rendered {len(results) - len(failed)} of {plural(len(results), 'stack')} ({plural(objects, 'Kubernetes object')}) "
                      f"into {target} in {elapsed:.1f}s")
    if failed:
        raise typer.Exit(1)


def deploy(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    stack: Optional[list[str]] = StacksOption,
    all_: bool = typer.Option(False, "--all", help="Deploy every stack: foundations first, then tenants in parallel."),
    preview: bool = typer.Option(False, "--preview", help="pulumi preview instead of pulumi up."),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, help="Stacks deployed at once."),
    reviews: Path = ReviewsOption,
    trust_store: Optional[Path] = TrustOption,
    ledger: Optional[Path] = RecordOption,
    ledger_key: Optional[str] = RecordKeyOption,
    actor: Optional[str] = ActorOption,
) -> None:
    """Deploy with the Pulumi CLI and the policy pack (pulumi up|preview --policy-pack policies/).

    `pulumi up` runs only for stacks whose current desired state has a valid review certificate."""
    from .. import deploy as deploying
    from ..review import ReviewGate

    if bool(stack_list(stack)) == all_:
        fail("give either --stack NAME (repeatable) or --all")
    log_book = open_for_recording(ledger, ledger_key)
    try:
        cli = deploying.pulumi_cli()
        environment = load(ctx, env)
        foundations, tenants = deploying.plan(environment, stack_list(stack))
        logs = Path("build") / "deploy" / environment.name
        gate = None
        if not preview:
            inventories = settings(ctx).inventories
            gate = ReviewGate(environment, inventories, logs / "render", reviews, trust_dir(ctx, environment.name, trust_store),
                              deploying.PROJECT_DIR / deploying.POLICY_PACK)
            gate.prepare(foundations + tenants)
        from ..policy.config import build_config, config_path, write_config

        policy_config = write_config(build_config(environment), config_path(Path("build"), environment.name))
        deployment = deploying.Deployment(environment, preview, logs, cli=cli, gate=gate, policy_config=policy_config.resolve())

        def report(outcome) -> None:
            style = {"ok": "green", "failed": "bold red", "skipped": "yellow", "refused": "bold red"}[outcome.status]
            where = f" (log: {outcome.log})" if outcome.log else ""
            console.print(styled(f"[{style}]{{}}[/] {{}}", f"{outcome.status:7}", f"{outcome.stack} {outcome.detail}{where}"), soft_wrap=True)
            if log_book is not None:
                operation = "preview" if preview else "up"
                evidence = deploying.write_record(outcome, environment.name, operation, logs)
                tenant = environment.stack(outcome.stack).tenant or ""
                record(log_book, "deploy", {"env": environment.name, "stack": outcome.stack, "tenant": tenant}, evidence, actor,
                       f"pulumi {operation} of {outcome.stack}: {outcome.status}" + (f" ({outcome.detail})" if outcome.detail else ""),
                       {"status": outcome.status, "operation": operation})

        outcomes = deploying.run(deployment, foundations, tenants, jobs=jobs, report=report)
    except deploying.DeployError as error:
        fail(str(error))
    bad = [o for o in outcomes if o.status != "ok"]
    verb = "previewed" if preview else "deployed"
    console.print(f"{verb} {len(outcomes) - len(bad)} of {plural(len(outcomes), 'stack')} of {env_name(ctx, env)}")
    if bad:
        raise typer.Exit(1)

