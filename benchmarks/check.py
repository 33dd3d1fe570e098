"""Benchmark: `govcloud check` over the 4,000-tenant synthetic province.

Makes the province (`govcloud scale-gen`) and renders it (`govcloud render`) when they are
missing or older than the inventory, then checks every stack through the policy pack the way
`govcloud check` does (with an empty verdict cache, which it fills) and prints the figures.
Then `govcloud check` as a user runs it, re-checking the unchanged province from the verdict
cache, and after one tenant's request changed (more pods; that stack re-rendered, untimed).
Targets on 2 cores: full check under 60 s, unchanged re-check under 5 s, one changed tenant
under 3 s.

    .venv/bin/python benchmarks/check.py [--env NAME] [--stacks N] [--workers N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
INVENTORIES = ROOT / "build" / "inventories"
BUILD = ROOT / "build"
TARGET_SECONDS = 60.0
CACHED_TARGET_SECONDS = 5.0
ONE_CHANGE_TARGET_SECONDS = 3.0
CACHE = BUILD / "cache" / "benchmark-check"


def govcloud(*args: str) -> None:
    subprocess.run([sys.executable, "-c", "from govcloud.cli import main; main()", *args], cwd=ROOT, check=True)


def newest(path: Path) -> float:
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


def prepare(name: str) -> None:
    province = INVENTORIES / name
    if not (province / "platform.yaml").exists():
        print(f"== scale-gen: the synthetic province {name}", flush=True)
        govcloud("scale-gen", "--name", name)
    render = BUILD / "render" / name
    if not render.is_dir() or newest(render) < newest(province):
        print("== render the province (once; reused while the inventory is unchanged)", flush=True)
        govcloud("--inventories", str(INVENTORIES), "render", "--env", name)


def cli_check(name: str) -> tuple[float, float, str]:
    """`govcloud check` as a user runs it (JSON report to a file), with the benchmark's cache."""
    env = {**os.environ, "GOVCLOUD_CACHE_DIR": str(CACHE)}
    command = [str(Path(sys.executable).parent / "govcloud"), "-v", "--inventories", str(INVENTORIES), "check", "--env", name,
               "--output", "json", "--out", str(BUILD / "benchmark-check.json")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode not in (0, 1):
        sys.exit(f"govcloud check failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cached = next((line.split("verdict cache:", 1)[1].strip() for line in done.stderr.splitlines() if "verdict cache:" in line), "?")
    return elapsed, cpu, cached


def render_readers(name: str, request: Path) -> None:
    """Re-render every stack whose render read ``request`` (its own, and those of the tenants that
    consume its datasets), as `govcloud check` asks before it checks a render older than the inventory."""
    import json

    relative = request.relative_to(INVENTORIES / name).as_posix()
    readers = sorted(p.parent.name.split(".", 1)[1] for p in (BUILD / "render" / name).glob("*/inputs.json")
                     if relative in json.loads(p.read_text(encoding="utf-8"))["inputs"])
    govcloud("--inventories", str(INVENTORIES), "render", "--env", name, *[a for s in readers for a in ("--stack", s)])


def one_tenant_changed(name: str) -> tuple[Path, str]:
    """One department asks for more pods: its request changes and the stacks that read it are re-rendered."""
    from govcloud.model import load_environment

    env = load_environment(name, INVENTORIES)
    tenant = env.tenants[len(env.tenants) // 2]
    path = INVENTORIES / name / "tenants" / f"{tenant.id}.yaml"
    original = path.read_text(encoding="utf-8")
    document = yaml.safe_load(original)
    document["quotas"] = {**document.get("quotas", {}), "pods": 23}
    path.write_text("\n".join(line for line in original.splitlines() if line.startswith("#")) + "\n"
                    + yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    render_readers(name, path)
    return path, original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="province", help="the synthetic province to check (made by scale-gen)")
    parser.add_argument("--stacks", type=int, default=0, help="check only the first N stacks (0: all)")
    parser.add_argument("--workers", type=int, default=0, help="pack processes (0: the check's default)")
    options = parser.parse_args()
    prepare(options.env)

    from govcloud.check import run as check_run
    from govcloud.check.cache import VerdictCache
    from govcloud.check.run import check_stacks, default_workers, load_states
    from govcloud.model import load_environment

    shutil.rmtree(CACHE, ignore_errors=True)
    own_before, packs_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = load_environment(options.env, INVENTORIES)
    loaded = time.perf_counter()
    names = [s.name for s in env.stacks]
    if options.stacks:
        names = names[: options.stacks]
    render = BUILD / "render" / env.name
    if options.workers:
        check_run.default_workers = lambda _states: options.workers  # type: ignore[assignment]
    report = check_stacks(env, names, ROOT / "policies", dt.date.today(), render, VerdictCache(CACHE / "check" / env.name))
    finished = time.perf_counter()
    own, packs = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)

    states = load_states(render, env, names)  # for the counts only, after the clock stopped
    resources = sum(len(s.resources) for s in states)
    workers = options.workers or default_workers(states)
    results = report.results
    statuses = Counter(r.status for r in results)
    checking = finished - loaded
    total = finished - started
    print(f"stacks            {len(states):>10,}")
    print(f"resources         {resources:>10,}")
    print(f"verdicts          {len(results):>10,}  ({statuses['passed']:,} passed, {statuses['failed']:,} failed, {statuses['waived']:,} waived)")
    print(f"pack processes    {workers:>10}   (cores: {os.cpu_count()})")
    print(f"load model        {loaded - started:>10.1f} s")
    print(f"check             {checking:>10.1f} s   (read and digest states, start and configure the packs, analyze, fill the cache)")
    print(f"total             {total:>10.1f} s   (target < {TARGET_SECONDS:.0f} s: {'met' if total < TARGET_SECONDS else 'NOT met'})")

    def cpu(after, before) -> float:
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    print(f"cpu               {cpu(own, own_before):>10.1f} s in this process, {cpu(packs, packs_before):.1f} s in the packs "
          f"(load average {os.getloadavg()[0]:.1f}: other work shares the cores)")
    print(f"findings/s        {len(results) / checking:>10,.0f}   (verdicts per second of analysis)")
    print(f"resources/s       {resources / checking:>10,.0f}")
    top = Counter(r.rule for r in results if r.status == "failed").most_common(5)
    if top:
        print("most failed rules  " + ", ".join(f"{rule} x{count}" for rule, count in top))
    if options.stacks:
        return
    print("== govcloud check with the verdict cache (process start, model, digests, report as JSON to a file)", flush=True)
    first, _, _ = cli_check(options.env)  # also fills the inventory cache, as any earlier run would have
    unchanged, cpu_used, cached = cli_check(options.env)
    print(f"no change         {unchanged:>10.1f} s   ({cpu_used:.1f} CPU-s; {cached}; first run {first:.1f} s) "
          f"(target < {CACHED_TARGET_SECONDS:.0f} s: {'met' if unchanged < CACHED_TARGET_SECONDS else 'NOT met'})")
    path, original = one_tenant_changed(options.env)
    try:
        changed, cpu_used, cached = cli_check(options.env)
    finally:
        path.write_text(original, encoding="utf-8")
        render_readers(options.env, path)
    print(f"one tenant changed{changed:>10.1f} s   ({cpu_used:.1f} CPU-s, the pack's included; {cached}) "
          f"(target < {ONE_CHANGE_TARGET_SECONDS:.0f} s: {'met' if changed < ONE_CHANGE_TARGET_SECONDS else 'NOT met'})")


if __name__ == "__main__":
    main()
