"""``govcloud render``: every stack of an environment, offline, validated, byte-for-byte stable.

Foundation stacks render first (their outputs answer the tenants' StackReferences), then the
tenant stacks, in parallel across cores: worker processes forked after the model is loaded, so
each loads nothing and renders many stacks. Each stack writes ``state.json`` and
``manifests.yaml`` into ``<out>/<stack>/``; a stack that fails writes nothing (stale files of
it are removed) and the render fails, naming stack, resource and field.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from .. import state as state_format
from ..components import program as stack_program
from ..model import Environment, Stack
from ..model.inputs import render_inputs, tenant_sources
from . import desired, schemas
from .runtime import RenderError, run_program

PROGRAM = stack_program.PROJECT_DIR / "stacks"
PROJECT = "govcloud"
BATCH = 16


@dataclass
class StackResult:
    stack: str
    resources: int = 0
    objects: int = 0
    digest: str | None = None
    errors: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Job:
    env: Environment
    inventories: Path
    out: Path
    program: Path = PROGRAM
    foundation_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, str] | None = None  # tenant id -> its request in env.sources (model.inputs), found once

    def config(self, stack: Stack) -> stack_program.StackConfiguration:
        """The stack's configuration as the engine gets it, secrets as placeholders."""
        return stack_program.stack_configuration(self.env, stack, self.inventories)


def _dump_manifests(manifests: list[desired.Manifest]) -> str:
    return yaml.dump_all([m.redacted for m in manifests], Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                         sort_keys=True, allow_unicode=True, default_flow_style=False, explicit_start=True, width=1000)


def render_one(job: Job, stack: Stack) -> StackResult:
    """Run the program for one stack, validate its manifests, write its files."""
    result = StackResult(stack.name)
    directory = job.out / stack.name
    env = job.env
    cluster = env.cluster(stack.cluster)
    try:
        config = job.config(stack)
        rendered = run_program(job.program, stack.name, project=PROJECT, config=config.values(),
                               secret_keys=sorted(config.secret), stack_outputs=job.foundation_outputs)
        stack_state, manifests = desired.build(rendered, env=env.name, kind=stack.kind, cluster=cluster.id,
                                               kubernetes_version=cluster.kubernetes_version, tenant=stack.tenant,
                                               project=PROJECT)
    except RenderError as exc:
        result.errors.append(f"{stack.name}: {exc}")
        _remove(directory)
        return result
    versions = {c.kube_context: c.kubernetes_version for c in env.platform.clusters}
    for manifest in manifests:
        version = versions.get(manifest.cluster_context or "", cluster.kubernetes_version)
        for problem in schemas.manifest_errors(manifest.plain, version):
            result.errors.append(f"{stack.name}: {manifest.urn}: {problem} (Kubernetes {version})")
    if result.errors:
        _remove(directory)
        return result
    directory.mkdir(parents=True, exist_ok=True)
    text = stack_state.to_json()  # once: written and digested (RFC 8785 is encoded in Python, slowly)
    (directory / state_format.STATE_FILE).write_text(text, encoding="utf-8")
    (directory / state_format.MANIFESTS_FILE).write_text(_dump_manifests(manifests), encoding="utf-8")
    # What it was rendered from: check and review refuse a render older than the inventory.
    (directory / state_format.INPUTS_FILE).write_text(json.dumps(
        {"format": state_format.INPUTS_FORMAT, "env": env.name, "stack": stack.name, "inputs": render_inputs(env, stack, job.requests)},
        sort_keys=True, indent=2) + "\n", encoding="utf-8")
    result.resources = len(stack_state.resources)
    result.objects = len(manifests)
    result.digest = state_format.digest_of(text)
    result.outputs = rendered.outputs
    return result


def _remove(directory: Path) -> None:
    for name in (state_format.STATE_FILE, state_format.MANIFESTS_FILE, state_format.INPUTS_FILE):
        (directory / name).unlink(missing_ok=True)


# -- worker processes ------------------------------------------------------------------------
_JOB: Job | None = None


def _render_batch(job: Job, names: list[str]) -> list[StackResult]:
    # The mock runtime allocates many short-lived cycles; collecting once per batch instead of
    # on every allocation threshold saves a fifth of the CPU time.
    gc.disable()
    try:
        return [render_one(job, job.env.stack(n)) for n in names]
    finally:
        gc.enable()
        gc.collect()


def _worker_batch(names: list[str]) -> list[StackResult]:
    assert _JOB is not None
    return _render_batch(_JOB, names)


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def render(env: Environment, inventories: Path, out: Path, *, only: list[str] | None = None, jobs: int | None = None,
           program: Path = PROGRAM, progress: Callable[[int], None] | None = None) -> list[StackResult]:
    """Render ``only`` (stack names) or every stack of ``env`` into ``out``; results in stack order."""
    targets = [env.stack(n) for n in only] if only else list(env.stacks)
    stack_program.remember(env, inventories)
    job = Job(env, inventories, out, program, requests=tenant_sources(env))
    results: dict[str, StackResult] = {}

    def collect(batch: list[StackResult]) -> None:
        for result in batch:
            results[result.stack] = result
        if progress:
            progress(len(batch))

    _render_foundations(job, targets, collect, results)
    failed = {name for name, result in results.items() if not result.ok}  # only foundations so far
    tenants: list[str] = []
    for stack in (s for s in targets if s.kind == "tenant"):
        blocked = sorted(f.name for f in stack_program.foundations_needed(env, [stack]) if f.name in failed)
        if blocked:
            collect([StackResult(stack.name, errors=[f"{stack.name}: foundation {', '.join(blocked)} failed to render"])])
        else:
            tenants.append(stack.name)
    _render_tenants(job, tenants, jobs, collect)
    if not only:
        _remove_stale(out, {s.name for s in env.stacks})
    return [results[s.name] for s in env.stacks if s.name in results]


def _render_foundations(job: Job, targets: list[Stack], collect: Callable[[list[StackResult]], None],
                        results: dict[str, StackResult]) -> None:
    """Foundations first: few and small, in this process; their outputs answer every tenant's
    StackReferences. Foundations only needed for their outputs render into a scratch directory;
    those that fail are recorded in ``results`` too."""
    names = {s.name for s in targets}
    for stack in stack_program.foundations_needed(job.env, targets) + [s for s in targets if s.kind == "foundation"]:
        if stack.name in job.foundation_outputs or stack.name in results:
            continue
        wanted = stack.name in names
        result = render_one(replace(job, out=job.out if wanted else job.out / ".scratch"), stack)
        if wanted:
            collect([result])
        elif not result.ok:
            results[stack.name] = result
        if result.ok:
            job.foundation_outputs[stack.name] = result.outputs
    shutil.rmtree(job.out / ".scratch", ignore_errors=True)


def _render_tenants(job: Job, names: list[str], jobs: int | None, collect: Callable[[list[StackResult]], None]) -> None:
    global _JOB
    batches = list(_batches(names, BATCH))
    workers = min(jobs or os.cpu_count() or 1, len(batches))
    if workers <= 1:
        for batch in batches:
            collect(_render_batch(job, batch))
        return
    _JOB = job
    gc.collect()
    gc.freeze()  # the model is shared copy-on-write with the workers; keep the collector off it
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for rendered in pool.imap_unordered(_worker_batch, batches):
                collect(rendered)
    finally:
        _JOB = None
        gc.unfreeze()


def _remove_stale(out: Path, current: set[str]) -> None:
    """Stacks the model no longer implies leave no files behind after a full render."""
    if not out.is_dir():
        return
    for directory in out.iterdir():
        if directory.is_dir() and directory.name not in current and (directory / state_format.STATE_FILE).is_file():
            _remove(directory)
            if not any(directory.iterdir()):
                directory.rmdir()
