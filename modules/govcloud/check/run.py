"""``govcloud check``: the policy pack over the rendered desired state of an environment.

Reads ``build/render/<env>/<stack>/state.json`` (what ``govcloud render`` writes), starts the
pack once, configures it with the environment's generated configuration, analyzes every stack
through the analyzer protocol and applies waivers with an explicit clock. No rule is evaluated
here: every verdict comes from the pack.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import tempfile
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import orjson

from ..model import Environment, InputError, Problem
from ..model.environment import Stack
from ..model.inputs import render_inputs, tenant_sources
from ..model.loader import display_path
from ..policy.catalog import pack_digest, rules
from ..policy.config import build_config, build_facts, config_digest
from ..state import INPUTS_FILE, STATE_FILE, StackState, digest_of
from ..state import render_dir as default_render_dir
from ..text import plural
from .analyzer import PackError, PackInfo, PackProcess, StackOutcome, configure_request, engine_analyzed, fewer_collections, pack_metadata, pack_python, reconcile_config
from .cache import FactDigests, ReportPart, Session, StackVerdicts, VerdictCache, fingerprint, lookups_of, read_traces, runtime
from .results import CheckReport, Result, StackReport
from .sources import Locator
from .waivers import apply_waivers, require_known_rules, waiver_state, waiver_summary

STACK_TYPE = "pulumi:pulumi:Stack"
T = TypeVar("T")


def stack_names(env: Environment, selected: str | Iterable[str] | None = None) -> list[str]:
    """Every stack of the environment, or those named (``lab.t-...`` or ``t-...``), in the
    environment's order; every unknown name is reported."""
    names = [s.name for s in env.stacks]
    if selected is None:
        return names
    wanted, problems = set(), []
    for name in [selected] if isinstance(selected, str) else selected:
        full = name if name.startswith(f"{env.name}.") else f"{env.name}.{name}"
        if full not in names:
            problems.append(Problem("--stack", 0, "stack", f"{name} is not a stack of environment {env.name}; "
                                    "`govcloud stacks list` lists them"))
        wanted.add(full)
    if problems:
        raise InputError(problems)
    return [n for n in names if n in wanted]


def state_path(render_dir: Path, stack: str) -> Path:
    """``<render_dir>/<stack>/state.json``; the render tree is build/render/<env> by default."""
    return render_dir / stack / STATE_FILE


def load_state(path: Path, env: str, stack: str) -> StackState:
    where = display_path(path)
    if not path.is_file():
        raise InputError([Problem(where, 0, "", f"no rendered desired state for stack {stack}; run `govcloud render --env {env}` first")])
    try:
        state = StackState.load(path)
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:  # JsonProblem is a ValueError
        raise InputError([Problem(where, 0, "", f"not a readable desired state: {exc}")]) from None
    if state.env != env or state.stack != stack:
        raise InputError([Problem(where, 0, "stack", f"holds stack {state.env}/{state.stack}, expected {env}/{stack}")])
    return state


def render_problem(render_dir: Path, env: Environment, names: list[str]) -> tuple[str | None, int]:
    """Why the render in ``render_dir`` cannot be checked as the inventory stands now, in one
    line (None when it can), and how many of the stacks record no inputs (rendered by an older
    govcloud, or written by hand: their freshness cannot be told). A render is stale when an
    input file it recorded (``inputs.json``: platform.yaml, requests) has another digest now."""
    shown = display_path(render_dir)
    base = render_dir.as_posix()  # strings: pathlib's joins were a third of this for a province
    missing = [n for n in names if not os.path.isfile(f"{base}/{n}/{STATE_FILE}")]
    if missing and len(missing) == len(names):
        return f"no render of {env.name} in {shown}: run `govcloud render --env {env.name}` first", 0
    if missing:
        listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return (f"{plural(len(missing), 'stack')} of {env.name} not rendered in {shown} ({listed}): "
                f"run `govcloud render --env {env.name}` first"), 0
    requests = tenant_sources(env)
    stale: list[tuple[str, list[str]]] = []
    unrecorded = 0
    for name in names:
        try:
            with open(f"{base}/{name}/{INPUTS_FILE}", "rb") as handle:
                recorded = orjson.loads(handle.read())["inputs"]
        except FileNotFoundError:
            unrecorded += 1
            continue
        except (OSError, ValueError, KeyError, TypeError):
            stale.append((name, [INPUTS_FILE]))
            continue
        current = render_inputs(env, env.stack(name), requests)
        changed = sorted(k for k in set(current) | set(recorded) if current.get(k) != recorded.get(k))
        if changed:
            stale.append((name, changed))
    if stale:
        first, files = stale[0]
        more = f" and {plural(len(stale) - 1, 'other stack')}" if len(stale) > 1 else ""
        return (f"the render in {shown} is older than the inventory: {first}{more} {'was' if len(stale) == 1 else 'were'} rendered before "
                f"{', '.join(files)} changed; run `govcloud render --env {env.name}`"
                + (f" (or -s {' -s '.join(n for n, _ in stale)})" if len(stale) <= 3 else "")), unrecorded
    return None, unrecorded


def file_digests(render_dir: Path, env: Environment, names: Iterable[str]) -> dict[str, str]:
    """sha256 of each stack's state file as it is on disk; every file that cannot be read is
    reported (``InputError``, one line each, as ``load_state`` words it).

    For a file written by render this is ``StackState.digest()`` (render writes the canonical
    form), without re-serializing thousands of states; review and the gate recompute the
    canonical digest and refuse a file that is not canonical. The digest is over the bytes: a
    file that is not UTF-8 matches no cache entry, and ``load_state`` says why when it is read.
    """
    digests, problems = {}, []
    base = render_dir.as_posix()
    for name in names:
        try:
            with open(f"{base}/{name}/{STATE_FILE}", "rb") as handle:
                digests[name] = digest_of(handle.read())
        except OSError:
            try:
                load_state(state_path(render_dir, name), env.name, name)  # says why in one line
            except InputError as error:
                problems += error.problems
    if problems:
        raise InputError(problems)
    return digests


def load_states(render_dir: Path, env: Environment, names: Iterable[str]) -> list[StackState]:
    states, problems = [], []
    for name in names:
        try:
            states.append(load_state(state_path(render_dir, name), env.name, name))
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    return states


def stack_urn(state: StackState) -> str:
    for resource in state.resources:
        if resource.type == STACK_TYPE:
            return resource.urn
    return f"urn:pulumi:{state.stack}::{state.project}::{STACK_TYPE}::{state.project}-{state.stack}"


def stack_results(outcome: StackOutcome, info: PackInfo, levels: dict[str, str]) -> list[Result]:
    """Turn what the pack said about one stack into one verdict per (rule, resource)."""
    state = outcome.stack
    stack = state.stack
    root = stack_urn(state)
    analyzed = outcome.analyzed if outcome.analyzed is not None else engine_analyzed(state)  # as the engine sends it
    types = {r.urn: r.type for r in analyzed}
    types.setdefault(root, STACK_TYPE)
    found: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for name, urn, message, enforcement in outcome.diagnostics:
        found[(name, urn or root)].append((message, enforcement))
    results: list[Result] = []
    append = results.append
    new = tuple.__new__  # Result's own __new__, without its Python frame: about 300,000 verdicts a province
    nothing: set[str] = set()

    for policy in info.policies:
        name = policy.name
        level = levels[name]
        if level == "disabled":
            continue
        severity = policy.severity
        skipped = outcome.not_applicable.get(name, nothing)
        if policy.kind == "resource":
            urns = [resource.urn for resource in analyzed if resource.urn not in skipped]
        elif "" not in skipped:
            # A stack rule reports at the resources it blames (or at the stack); silence is a pass for the stack.
            urns = sorted(urn for (rule, urn) in found if rule == name) or [root]
        else:
            continue
        for urn in urns:
            hits = found.get((name, urn)) if found else None
            if hits:
                for message, enforcement in hits:
                    append(new(Result, (stack, name, urn, types.get(urn, ""), "failed", enforcement, severity, message, None, "", None)))
            else:
                append(new(Result, (stack, name, urn, types.get(urn, ""), "passed", level, severity, "", None, "", None)))
    return results


def stack_verdicts(outcome: StackOutcome, info: PackInfo, levels: dict[str, str]) -> StackVerdicts:
    state = outcome.stack
    return StackVerdicts(state.stack, state.kind, state.tenant, tuple(stack_results(outcome, info, levels)))


class ReportContext:
    """What a stack's part of the report is made of besides its verdicts: the waivers that may
    match its findings, with their state on the day of the check, and the inventory file its
    findings are located in (``Locator.context``). The verdict cache keeps report parts under it."""

    def __init__(self, env: Environment, locator: Locator, today: dt.date):
        self._locator = locator
        self._made: dict[str, list | None] = {}
        self._by_tenant: dict[str, list] = defaultdict(list)
        self._by_stack: dict[str, list] = defaultdict(list)
        self._by_urn: list = []  # a URN pattern may match a resource of any stack
        for waiver in env.waivers:
            scope = waiver.scope
            row = [waiver.id, waiver.rule, scope.tenant, scope.stack, scope.urn, waiver.reason, waiver.approver,
                   waiver.created.isoformat(), waiver.expires.isoformat(), waiver_state(waiver, today)]
            if scope.tenant is not None:
                self._by_tenant[scope.tenant].append(row)
            elif scope.stack is not None:
                self._by_stack[scope.stack].append(row)
            else:
                self._by_urn.append(row)

    def of(self, stack: Stack) -> list | None:
        """The stack's context (None: its part cannot be kept, its lines could change unseen)."""
        if stack.name not in self._made:
            located = self._locator.context(stack.kind, stack.tenant, stack.cluster)
            self._made[stack.name] = None if located is None else [
                located, self._by_tenant.get(stack.tenant or "", []), self._by_stack.get(stack.name, []), self._by_urn]
        return self._made[stack.name]


def stack_report(stack: StackVerdicts, env: Environment, today: dt.date, locator: Locator, cluster: str, digest: str,
                 state_file: str) -> StackReport:
    """One stack's part of the report: waivers applied on ``today``, findings located."""
    results, used = apply_waivers(stack.results, env.waivers, stack.tenant, today)
    results = [r if r.status == "passed" else r._replace(source=locator.locate(stack.kind, stack.tenant, cluster, r.rule))
               for r in results]
    return StackReport(stack.stack, stack.kind, stack.tenant, digest, state_file, tuple(sorted(results, key=Result.sort_key)),
                       waivers_applied=used)


def build_report(env: Environment, session: Session, pack_dir: Path, render_dir: Path, today: dt.date,
                 verdicts: Iterable[StackVerdicts | ReportPart], digests: dict[str, str], pack: str | None = None,
                 locator: Locator | None = None) -> CheckReport:
    """The report: waivers applied on ``today`` to each stack's verdicts (a part from the verdict
    cache has them applied already), and the pack's rules."""
    reports: list[StackReport] = []
    locator = locator or Locator(env)
    clusters = {s.name: s.cluster for s in env.stacks}
    shown = display_path(render_dir)  # once: the stacks' files are below it
    under = "" if shown == "." else shown.rstrip("/") + "/"
    for stack in verdicts:
        state_file = f"{under}{stack.stack}/{STATE_FILE}"
        if isinstance(stack, ReportPart):
            reports.append(StackReport(stack.stack, stack.kind, stack.tenant, digests[stack.stack], state_file, fragment=stack.fragment,
                                       counts=stack.counts, blocking=stack.blocking, waivers_applied=stack.waivers_applied))
        else:
            reports.append(stack_report(stack, env, today, locator, clusters.get(stack.stack, ""), digests[stack.stack], state_file))
    applied = {waiver for report in reports for waiver in report.waivers_applied}
    metadata = {r.id: r.metadata() for r in rules()}
    rule_rows = []
    for policy in session.info.policies:
        row = dict(metadata.get(policy.name, {"id": policy.name, "title": policy.description}))
        row["enforcement"] = session.levels[policy.name]
        rule_rows.append(row)
    return CheckReport(
        env=env.name,
        today=today.isoformat(),
        pack={
            "name": session.info.name,
            "version": session.info.version,
            "digest": pack or pack_digest(pack_dir),
            "config_digest": session.config_digest,
        },
        rules=tuple(rule_rows),
        stacks=tuple(sorted(reports, key=lambda s: s.stack)),
        waivers=tuple(waiver_summary(env.waivers, applied, today)),
    )


class CheckSession:
    """Pack processes configured for one environment, checking as many stacks as asked.

    ``workers`` pack processes share the stacks (one per core pays off on big environments);
    each is started and configured once, however many stacks it checks. ``config`` spares
    building the environment's pack configuration again when the caller has it.
    """

    def __init__(self, env: Environment, pack_dir: Path, render_dir: Path | None = None, workers: int = 1,
                 config: dict | None = None, validated: bool = False, fact_traces: Path | None = None,
                 spawned: PackProcess | None = None, requests: tuple[VerdictCache, str] | None = None):
        self.env = env
        self.pack_dir = pack_dir
        self.render_dir = render_dir or default_render_dir(Path("build"), env.name)
        self.config = config if config is not None else build_config(env)
        # fact_traces: a directory where each pack records the facts each stack's rules read
        self._packs = [PackProcess(pack_dir, fact_traces / f"pack-{i}.jsonl" if fact_traces else None)
                       for i in range(max(1, workers) - (spawned is not None))]
        if spawned is not None:  # started ahead (``spawn_ahead``): it takes the first share
            self._packs.insert(0, spawned)
        self._validated = validated
        self._requests = requests  # a cache of the Configure request, and its key there (``configure_key``)
        self._opened: Future | None = None  # open_in_background's

    @property
    def workers(self) -> int:
        return len(self._packs)

    def open_in_background(self) -> None:
        """Start and configure the packs on a thread of their own (it mostly waits for them, on
        the other core): ``with`` then waits for it, and raises what it raised."""
        opening = ThreadPoolExecutor(1, thread_name_prefix="govcloud-pack")
        self._opened = opening.submit(self._open)
        opening.shutdown(wait=False)  # its one thread ends with the start

    @functools.cached_property
    def config_digest(self) -> str:
        return config_digest(self.config)

    @property
    def session(self) -> Session:
        return Session(self.info, self.levels, self.config_digest)

    def __enter__(self) -> "CheckSession":
        opened, self._opened = self._opened, None
        return opened.result() if opened is not None else self._open()

    def _open(self) -> "CheckSession":
        try:
            self._parallel(lambda pack: pack.start())
            self.info = self._packs[0].info()
            require_known_rules(self.env, (p.name for p in self.info.policies))
            reconciled = reconcile_config(self.info, self.config, validate=False)
            request = self._configure_request(reconciled)  # once for every pack
            # The packs take their configuration on threads of their own while it is checked
            # against the rules' schemas here; a configuration that fails is reported all the same.
            configuring = ThreadPoolExecutor(1, thread_name_prefix="govcloud-configure")
            configured = configuring.submit(self._parallel, lambda pack: pack.configure(reconciled, request))
            configuring.shutdown(wait=False)
            try:
                if not self._validated:
                    reconcile_config(self.info, self.config, validate=True)
            finally:
                configured.exception()  # waits: never closed under a Configure going on
            configured.result()
        except BaseException:
            self._close()  # not __exit__: on the background thread, that would wait for itself
            raise
        self.levels = {name: entry["enforcementLevel"] for name, entry in reconciled.items()}
        return self

    def _configure_request(self, reconciled: dict[str, dict[str, Any]]) -> Any:
        if self._requests is None:
            return configure_request(reconciled)
        cache, key = self._requests
        request = cache.request(key)
        if request is None:
            request = configure_request(reconciled).SerializeToString(deterministic=True)
            cache.store_request(key, request)
        if any(pack.configured != request for pack in self._packs):  # the next pack started ahead takes it
            cache.sent_request(key)
        return request

    def __exit__(self, *exc) -> None:
        opened, self._opened = self._opened, None
        if opened is not None:  # never closed under a start still going on
            opened.exception()
        self._close()

    def _close(self) -> None:
        for pack in self._packs:
            pack.close()

    def _parallel(self, work: Callable[[PackProcess], object]) -> list:
        if len(self._packs) == 1:
            return [work(self._packs[0])]
        with ThreadPoolExecutor(len(self._packs)) as pool:
            return list(pool.map(work, self._packs))

    def _analyze(self, states: list[StackState], progress: Callable[[str], None] | None,
                 convert: Callable[[StackOutcome], T]) -> list[T]:
        """Every stack through one of the packs; ``convert`` of each outcome (on the thread that
        drove its pack, while the packs go on with the next stacks), in the order of ``states``."""
        shares: list[list[int]] = [[] for _ in self._packs]
        loads = [0] * len(self._packs)
        for index in sorted(range(len(states)), key=lambda i: -len(states[i].resources)):
            least = loads.index(min(loads))
            shares[least].append(index)
            loads[least] += len(states[index].resources) + 1
        outcomes: list[T | None] = [None] * len(states)

        def run(pack: PackProcess) -> None:
            share = shares[self._packs.index(pack)]
            for index, outcome in zip(share, pack.analyze(states[i] for i in share), strict=True):
                outcomes[index] = convert(outcome)
                if progress is not None:
                    progress(outcome.stack.stack)

        with fewer_collections():
            self._parallel(run)
        return [o for o in outcomes if o is not None]

    def verdicts(self, states: list[StackState], progress: Callable[[str], None] | None = None) -> list[StackVerdicts]:
        """Every stack's verdicts before waivers, in the order of ``states``."""
        return self._analyze(states, progress, lambda outcome: stack_verdicts(outcome, self.info, self.levels))

    def check(self, states: list[StackState], today: dt.date, progress: Callable[[str], None] | None = None,
              digests: dict[str, str] | None = None) -> CheckReport:
        """Check ``states``; ``digests`` (by stack) spares recomputing the digests of files just read."""
        given = digests or {}
        digests = {s.stack: given.get(s.stack) or s.digest() for s in states}
        return build_report(self.env, self.session, self.pack_dir, self.render_dir, today, self.verdicts(states, progress), digests)


def spawn_ahead(pack_dir: Path, scope: contextlib.ExitStack, cache: VerdictCache | None = None) -> PackProcess | None:
    """A pack process started before the check knows it needs one: its interpreter and SDK
    take over a second to come up, on the other core, while the model loads. For a re-check
    where a stack was rendered since the last (``VerdictCache.rendered_since``); closed with
    ``scope`` unless a check takes it (``check_stacks(spawned=...)``). None if it cannot be
    started: the check then starts its own and says why. It is connected to and given the last
    run's configuration (``cache.last_request``) on a thread: a province's takes the pack a
    third of a second, and the check sends it again only if this run's differs."""
    traces = Path(scope.enter_context(tempfile.TemporaryDirectory(prefix="govcloud-facts-")))
    try:
        pack = PackProcess(pack_dir, traces / "pack-ahead.jsonl")
        scope.callback(pack.close)
        pack.spawn()
    except (PackError, OSError):
        return None
    pack.warm_up(cache.last_request if cache is not None else None)
    return pack


def default_workers(states: list[StackState]) -> int:
    """One pack per core once there is enough to share; starting a pack costs about a second."""
    resources = sum(len(s.resources) for s in states)
    return max(1, min(os.cpu_count() or 1, resources // 5000 + 1))


def run_check(
    env: Environment,
    states: list[StackState],
    pack_dir: Path,
    today: dt.date,
    render_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    digests: dict[str, str] | None = None,
) -> CheckReport:
    with CheckSession(env, pack_dir, render_dir, workers=default_workers(states)) as session:
        return session.check(states, today, progress, digests)


def check_stacks(
    env: Environment,
    names: list[str],
    pack_dir: Path,
    today: dt.date,
    render_dir: Path,
    cache: VerdictCache | None = None,
    progress: Callable[[str], None] | None = None,
    spawned: PackProcess | None = None,
) -> CheckReport:
    """``govcloud check``: the stacks named, their verdicts from ``cache`` where the pack would
    see exactly what it saw then (see ``govcloud.check.cache``), from the pack for the rest.
    The report is the same, byte for byte, with or without the cache."""
    digests = file_digests(render_dir, env, names)
    facts = build_facts(env)
    config = build_config(env, facts)
    found: dict[str, StackVerdicts | ReportPart] = {}
    locator = Locator(env, cache.locations() if cache is not None else None)
    context = ReportContext(env, locator, today)
    stacks = {s.name: s for s in env.stacks}
    session, session_key, request_key, pack, validated = None, "", "", None, False
    fact_digests = FactDigests(facts)
    config_print = fingerprint(config)
    with contextlib.ExitStack() as scope:
        traces = Path(scope.enter_context(tempfile.TemporaryDirectory(prefix="govcloud-facts-")))

        ahead = [spawned] if spawned is not None and cache is not None else []  # it records the facts read

        def packs_for(states: list[StackState]) -> CheckSession:
            checking = CheckSession(env, pack_dir, render_dir, workers=default_workers(states), config=config,
                                    validated=session is not None and validated,  # passed this pack's schemas before
                                    fact_traces=traces if cache is not None else None, spawned=ahead.pop() if ahead else None,
                                    requests=(cache, request_key) if cache is not None else None)
            scope.callback(checking.__exit__)
            return checking

        early: CheckSession | None = None
        early_states: list[StackState] = []
        if cache is not None:
            resolved = pack_dir.resolve()
            python = pack_python(resolved, pack_metadata(resolved))
            pack = pack_digest(pack_dir)
            session_key = cache.session_key(pack, runtime(python), config)
            request_key = cache.request_key(session_key, config_print)
            cache.keep_request(request_key)
            session = cache.session(session_key)
            if session is not None:
                require_known_rules(env, (p.name for p in session.info.policies))
                # The facts' values are not in the session's key: the report's digest is this run's.
                validated = session.config_fingerprint == config_print
                current_digest = session.config_digest if validated else config_digest(config)
                validated = validated or session.config_digest == current_digest
                session = replace(session, config_digest=current_digest, config_fingerprint=config_print)
                keys = {name: cache.entry_key(session_key, name, digests[name]) for name in names}
                # Stacks without an entry need the pack whatever the facts say: it starts and is
                # configured on the other core while the entries are read (about a second of a
                # one-tenant re-check: the configuration carries the whole province's facts).
                absent = [name for name in names if not cache.has(keys[name])]
                if absent:
                    early_states = load_states(render_dir, env, absent)
                    early = packs_for(early_states)
                    early.open_in_background()
                for name in names:
                    part_context = context.of(stacks[name])
                    hit: StackVerdicts | ReportPart | None = None
                    if part_context is not None:
                        hit = cache.part(keys[name], part_context, name, fact_digests, config_print)
                    if hit is None:
                        hit = cache.get(keys[name], name, fact_digests, config_print)
                    if hit is not None:
                        found[name] = hit
                        if progress is not None:
                            progress(name)
        missing = [name for name in names if name not in found]
        if missing or session is None:
            known = {s.stack: s for s in early_states}
            more = iter(load_states(render_dir, env, [name for name in missing if name not in known]))
            states = [known[name] if name in known else next(more) for name in missing]
            checking = early if early is not None and early.workers >= default_workers(states) else packs_for(states)
            if early is not None and checking is not early:
                early.__exit__()  # the facts changed for many more stacks than had no entry
            with checking:
                fresh = checking.verdicts(states, progress)
                if session is not None:  # the same configuration: its digest is known
                    checking.config_digest = session.config_digest
                session = replace(checking.session, config_fingerprint=config_print)
            read = read_traces(sorted(traces.glob("*.jsonl")) + ([spawned.fact_trace] if spawned is not None else []))
            for stack in fresh:
                found[stack.stack] = stack
            if cache is not None:
                cache.store_session(session_key, session)
                for stack in fresh:
                    found[stack.stack] = stack = replace(stack, reads=fact_digests.reads(lookups_of(read, stack.stack)))
                    cache.put(cache.entry_key(session_key, stack.stack, digests[stack.stack]), stack, stack.reads or [], config_print)
    report = build_report(env, session, pack_dir, render_dir, today, (found[name] for name in names), digests, pack, locator)
    if cache is not None:
        for made in report.stacks:  # the parts this run made, for the next to use as they are
            verdicts = found[made.stack]
            part_context = context.of(stacks[made.stack])
            if isinstance(verdicts, StackVerdicts) and verdicts.reads is not None and part_context is not None:
                entry = cache.entry_key(session_key, made.stack, digests[made.stack])
                cache.put_part(cache.part_key(entry, part_context), made, verdicts.reads, config_print, entry=entry)
        every_stack = set(names) == set(stacks)
        cache.store_parts(every_stack)
        if every_stack:
            cache.prune()
    if cache is not None and locator.learned:
        current = set(env.sources.values())  # lines of files the inventory no longer has go
        lines = {digest: fields for digest, fields in cache.locations().items() if digest in current}
        for digest, fields in locator.learned.items():
            lines[digest] = {**lines.get(digest, {}), **fields}
        cache.store_locations(lines)
    if cache is not None:
        cache.mark_checked()
    return report
