"""``govcloud stacks list``, ``govcloud render``, ``govcloud deploy``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
from .review import PlansOption, ReviewsOption, TrustOption, trust_dir

stacks_app = typer.Typer(help="Pulumi stacks the model implies.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(stacks_app, name="stacks")
    app.command("render", cls=renamed(__out="--render-dir"))(render)
    app.command("deploy")(deploy)
    app.command("destroy")(destroy)


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
    from ..state import render_dir

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


WorkspaceOption = typer.Option(None, "--workspace", envvar="GOVCLOUD_DEPLOY_WORKSPACE", metavar="DIR",
                               help="The deploy workspace for your own clusters (backend, stack config, plugins; outside git). "
                                    "Without it: the lab's, .lab/<env>/pulumi, on the lab's control planes.")
BackendOption = typer.Option(None, "--backend", metavar="URL", help="Pulumi backend URL (default: file://<workspace>/state).")
PassphraseOption = typer.Option(None, "--passphrase-file", metavar="FILE",
                                help="The stacks' secrets passphrase, from a file (default: $PULUMI_CONFIG_PASSPHRASE_FILE; the lab makes its own).")
SecretStoreOption = typer.Option(None, "--datapool-passwords", metavar="FILE",
                                 help="The data pool passwords by role, JSON, mode 600 (default: <workspace>/secrets/datapool-passwords.json; the lab's own).")
KubeconfigOption = typer.Option(None, "--kubeconfig", metavar="FILE",
                                help="Kubeconfig with the contexts platform.yaml names (default: $KUBECONFIG or ~/.kube/config; the lab's own).")


def open_engine(environment, workspace: Optional[Path], backend: Optional[str], passphrase_file: Optional[Path],
                datapool_passwords: Optional[Path], kubeconfig: Optional[Path]):
    """The engine for an environment: the lab's workspace, or the user's (--workspace)."""
    from ..engine.pulumi import Binaries, Engine
    from ..engine.workspace import Workspace, WorkspaceError
    from ..toolchain import ToolchainError

    try:
        if workspace is None:
            if any(v is not None for v in (backend, passphrase_file, datapool_passwords, kubeconfig)):
                fail("--backend, --passphrase-file, --datapool-passwords and --kubeconfig go with --workspace DIR (your own clusters)")
            from ..lab.lab import Lab

            lab = Lab(environment, log=lambda message: None)
            chosen = Workspace.for_lab(environment.name, lab.paths.root, lab.plan.namespace)
        else:
            chosen = Workspace.given(environment.name, workspace, backend=backend, passphrase_file=passphrase_file,
                                     datapool_passwords=datapool_passwords, kubeconfig=kubeconfig)
        return Engine(chosen, Binaries.built())
    except (WorkspaceError, ToolchainError) as error:
        fail(str(error))


def deploy(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    stack: Optional[list[str]] = StacksOption,
    all_: bool = typer.Option(False, "--all", help="Deploy every stack: foundations first, then tenants in parallel."),
    preview: bool = typer.Option(False, "--preview", help="pulumi preview --save-plan (for review) instead of pulumi up --plan."),
    expect_no_changes: bool = typer.Option(False, "--expect-no-changes", help="Fail a stack whose pulumi up would change anything."),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, help="Stacks deployed at once."),
    reviews: Path = ReviewsOption,
    trust_store: Optional[Path] = TrustOption,
    plans: Path = PlansOption,
    workspace: Optional[Path] = WorkspaceOption,
    backend: Optional[str] = BackendOption,
    passphrase_file: Optional[Path] = PassphraseOption,
    datapool_passwords: Optional[Path] = SecretStoreOption,
    kubeconfig: Optional[Path] = KubeconfigOption,
    ledger: Optional[Path] = RecordOption,
    ledger_key: Optional[str] = RecordKeyOption,
    actor: Optional[str] = ActorOption,
) -> None:
    """The Pulumi engine with the policy pack inside it, gated by review certificates.

    --preview: pulumi preview --save-plan per stack (stacks created and configured from the
    model), the plans in --plans for `govcloud review`. Without it: pulumi up --plan with the
    certified plan, only for stacks whose current desired state and plan a valid certificate
    binds. Foundations first; a tenant whose foundation is not deployed is skipped."""
    from .. import deploy as deploying
    from ..review import ReviewGate

    if bool(stack_list(stack)) == all_:
        fail("give either --stack NAME (repeatable) or --all")
    log_book = open_for_recording(ledger, ledger_key)
    try:
        environment = load(ctx, env)
        foundations, tenants = deploying.select(environment, stack_list(stack))
        engine = open_engine(environment, workspace, backend, passphrase_file, datapool_passwords, kubeconfig)
        logs = Path("build") / "deploy" / environment.name
        inventories = settings(ctx).inventories
        # The current desired state of the stacks: what the gate compares certificates with, and
        # the URNs the waivers in force cover (the engine's policy exceptions).
        from ..policy.config import engine_config, write_config
        from ..render import pipeline
        from ..state import STATE_FILE, StackState

        rendered = pipeline.render(environment, inventories, logs / "render", only=[s.name for s in foundations + tenants])
        states = [StackState.load(logs / "render" / r.stack / STATE_FILE) for r in rendered if r.ok]
        today = dt.datetime.now(dt.timezone.utc).date()
        policy_config = write_config(engine_config(environment, states, today), logs / "policy-config.json")
        gate = None
        if not preview:
            gate = ReviewGate(environment, inventories, logs / "render", reviews, trust_dir(ctx, environment.name, trust_store),
                              deploying.PROJECT_DIR / deploying.POLICY_PACK, plans=plans.resolve())
            gate.prepare(foundations + tenants, rendered)
        deployment = deploying.Deployment(environment, preview, logs.resolve(), engine, inventories.resolve(), plans.resolve(),
                                          policy_config.resolve(), gate=gate, expect_no_changes=expect_no_changes)

        def report(outcome) -> None:
            style = {"ok": "green", "failed": "bold red", "skipped": "yellow", "refused": "bold red"}[outcome.status]
            where = f" (log: {outcome.log})" if outcome.log else ""
            console.print(styled(f"[{style}]{{}}[/] {{}}", f"{outcome.status:7}", f"{outcome.stack} {outcome.detail}{where}"), soft_wrap=True)
            if log_book is not None:
                operation = deployment.operation
                evidence = deploying.write_record(outcome, environment.name, operation, logs)
                tenant = environment.stack(outcome.stack).tenant or ""
                record(log_book, "deploy", {"env": environment.name, "stack": outcome.stack, "tenant": tenant}, evidence, actor,
                       f"pulumi {operation} of {outcome.stack}: {outcome.status}" + (f" ({outcome.detail})" if outcome.detail else ""),
                       {"status": outcome.status, "operation": operation})

        outcomes = deploying.run(deployment, foundations, tenants, jobs=jobs, report=report)
    except deploying.DeployError as error:
        fail(str(error))
    done = [o for o in outcomes if o.status == "ok"]
    skipped = [o for o in outcomes if o.status == "skipped"]
    bad = [o for o in outcomes if o.status in ("failed", "refused")]
    verb = "previewed" if preview else "deployed"
    console.print(f"{verb} {len(done)} of {plural(len(outcomes), 'stack')} of {env_name(ctx, env)}"
                  + (f", {len(skipped)} skipped" if skipped else "") + (f", {len(bad)} failed or refused" if bad else "")
                  + (f"; plans in {plans / environment.name}" if preview else ""), markup=False)
    # A stack skipped for order (its foundation is not deployed yet) is no failure; one that
    # failed, or was refused by the gate, is.
    if bad:
        raise typer.Exit(1)


def destroy(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    stack: list[str] = typer.Option(..., "--stack", "-s", help="A tenant stack to remove (repeatable)."),
    yes: bool = typer.Option(False, "--yes", help="Really remove every object of these tenants from their clusters."),
    workspace: Optional[Path] = WorkspaceOption,
    backend: Optional[str] = BackendOption,
    passphrase_file: Optional[Path] = PassphraseOption,
    datapool_passwords: Optional[Path] = SecretStoreOption,
    kubeconfig: Optional[Path] = KubeconfigOption,
    ledger: Optional[Path] = RecordOption,
    ledger_key: Optional[str] = RecordKeyOption,
    actor: Optional[str] = ActorOption,
) -> None:
    """pulumi destroy of tenant stacks: exactly the objects each tenant's stack created go.

    A foundation holds every tenant's guardrails and is never destroyed this way. With --ledger,
    each stack's outcome is recorded (a deployment record, operation destroy)."""
    from .. import deploy as deploying
    from ..engine.pulumi import EngineError

    log_book = open_for_recording(ledger, ledger_key)
    environment = load(ctx, env)
    try:
        foundations, tenants = deploying.select(environment, stack)
    except deploying.DeployError as error:
        fail(str(error))
    if foundations:
        fail(f"{', '.join(s.name for s in foundations)}: a foundation holds every tenant's guardrails; destroy removes tenant stacks only")
    if not yes:
        fail("destroy removes every object of " + ", ".join(s.name for s in tenants) + " from its clusters; add --yes")
    engine = open_engine(environment, workspace, backend, passphrase_file, datapool_passwords, kubeconfig)
    try:
        engine.prepare()
    except EngineError as error:
        fail(str(error))
    logs = Path("build") / "deploy" / environment.name
    logs.mkdir(parents=True, exist_ok=True)
    failed = 0
    for tenant in tenants:
        log_path = logs / f"{tenant.name}.destroy.log"
        with log_path.open("w", encoding="utf-8") as log:
            done = engine.run("destroy", "--stack", tenant.name, "--yes", "--skip-preview", "--non-interactive", log=log)
        if done.returncode != 0:
            failed += 1
            outcome = deploying.Outcome(tenant.name, "failed", f"pulumi destroy exited {done.returncode}", log_path)
            err_console.print(styled("[bold red]failed [/] {}", f"{tenant.name} (log: {log_path})"), soft_wrap=True)
        else:
            outcome = deploying.Outcome(tenant.name, "ok", "", log_path)
            console.print(styled("[green]destroyed[/] {}", f"{tenant.name} (log: {log_path})"), soft_wrap=True)
        if log_book is not None:
            evidence = deploying.write_record(outcome, environment.name, "destroy", logs)
            record(log_book, "deploy", {"env": environment.name, "stack": tenant.name, "tenant": tenant.tenant or ""}, evidence,
                   actor, f"pulumi destroy of {tenant.name}: {outcome.status}", {"status": outcome.status, "operation": "destroy"})
    if failed:
        raise typer.Exit(1)
