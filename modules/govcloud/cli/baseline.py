"""`govcloud baseline apply|verify`: converge site.yml and check every control on every host."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table
from rich.text import Text

from ..files import write_output
from ..text import plural
from .common import EnvOption, Output, OutputOption, console, fail, load, output_of, prepare_output, print_json, styled

if TYPE_CHECKING:
    from ..lab.lab import Paths

baseline_app = typer.Typer(help="MLPS host baselines: converge the playbooks, verify every control.", no_args_is_help=True)

PlaybooksOption = typer.Option(Path("playbooks"), "--playbooks", help="Directory holding site.yml and roles/.")


def register(app: typer.Typer) -> None:
    app.add_typer(baseline_app, name="baseline")


def _lab_paths(env_name: str) -> Paths:
    from ..lab.lab import Paths, lab_directory

    paths = Paths(lab_directory(env_name))
    if not paths.inventory.exists():
        fail(f"no inventory with connection details for {env_name}: run `govcloud lab up --env {env_name}` first "
             f"(or pass --inventory/--ssh-config for real hosts)")
    return paths


@baseline_app.command("apply")
def apply(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    check: bool = typer.Option(False, "--check", help="Report drift (with --diff) without changing any host."),
    diff: bool = typer.Option(False, "--diff", help="Show the changes to files."),
    tags: Optional[str] = typer.Option(None, "--tags", help="Only these controls (comma-separated ids)."),
    limit: Optional[str] = typer.Option(None, "--limit", help="Only these hosts (Ansible pattern)."),
    playbook: str = typer.Option("site.yml", "--playbook", help="site.yml, baseline.yml, zones.yml or datapool.yml."),
    inventory: Optional[Path] = typer.Option(None, "--inventory", help="Inventory source (default: the lab's)."),
    playbooks: Path = PlaybooksOption,
) -> None:
    """Converge the hosts with ansible-playbook (site.yml = baseline + zones + datapool + integrity)."""
    from ..hosts.playbook import run_playbook
    from ..lab.lab import Paths, lab_directory

    environment = load(ctx, env)
    paths = Paths(lab_directory(environment.name))
    source = inventory or _lab_paths(environment.name).inventory
    run = run_playbook(playbooks, playbook, source, [paths.extra_vars], check=check, diff=diff,
                       tags=tags.split(",") if tags else None, limit=limit, stream=sys.stdout)
    console.print(f"{'drift' if check else 'changed'}: {plural(run.changed, 'task')} on {plural(len(run.stats), 'host')}; failed: {run.failed}")
    if not run.ok:
        raise typer.Exit(1)


@baseline_app.command("verify")
def verify_command(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    output: Optional[Output] = OutputOption,
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Also write the JSON report to this file."),
    host: Optional[list[str]] = typer.Option(None, "--host", help="Only these hosts (repeatable)."),
    control: Optional[list[str]] = typer.Option(None, "--control", help="Only these controls (repeatable)."),
    ssh_config: Optional[Path] = typer.Option(None, "--ssh-config", help="OpenSSH config naming the hosts (default: the lab's)."),
    playbooks: Path = PlaybooksOption,
) -> None:
    """Check every control on every host (effective state) and print the compliance table."""
    from ..baseline.verify import Connection, verify

    prepare_output(out)
    environment = load(ctx, env)
    connection = Connection(ssh_config or _lab_paths(environment.name).ssh_config)
    try:
        report = verify(environment, connection, playbooks, hosts=host or None, control_ids=control or None)
    except KeyError as error:
        fail(str(error).strip("'\""))
    if out:  # prepare_output checked the path before the hosts were read
        write_output(out, json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    if output_of(ctx, output) == Output.json:
        print_json(report)
    else:
        _print_table(report)
    if report["summary"]["fail"]:
        raise typer.Exit(1)


def _print_table(report: dict) -> None:
    from ..baseline.verify import FAIL, NOT_APPLICABLE, PASS

    hosts = sorted(report["hosts"])
    table = Table(title=f"MLPS compliance: {report['env']} ({report['generated_at']})")
    table.add_column("control")
    table.add_column("clause")
    for name in hosts:
        table.add_column(name, justify="center")
    marks = {PASS: Text("pass", style="green"), FAIL: Text("FAIL", style="bold red"), NOT_APPLICABLE: Text("-", style="dim")}
    for control_id, meta in report["controls"].items():
        table.add_row(control_id, meta["clause"], *(marks[report["hosts"][h]["controls"][control_id]["status"]] for h in hosts))
    console.print(table)
    s = report["summary"]
    console.print(f"{s['pass']} passed, {s['fail']} failed, {s['not_applicable']} not applicable, on {s['hosts']} hosts")
    for name in hosts:
        for control_id, result in report["hosts"][name]["controls"].items():
            if result["status"] == FAIL:
                failing = [e for e in result["evidence"] if e.startswith("FAIL")]
                console.print(styled("  [red]{} {}[/]: {}", name, control_id, "; ".join(failing)), soft_wrap=True)
