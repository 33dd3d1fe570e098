"""``govcloud diff``: what an infrastructure change does, for reviewers and auditors."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..files import write_output
from .common import EnvOption, Output, cache_dir, env_name, err_console, fail, info, output_of, plural, prepare_output, progress_disabled, renamed, settings
from .ledger import ActorOption, RecordKeyOption, RecordOption, open_for_recording, record, recorded_entry, refuse_recorded
from .policy import PackOption, TodayOption, parse_day


class DiffFormat(str, Enum):
    md = "md"
    html = "html"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("diff", cls=renamed(__format="--output", _f="-o"))(diff)


def diff(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    from_rev: Optional[str] = typer.Option(None, "--from", help="Git revision of the inventory before the change."),
    to_rev: Optional[str] = typer.Option(None, "--to", help="Git revision after the change (default: the work tree)."),
    worktree: bool = typer.Option(False, "--worktree", help="Compare with the work tree, uncommitted changes included (the default)."),
    from_dir: Optional[Path] = typer.Option(None, "--from-dir", help="Render directory before (<stack>/state.json)."),
    to_dir: Optional[Path] = typer.Option(None, "--to-dir", help="Render directory after."),
    from_preview: Optional[list[Path]] = typer.Option(None, "--from-preview", help="`pulumi preview --json` output of a stack (repeatable)."),
    from_check: Optional[Path] = typer.Option(None, "--from-check", metavar="FILE",
                                              help="`govcloud check -o json` before (directory and preview modes)."),
    to_check: Optional[Path] = typer.Option(None, "--to-check", metavar="FILE", help="`govcloud check -o json` after."),
    output: Optional[DiffFormat] = typer.Option(None, "--output", "-o",
                                                help="md (merge-request comment, the default), html (report), json (evidence)."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Write the report to this file instead of standard output."),
    today: Optional[str] = TodayOption,
    within_days: int = typer.Option(30, "--expiring-within", min=0, metavar="DAYS", help="Warn about waivers expiring within this many days."),
    pack: Path = PackOption,
    no_policy: bool = typer.Option(False, "--no-policy", help="Do not compare policy verdicts (revision mode)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Render worker processes (default: one per core)."),
    ledger: Optional[Path] = RecordOption,
    ledger_key: Optional[str] = RecordKeyOption,
    evidence: Optional[Path] = typer.Option(None, "--evidence", help="Where the JSON evidence goes with --ledger (default: build/diff/<env>/<from>..<to>.json)."),
    actor: Optional[str] = ActorOption,
) -> None:
    """Report what an inventory change does, per stack, for reviewers and auditors.

    Deletions and replacements first, then policy verdict changes and waivers: between two git
    revisions of the inventory (rendered with the current code), two render directories, or
    from `pulumi preview --json`. Exit 2 on bad input."""
    from ..diff import run as running
    from ..diff.formats import to_html, to_markdown
    from ..diff.revisions import RevisionError

    modes = [from_rev is not None, from_dir is not None or to_dir is not None, bool(from_preview)]
    if sum(modes) != 1:
        fail("give exactly one of --from REV, --from-dir DIR --to-dir DIR, or --from-preview FILE")
    prepare_output(out)
    if (to_rev is not None or worktree) and from_rev is None:
        fail("--to and --worktree go with --from REV")
    if to_rev is not None and worktree:
        fail("give --to REV or --worktree, not both")
    if modes[1] and (from_dir is None or to_dir is None):
        fail("--from-dir and --to-dir go together")
    if modes[0] and (from_check or to_check):
        fail("--from-check/--to-check are for directory and preview modes; revision mode runs the check itself")
    day = parse_day(today)
    format = output or (DiffFormat.json if output_of(ctx, None) == Output.json else DiffFormat.md)
    pack_dir = None if no_policy else pack
    if pack_dir is not None and modes[0] and not (pack_dir / "PulumiPolicy.yaml").is_file():
        fail(f"{pack_dir} is not a policy pack (no PulumiPolicy.yaml); give --pack DIR or --no-policy")
    log = open_for_recording(ledger, ledger_key)
    refuse_recorded(log, out)
    if log is not None and evidence is not None:
        prepare_output(evidence, "--evidence")
        refuse_recorded(log, evidence, "--evidence")
    quiet = (out is None and not sys.stderr.isatty()) or progress_disabled()
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=quiet) as progress:
        task = progress.add_task("diff", total=None)

        def report_progress(phase: str, done: int, total: int) -> None:
            progress.update(task, description=phase, completed=done, total=total or None)

        options = running.Options(today=day, within_days=within_days, pack=pack_dir, jobs=jobs, progress=report_progress,
                                 cache_dir=cache_dir())
        try:
            if from_rev is not None:
                report = running.diff_revisions(env_name(ctx, env), settings(ctx).inventories, from_rev, to_rev, options)
            elif from_preview:
                report = running.diff_previews(list(from_preview), options, from_check, to_check)
            else:
                assert from_dir is not None and to_dir is not None  # checked above
                report = running.diff_directories(from_dir, to_dir, options, from_check, to_check)
        except RevisionError as error:
            fail(str(error))
        except running.DiffError as error:
            fail(str(error), error.code)
    text = {DiffFormat.md: to_markdown, DiffFormat.html: to_html, DiffFormat.json: lambda r: r.to_json()}[format](report)
    if out is None:
        sys.stdout.write(text)
    else:  # prepare_output checked the path before the diff ran
        write_output(out, text)
        changed = len(report.changed_stacks)
        info(f"wrote {out} ({format.value}): {plural(changed, 'stack')} {'changes' if changed == 1 else 'change'}"
             + ("; no changes" if report.no_changes else ""))
    if log is not None:
        written = out if format == DiffFormat.json and evidence is None else None  # the --out file is the evidence
        record_in_ledger(report, log, written or evidence, actor, already_written=written is not None)


def _evidence_name(report) -> str:
    def side(value: dict) -> str:
        return (value.get("commit") or value.get("label") or Path(str(value.get("path", "side"))).name or "side")[:12]

    return f"{side(report.source.get('from', {}))}..{side(report.source.get('to', {}))}.json".replace("/", "_")


def _unrecorded_name(log, path: Path, text: str) -> Path:
    """``path``, or ``<name>.2.json``, ``.3``, ...: the first that holds this very report or is
    not the evidence of a ledger entry."""
    candidate, number = path, 1
    while candidate.is_file() and candidate.read_bytes() != text.encode("utf-8") and recorded_entry(log, candidate) is not None:
        number += 1
        candidate = path.with_name(f"{path.stem}.{number}{path.suffix}")
    return candidate


def record_in_ledger(report, log, evidence: Path | None, actor: str | None, already_written: bool = False) -> None:
    """Write the JSON evidence (unless it is the --out file, written already) and append a ``diff``
    entry pointing at it."""
    path = evidence or Path("build") / "diff" / report.env / _evidence_name(report)
    if not already_written:
        text = report.to_json()
        if evidence is None:  # govcloud names it: same report, same file; recorded evidence is never replaced
            path = _unrecorded_name(log, path, text)
        if not path.is_file() or path.read_bytes() != text.encode("utf-8"):
            write_output(path, text)
    summary = report.summary()
    resources = summary["resources"]
    changed = summary["stacks_changed"]
    line = (f"diff of {report.env}: {plural(changed, 'stack')} {'changes' if changed == 1 else 'change'} "
            f"({plural(resources['delete'], 'deletion')}, {plural(resources['replace'], 'replacement')}, "
            f"{plural(resources['create'], 'addition')}, {plural(resources['update'], 'update')})")
    if summary["policy"] is not None:
        line += f"; {plural(summary['policy']['new_findings'], 'new finding')}, {summary['policy']['fixed_findings']} fixed"
    details = {"mode": report.source.get("mode", ""),
               **{f"{k}_commit": report.source[k]["commit"] for k in ("from", "to") if report.source.get(k, {}).get("commit")}}
    record(log, "diff", {"env": report.env}, path, actor, line, details)
