"""Benchmark of the lab on the embedded inventory (8 hosts + the zone router).

Prints: lab up with a cold image cache (a fresh cache directory: debootstrap runs), lab up with
the warm cache, site.yml converge on fresh hosts, the idempotent re-run, and the verification
of every control; converge and re-run with the controller's CPU seconds. Targets: warm up
< 15 s, converge < 90 s, re-run < 45 s, verification < 60 s.

    .venv/bin/python benchmarks/lab.py [--skip-cold]

Needs root. The lab it builds lives in .lab/bench and is removed at the end. The 2 cores of
this kind of machine may be shared: the load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "modules"))

from govcloud.baseline.verify import Connection, verify  # noqa: E402
from govcloud.hosts.playbook import run_playbook  # noqa: E402
from govcloud.lab.lab import Lab  # noqa: E402
from govcloud.model import load_environment  # noqa: E402

TARGETS = {"lab up (warm cache)": 15.0, "site.yml converge": 90.0, "site.yml re-run (idempotent)": 45.0, "verification": 60.0}


def figure(name: str, seconds: float, note: str = "") -> None:
    target = TARGETS.get(name)
    verdict = "" if target is None else (f"  target < {target:.0f} s: {'met' if seconds < target else 'MISSED'}")
    load = os.getloadavg()[0]
    print(f"{name:32s} {seconds:7.1f} s{verdict}  (load {load:.1f}){'  ' + note if note else ''}", flush=True)


def controller_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: ansible-playbook and its
    workers, i.e. the controller's share of a run (the hosts' share is not counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def slowest_tasks(times: Path, count: int = 8) -> None:
    """Where a playbook run spent its time (benchmarks/callback_plugins/task_times.py)."""
    if not times.exists():
        return
    tasks = sorted(json.loads(times.read_text()), key=lambda t: -t["seconds"])
    total = sum(t["seconds"] for t in tasks)
    print(f"    {len(tasks)} tasks; the slowest {count}:")
    for t in tasks[:count]:
        print(f"    {t['seconds']:6.1f} s {100 * t['seconds'] / total:4.0f}%  {t['play']}: {t['task']}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-cache lab up (debootstrap, minutes)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/lab.py needs root (the lab)", file=sys.stderr)
        return 2
    env = load_environment("lab", ROOT / "inventories")
    directory = ROOT / ".lab" / "bench" / env.name
    quiet = lambda message: None  # noqa: E731
    print(f"lab benchmark: {len(env.platform.hosts)} hosts + zone router, {os.cpu_count()} cores", flush=True)

    if not args.skip_cold:
        with tempfile.TemporaryDirectory(prefix="govcloud-cold-cache-") as cache:
            os.environ["GOVCLOUD_LAB_CACHE"] = cache
            lab = Lab(env, directory=directory, log=quiet)
            started = time.monotonic()
            lab.up()
            figure("lab up (cold cache)", time.monotonic() - started, "debootstrap + boot")
            lab.down()
        del os.environ["GOVCLOUD_LAB_CACHE"]

    times = directory.parent / "task-times.json"
    os.environ["ANSIBLE_CALLBACK_PLUGINS"] = str(ROOT / "benchmarks" / "callback_plugins")
    os.environ["ANSIBLE_CALLBACKS_ENABLED"] = "task_times"
    os.environ["GOVCLOUD_TASK_TIMES"] = str(times)
    lab = Lab(env, directory=directory, log=quiet)
    try:
        lab.up()  # builds the machine's cache if it is missing; the figure is the next, warm, up
        lab.down()
        started = time.monotonic()
        lab.up()
        figure("lab up (warm cache)", time.monotonic() - started)

        extra = [lab.paths.extra_vars]
        started, cpu = time.monotonic(), controller_cpu()
        first = run_playbook(ROOT / "playbooks", "site.yml", lab.paths.inventory, extra)
        figure("site.yml converge", time.monotonic() - started,
               f"{first.changed} changed, {first.failed} failed, controller {controller_cpu() - cpu:.0f} CPU-s")
        slowest_tasks(times)
        started, cpu = time.monotonic(), controller_cpu()
        second = run_playbook(ROOT / "playbooks", "site.yml", lab.paths.inventory, extra)
        figure("site.yml re-run (idempotent)", time.monotonic() - started,
               f"{second.changed} changed, controller {controller_cpu() - cpu:.0f} CPU-s")
        slowest_tasks(times)
        started = time.monotonic()
        report = verify(env, Connection(lab.paths.ssh_config), ROOT / "playbooks")
        s = report["summary"]
        figure("verification", time.monotonic() - started, f"{s['pass']} pass, {s['fail']} fail on {s['hosts']} hosts")
        return 0 if first.ok and second.ok and second.changed == 0 and s["fail"] == 0 else 1
    finally:
        lab.down()


if __name__ == "__main__":
    sys.exit(main())
