"""``govcloud policy`` (the pack's rules and configuration) and ``govcloud check``."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..files import read_regular, write_output
from .common import (
    BuildOption,
    EnvOption,
    Output,
    OutputOption,
    RenderDirOption,
    StacksOption,
    cache_dir,
    console,
    deprecated,
    detail,
    env_name,
    err_console,
    fail,
    info,
    load,
    output_of,
    plain_console,
    plural,
    prepare_output,
    print_json,
    progress_disabled,
    renamed,
    render_dir_of,
    selected_stacks,
)
from .ledger import ActorOption, RecordKeyOption, RecordOption, open_for_recording, record, refuse_recorded

if TYPE_CHECKING:
    from ..check.results import CheckReport

policy_app = typer.Typer(help="The policy pack: rules and the configuration generated from the model.", no_args_is_help=True)

PackOption = typer.Option(Path("policies"), "--pack", envvar="GOVCLOUD_POLICY_PACK", metavar="DIR",
                          help="Directory of the policy pack (PulumiPolicy.yaml).")
TodayOption = typer.Option(None, "--today", metavar="DATE", help="Date the waivers are judged on (YYYY-MM-DD); default: today.")


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    sarif = "sarif"
    junit = "junit"


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
    app.command("check", cls=renamed(__format="--output", _f="-o"))(check)


def parse_day(value: str | None, option: str = "--today") -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} takes a date as YYYY-MM-DD, not {value!r}")


@policy_app.command("rules")
def rules_command(
    ctx: typer.Context,
    output: Optional[Output] = OutputOption,
    markdown: bool = typer.Option(False, "--markdown", help="A Markdown table (the README's rules table)."),
    readme: Optional[Path] = typer.Option(None, "--readme", help="Rewrite the rules table between the policy-rules markers of this file."),
) -> None:
    """List the rules of the pack: id, standard, severity, default enforcement, title, clause."""
    from ..policy.catalog import rules

    found = rules()
    if readme is not None:
        try:
            text = read_regular(readme, 16 << 20).decode("utf-8")
        except OSError as error:
            fail(f"{readme}: {error.strerror or error}")
        except UnicodeDecodeError as error:
            fail(f"{readme}: not valid UTF-8 (byte 0x{error.object[error.start]:02x} at offset {error.start})")
        begin, end = text.find(README_BEGIN), text.find(README_END)
        if begin < 0 or end < begin:
            fail(f"{readme}: no {README_BEGIN} ... {README_END} markers")
        start = text.index("\n", begin) + 1
        write_output(readme, text[:start] + rules_markdown() + text[end:])
        console.print(f"updated the rules table in {readme} ({len(found)} rules)")
        return
    if markdown:
        sys.stdout.write(rules_markdown())
        return
    if output_of(ctx, output) == Output.json:
        print_json([r.metadata() for r in found])
        return
    table = Table(title=f"{len(found)} rules")
    for column in ("id", "standard", "scope", "severity", "enforcement", "title"):
        table.add_column(column, overflow="fold")
    for rule in found:
        table.add_row(rule.id, rule.standard, rule.scope, rule.severity, rule.enforcement, rule.title)
    console.print(table)


README_BEGIN = "<!-- policy-rules:begin"
README_END = "<!-- policy-rules:end -->"


def rules_markdown() -> str:
    from .. import pages
    from ..policy.catalog import rules

    return pages.markdown_text("policy-rules.md.j2", rules=rules())


@policy_app.command("config")
def config_command(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Where to write it (default: build/policy/<env>/policy-config.json)."),
    build: Optional[Path] = BuildOption,
    output: Optional[Output] = OutputOption,
) -> None:
    """Write the pack configuration for an environment.

    Enforcement per rule and the model facts, for
    `pulumi preview --policy-pack policies/ --policy-pack-config FILE`."""
    from ..policy.config import build_config, config_digest, config_path, write_config

    environment = load(ctx, env)
    config = build_config(environment)
    if build is not None and out is None:
        deprecated("--build DIR", "--out FILE")
    path = write_config(config, out or config_path(build or Path("build"), environment.name))
    if output_of(ctx, output) == Output.json:
        print_json({"path": str(path), "digest": config_digest(config), "rules": len(config)})
        return
    console.print(f"wrote {path} ({len(config)} rules, {config_digest(config)})")


def check(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    stack: Optional[list[str]] = StacksOption,
    output: Optional[CheckFormat] = typer.Option(None, "--output", "-o", help="table, json, sarif or junit (default: table)."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Write the report to this file instead of standard output."),
    today: Optional[str] = TodayOption,
    pack: Path = PackOption,
    render_dir: Optional[Path] = RenderDirOption,
    build: Optional[Path] = BuildOption,
    ledger: Optional[Path] = RecordOption,
    ledger_key: Optional[str] = RecordKeyOption,
    actor: Optional[str] = ActorOption,
    no_cache: bool = typer.Option(False, "--no-cache", help="Ask the pack about every stack; neither read nor write the verdict cache."),
) -> None:
    """Run the policy pack over the rendered desired state.

    Exit 1 when a mandatory rule fails unwaived, 0 otherwise, 2 on bad input. With --ledger,
    the --out file is recorded as evidence. Verdicts of stacks whose state, pack and
    configuration are unchanged come from the verdict cache (build/cache/check/ENV)."""
    from ..check.analyzer import fewer_collections
    from ..check.cache import VerdictCache
    from ..check.run import check_stacks, spawn_ahead

    day = parse_day(today)
    format = output or (CheckFormat.json if output_of(ctx, None) == Output.json else CheckFormat.table)
    if ledger is not None and out is None:
        fail("--ledger records the report file: give --out FILE too")
    prepare_output(out)
    log = open_for_recording(ledger, ledger_key)
    refuse_recorded(log, out)
    name = env_name(ctx, env)
    states_dir = render_dir_of(render_dir, build, name)
    root = None if no_cache else cache_dir()
    verdict_cache = VerdictCache(root / "check" / name) if root is not None else None
    if verdict_cache is not None:
        verdict_cache.prefetch()
    with contextlib.ExitStack() as scope:
        # A stack rendered since the last check: the pack will likely be asked, and starts now.
        spawned = spawn_ahead(pack, scope, verdict_cache) if verdict_cache is not None and verdict_cache.rendered_since(states_dir) else None
        environment = load(ctx, env)
        names = selected_stacks(environment, stack)
        require_current_render(environment, states_dir, names)
        with fewer_collections():
            report = _checking(len(names), lambda step: check_stacks(environment, names, pack, day, states_dir, verdict_cache, step,
                                                                     spawned))
    if verdict_cache is not None:
        asked = sorted(verdict_cache.missed)  # named when some were cached: which ones the change reached
        shown = (": " + ", ".join(asked[:5]) + (f" and {len(asked) - 5} more" if len(asked) > 5 else "")) if asked and verdict_cache.hits else ""
        detail(f"verdict cache: {verdict_cache.hits} of {plural(len(names), 'stack')} unchanged since checked, "
               f"{len(names) - verdict_cache.hits} asked of the pack{shown}")
    with fewer_collections():
        emit(report, format, out)
    if log is not None:
        assert out is not None  # open_for_recording needs --out
        counts = report.summary()
        subject = names[0] if len(names) == 1 and stack else ""
        what = ", ".join(names) if stack else environment.name
        record(log, "check", {"env": environment.name, "stack": subject}, out, actor,
               f"policy check of {what}: {plural(counts['stacks'], 'stack')}, {counts['passed']} passed, "
               f"{counts['failed']} failed ({counts['blocking']} blocking), {counts['waived']} waived; verdict {counts['verdict']}",
               {"today": report.today, "pack_digest": report.pack["digest"], "format": format.value})
    raise typer.Exit(report.exit_code)


def require_current_render(environment, render_dir: Path, names: list[str]) -> None:
    """Before a check: one line and exit 2 without a render, or with one older than the inventory."""
    from ..check.run import render_problem

    problem, unrecorded = render_problem(render_dir, environment, names)
    if problem:
        fail(problem)
    if unrecorded:
        info(f"note: {plural(unrecorded, 'stack')} in {render_dir} record no inputs (rendered by an older govcloud, or by hand): "
             "whether the render is older than the inventory cannot be told")


def execute_check(environment, states, pack: Path, day: dt.date, render_dir: Path, digests: dict[str, str] | None = None):
    """The check with a progress bar on long runs; pack problems become one clear error."""
    from ..check.run import run_check

    return _checking(len(states), lambda step: run_check(environment, states, pack, day, render_dir, progress=step, digests=digests))


def _checking(total: int, work: Callable[[Callable[[str], None]], CheckReport]) -> CheckReport:
    """``work(step)`` under a progress bar of ``total`` stacks (on long runs); pack problems
    become one clear error."""
    from ..check.analyzer import ConfigError, PackError

    try:
        with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}", markup=False),
                      TimeElapsedColumn(), console=err_console, transient=True,
                      disable=total < 20 or progress_disabled()) as progress:
            task = progress.add_task("", total=total)
            return work(lambda name: progress.update(task, advance=1, description=name))
    except ConfigError as error:
        fail("the policy configuration does not fit the pack:\n  " + "\n  ".join(error.problems))
    except PackError as error:
        fail(str(error))


def print_check_failures(report) -> None:
    from ..check import formats

    formats.print_table(report, err_console)


def emit(report, format: CheckFormat, out: Path | None) -> None:
    from ..check import formats

    if format == CheckFormat.table:
        if out is None:
            formats.print_table(report, console)
            return
        buffer = io.StringIO()
        formats.print_table(report, plain_console(file=buffer, width=160))
        write_output(out, buffer.getvalue())
        return
    writers: dict[CheckFormat, Callable[[CheckReport], str | bytes | list[bytes | memoryview]]] = {
        CheckFormat.json: formats.to_json if out is None else formats.json_pieces,  # a file takes the pieces as they are
        CheckFormat.sarif: formats.to_sarif, CheckFormat.junit: formats.to_junit}
    text = writers[format](report)
    if out is None:
        assert not isinstance(text, list)
        sys.stdout.write(text.decode("utf-8") if isinstance(text, bytes) else text)
    else:  # prepare_output checked the path before the check ran
        write_output(out, text)
        info(f"wrote {out} ({format.value}); verdict {'fail' if report.blocking else 'pass'}")
