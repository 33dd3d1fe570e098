"""``govcloud diff``: build the report from two git revisions, two render directories or previews.

Revisions: the environment's inventory at each revision is copied out of git (``revisions``),
loaded into a model and rendered with the current code, so only inventory changes count. Only
stacks whose input files differ are rendered (``incremental``); the policy pack checks them
(and the stacks whose verdicts could change without a state change) on both sides.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..canonical import JsonProblem, load_json
from ..check.results import FORMAT as CHECK_FORMAT
from ..files import read_regular
from ..model import Environment, InputError, Problem, load_environment
from ..model.loader import display_path
from ..state import STATE_FILE, StackState
from ..text import plural
from . import incremental, revisions
from .changes import StackDiff, diff_states
from .preview import diff_from_previews
from .report import DiffReport, network, tenant_rows
from .verdicts import verdict_changes, waiver_changes

Progress = Callable[[str, int, int], None]  # (phase, done, total)


class DiffError(Exception):
    """The diff cannot be made: a side does not render, the pack fails. ``code``: exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


@dataclass
class Options:
    today: dt.date
    within_days: int = 30
    pack: Path | None = None  # the policy pack; None: verdicts are not compared
    jobs: int | None = None
    progress: Progress | None = None
    cache_dir: Path | None = None  # parsed inventory documents (see govcloud.model.cache)


@dataclass
class Side:
    label: str  # what the user named: a revision, or "worktree"
    commit: str | None
    inventories: Path
    env: Environment

    def describe(self) -> dict[str, Any]:
        if self.commit is None:
            return {"label": self.label, "path": str(self.inventories)}
        return {"rev": self.label, "commit": self.commit}


# --- revisions -------------------------------------------------------------------------------------
def _load_revision(repo: revisions.Repository, revision: str, env: str, scratch: Path, options: Options) -> Side:
    commit = revisions.resolve(repo, revision)
    inventories = revisions.materialize(repo, commit, env, scratch, revision)
    try:
        environment = load_environment(env, inventories, cache_dir=options.cache_dir)
    except InputError as error:
        raise revisions.relabel(error, inventories, repo, revision) from None
    return Side(revision, commit, inventories, environment)


def _render(side: Side, names: list[str], out: Path, options: Options) -> tuple[dict[str, StackState], dict[str, str]]:
    """The rendered states by stack, and their digests (the render has computed them already)."""
    if not names:
        return {}, {}
    from ..render import pipeline  # imports the Pulumi SDK: only when something is rendered

    total = len(names)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if options.progress:
            options.progress(f"rendering {side.label}", done, total)

    results = pipeline.render(side.env, side.inventories, out, only=names, jobs=options.jobs, progress=advance)
    errors = [e for r in results for e in r.errors]
    if errors:
        raise DiffError(f"{plural(len(errors), 'render error')} at {side.label} (rendered with the current code):\n  " + "\n  ".join(errors))
    return {name: StackState.load(out / name / STATE_FILE) for name in names}, {r.stack: r.digest for r in results if r.digest}


def _check(side: Side, states: list[StackState], options: Options, render_dir: Path, digests: dict[str, str]) -> dict[str, Any]:
    from ..check.analyzer import ConfigError, PackError
    from ..check.run import run_check

    if options.progress:
        options.progress(f"checking {side.label}", 0, len(states))
    assert options.pack is not None  # no pack, no check
    try:
        report = run_check(side.env, states, options.pack, options.today, render_dir, digests=digests)
    except ConfigError as error:
        raise DiffError(f"the policy configuration at {side.label} does not fit the pack: " + "; ".join(error.problems), 2) from None
    except PackError as error:
        raise DiffError(f"policy pack: {error}", 2) from None
    except InputError as error:
        if side.commit is not None:
            raise InputError([Problem(f"{side.label}:{p.file}" if p.file else p.file, p.line, p.field, p.message)
                              for p in error.problems]) from None
        raise
    return report.as_dict()


def diff_revisions(env: str, inventories: Path, from_rev: str, to_rev: str | None, options: Options,
                   project_dir: Path | None = None) -> DiffReport:
    """The report between ``from_rev`` and ``to_rev`` (None: the work tree) of ``env``."""
    from ..components.program import PROJECT_DIR

    repo = revisions.repository_of(inventories)
    with tempfile.TemporaryDirectory(prefix="govcloud-diff-") as scratch:
        root = Path(scratch)
        before = _load_revision(repo, from_rev, env, root / "from", options)
        if to_rev is None:
            after = Side("worktree", None, inventories, load_environment(env, inventories, cache_dir=options.cache_dir))
        else:
            after = _load_revision(repo, to_rev, env, root / "to", options)
        plan = incremental.plan(before.env, after.env)
        if options.pack is None:
            plan.shared = []  # only the check needs unchanged stacks rendered
        states_before, digests_before = _render(before, plan.render_from, root / "from" / "render", options)
        states_after, digests_after = _render(after, plan.check_to, root / "to" / "render", options)
        for name in plan.shared:  # equal inputs: one render serves both sides
            states_before.setdefault(name, states_after[name])
            if name in digests_after:
                digests_before.setdefault(name, digests_after[name])
        stacks = [diff_states(states_before.get(name), states_after.get(name)) for name in plan.changed]
        policy, note = None, "no policy pack given (--no-policy)"
        if options.pack is not None:
            checked_before = [states_before[n] for n in plan.check_from]
            checked_after = [states_after[n] for n in plan.check_to]
            # Each side has its own pack processes: check both at once (the packs do the work).
            with ThreadPoolExecutor(max_workers=2) as pool:
                checks = [pool.submit(_check, side, states, options, root / name / "render", digests)
                          for side, states, name, digests in ((before, checked_before, "from", digests_before),
                                                              (after, checked_after, "to", digests_after))]
                policy = verdict_changes(*(c.result() for c in checks))
            policy["stacks_checked"] = {"from": len(checked_before), "to": len(checked_after)}
            note = ""
    source = {
        "mode": "revisions",
        "from": before.describe(),
        "to": after.describe(),
        "inventories": str(repo.inventories / env),
        "rendered_with": revisions.code_version(project_dir or PROJECT_DIR),
        "plan": plan.as_dict(),
    }
    return DiffReport(
        env=env, source=source, stacks=stacks,
        compared=len({s.name for s in before.env.stacks} | {s.name for s in after.env.stacks}),
        tenants=tenant_rows(stacks, before.env, after.env),
        policy=policy, policy_note=note,
        waivers=waiver_changes(before.env.waivers, after.env.waivers, options.today, options.within_days),
        network=network(stacks, before.env, after.env),
    )


# --- render directories ------------------------------------------------------------------------------
def _state_files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        raise InputError([Problem(display_path(directory), 0, "", "no such render directory")])
    found = {path.parent.name: path for path in sorted(directory.glob(f"*/{STATE_FILE}"))}
    if not found:
        raise InputError([Problem(display_path(directory), 0, "", f"no <stack>/{STATE_FILE} here: not a render directory")])
    return found


def _load_state(path: Path) -> StackState:
    try:
        return StackState.load(path)
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:  # JsonProblem is a ValueError
        raise InputError([Problem(display_path(path), 0, "", f"not a readable desired state: {exc}")]) from None


def load_check(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    where = display_path(path)
    try:
        document = load_json(read_regular(path), where)
    except OSError as exc:
        raise InputError([Problem(where, 0, "", f"cannot read the check results ({exc.strerror})")]) from None
    except JsonProblem as problem:
        raise InputError([Problem(where, 0, "", str(problem)[len(where) + 2:])]) from None
    if not isinstance(document, dict) or document.get("format") != CHECK_FORMAT or not isinstance(document.get("results"), list):
        raise InputError([Problem(where, 0, "format", f"not a {CHECK_FORMAT} document (`govcloud check --format json`)")])
    return document


def _policy_from_checks(from_check: Path | None, to_check: Path | None, options: Options) -> tuple[dict | None, str, dict | None]:
    if (from_check is None) != (to_check is None):
        raise InputError([Problem("--from-check/--to-check", 0, "", "give both check results, or neither")])
    if from_check is None:
        return None, "no check results given (--from-check/--to-check)", None
    before, after = load_check(from_check), load_check(to_check)
    assert before is not None and after is not None
    waivers = waiver_changes(before.get("waivers", []), after.get("waivers", []), options.today, options.within_days)
    return verdict_changes(before, after), "", waivers


def diff_directories(from_dir: Path, to_dir: Path, options: Options, from_check: Path | None = None,
                     to_check: Path | None = None) -> DiffReport:
    policy, note, waivers = _policy_from_checks(from_check, to_check, options)
    before, after = _state_files(from_dir), _state_files(to_dir)
    stacks: list[StackDiff] = []
    envs: set[str] = set()
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is not None and b is not None and a.read_bytes() == b.read_bytes():
            continue
        old, new = (_load_state(a) if a else None), (_load_state(b) if b else None)
        envs |= {s.env for s in (old, new) if s is not None}
        stacks.append(diff_states(old, new))
    if len(envs) > 1:
        raise InputError([Problem(display_path(to_dir), 0, "env", f"the directories hold states of several environments: {', '.join(sorted(envs))}")])
    env = envs.pop() if envs else _any_env(after or before)
    source = {"mode": "directories", "from": {"path": str(from_dir)}, "to": {"path": str(to_dir)}}
    return DiffReport(env=env, source=source, stacks=stacks, compared=len(set(before) | set(after)),
                      tenants=tenant_rows(stacks), policy=policy, policy_note=note, waivers=waivers, network=network(stacks))


def _any_env(files: dict[str, Path]) -> str:
    first = next(iter(files.values()))
    return _load_state(first).env


def diff_previews(paths: list[Path], options: Options, from_check: Path | None = None, to_check: Path | None = None) -> DiffReport:
    policy, note, waivers = _policy_from_checks(from_check, to_check, options)
    stacks = diff_from_previews(paths)
    envs = sorted({s.stack.split(".", 1)[0] for s in stacks})
    source = {"mode": "preview", "from": {"label": "deployed state"}, "to": {"label": "pulumi preview"},
              "previews": [str(p) for p in paths]}
    return DiffReport(env=",".join(envs) or "?", source=source, stacks=stacks, compared=len(stacks),
                      tenants=tenant_rows(stacks), policy=policy, policy_note=note, waivers=waivers, network=network(stacks))
