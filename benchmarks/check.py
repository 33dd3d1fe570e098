"""Benchmark: `govcloud check` over the 4,000-tenant synthetic province.

Makes the province (`govcloud scale-gen`) and renders it (`govcloud render`) when they are
missing or older than the inventory, then checks every stack through the policy pack the way
`govcloud check` does and prints the figures. Target: under 60 s on 2 cores.

    .venv/bin/python benchmarks/check.py [--stacks N] [--workers N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVENTORIES = ROOT / "build" / "inventories"
BUILD = ROOT / "build"
TARGET_SECONDS = 60.0


def govcloud(*args: str) -> None:
    subprocess.run([sys.executable, "-c", "from govcloud.cli import main; main()", *args], cwd=ROOT, check=True)


def newest(path: Path) -> float:
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


def prepare() -> None:
    province = INVENTORIES / "province"
    if not (province / "platform.yaml").exists():
        print("== scale-gen: the 4,000-tenant province", flush=True)
        govcloud("scale-gen")
    render = BUILD / "render" / "province"
    if not render.is_dir() or newest(render) < newest(province):
        print("== render the province (once; reused while the inventory is unchanged)", flush=True)
        govcloud("--inventories", str(INVENTORIES), "render", "--env", "province")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=0, help="check only the first N stacks (0: all)")
    parser.add_argument("--workers", type=int, default=0, help="pack processes (0: the check's default)")
    options = parser.parse_args()
    prepare()

    from govcloud.check.run import CheckSession, default_workers, file_digests, load_states
    from govcloud.model import load_environment

    own_before, packs_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = load_environment("province", INVENTORIES)
    loaded = time.perf_counter()
    names = [s.name for s in env.stacks]
    if options.stacks:
        names = names[: options.stacks]
    states = load_states(BUILD / "render" / env.name, env, names)
    digests = file_digests(BUILD / "render" / env.name, names)
    read = time.perf_counter()
    workers = options.workers or default_workers(states)
    with CheckSession(env, ROOT / "policies", BUILD / "render" / env.name, workers=workers) as session:
        configured = time.perf_counter()
        report = session.check(states, dt.date.today(), digests=digests)
    finished = time.perf_counter()

    resources = sum(len(s.resources) for s in states)
    results = report.results
    statuses = Counter(r.status for r in results)
    checking = finished - configured
    total = finished - started
    print(f"stacks            {len(states):>10,}")
    print(f"resources         {resources:>10,}")
    print(f"verdicts          {len(results):>10,}  ({statuses['passed']:,} passed, {statuses['failed']:,} failed, {statuses['waived']:,} waived)")
    print(f"pack processes    {workers:>10}   (cores: {os.cpu_count()})")
    print(f"load model        {loaded - started:>10.1f} s")
    print(f"read states       {read - loaded:>10.1f} s")
    print(f"start+configure   {configured - read:>10.1f} s")
    print(f"analyze           {checking:>10.1f} s")
    print(f"total             {total:>10.1f} s   (target < {TARGET_SECONDS:.0f} s: {'met' if total < TARGET_SECONDS else 'NOT met'})")
    own, packs = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)

    def cpu(after, before) -> float:
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    print(f"cpu               {cpu(own, own_before):>10.1f} s in this process, {cpu(packs, packs_before):.1f} s in the packs "
          f"(load average {os.getloadavg()[0]:.1f}: other work shares the cores)")
    print(f"findings/s        {len(results) / checking:>10,.0f}   (verdicts per second of analysis)")
    print(f"resources/s       {resources / checking:>10,.0f}")
    top = Counter(r.rule for r in results if r.status == "failed").most_common(5)
    if top:
        print("most failed rules  " + ", ".join(f"{rule} x{count}" for rule, count in top))


if __name__ == "__main__":
    main()
