"""Benchmark of the lab's control planes (etcd + kube-apiserver per cluster, no nodes).

Prints: the Go builds cold (an empty GOVCLOUD_TOOLS_CACHE, with the machine's Go module and
build caches as they are) and warm; all control planes of the lab up from nothing with the
binaries built (target < 20 s) and again (nothing to do); server-side apply of every rendered
lab object; the admission suite (every case of tests/stacks/admission_cases.py, live); drift
of the lab; and a 300-tenant synthetic province on one control plane: render, apply, drift
(target < 30 s). Peak memory of this process and the high-water RSS of each etcd and
kube-apiserver are printed too.

    .venv/bin/python benchmarks/clusters.py [--skip-cold] [--tenants 300]

Needs root. Its labs live in .lab/bench-clusters and are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "modules"))
sys.path.insert(0, str(ROOT / "tests"))  # the admission suite's cases and runner

from govcloud import toolchain  # noqa: E402
from govcloud.cluster.apply import Applier, desired_objects  # noqa: E402
from govcloud.cluster.planes import ControlPlanes  # noqa: E402
from govcloud.drift.run import run as drift_run  # noqa: E402
from govcloud.model import load_environment  # noqa: E402
from govcloud.render import pipeline  # noqa: E402
from govcloud.scalegen import generate  # noqa: E402

TARGETS = {"control planes up (warm)": 20.0, "drift of the province": 30.0}
COMPONENTS = ("etcd", "kube-apiserver-1.37", "kube-apiserver-1.36")
BENCH = ROOT / ".lab" / "bench-clusters"


def figure(name: str, seconds: float, note: str = "") -> None:
    target = TARGETS.get(name)
    verdict = "" if target is None else f"  target < {target:.0f} s: {'met' if seconds < target else 'MISSED'}"
    print(f"{name:40s} {seconds:7.1f} s{verdict}  (load {os.getloadavg()[0]:.1f}){'  ' + note if note else ''}", flush=True)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_memory(planes: ControlPlanes) -> str:
    parts = []
    for cid, record in sorted(planes._state()["clusters"].items()):
        for what in ("etcd", "apiserver"):
            try:
                status = Path(f"/proc/{record[what + '_pid']}/status").read_text()
                hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
                parts.append(f"{cid} {what} {hwm / 1024:.0f} MiB")
            except (OSError, KeyError, StopIteration):
                continue
    return "; ".join(parts)


def cold_builds() -> None:
    with tempfile.TemporaryDirectory(prefix="govcloud-tools-cold-") as cache:
        os.environ["GOVCLOUD_TOOLS_CACHE"] = cache
        try:
            for name in COMPONENTS:
                started = time.monotonic()
                toolchain.build(name, log=lambda message: None)
                figure(f"build {name} (cold)", time.monotonic() - started, "empty tools cache, warm Go module and build caches")
        finally:
            del os.environ["GOVCLOUD_TOOLS_CACHE"]


def fill(obj, path) -> str:
    return secrets.token_urlsafe(16)


def apply_render(planes: ControlPlanes, out: Path) -> tuple[int, float]:
    objects = desired_objects(out)
    clients = {p.id: planes.access.client(p.cluster.kube_context) for p in planes.planes}
    try:
        started = time.monotonic()
        results = Applier(clients).apply_all(objects, fill)
        seconds = time.monotonic() - started
    finally:
        for api in clients.values():
            api.close()
    errors = [f"{o.label}: {e}" for o, e in results if e]
    if errors:
        raise SystemExit(f"apply refused {len(errors)} objects, e.g. {errors[0]}")
    return len(objects), seconds


def admission_suite(planes: ControlPlanes, out: Path) -> tuple[int, float]:
    from clusters import test_admission as suite
    from stacks.admission_cases import CASES

    from govcloud.cluster.access import dynamic as dynamic_client

    clients = {p.id: planes.access.client(p.cluster.kube_context) for p in planes.planes}
    submitter = suite.Submitter(planes, {c: dynamic_client(api) for c, api in clients.items()})
    try:
        suite._wait_for_guardrails(submitter)
        started = time.monotonic()
        for case in CASES:
            suite.run_case(submitter, case)
        return len(CASES), time.monotonic() - started
    finally:
        submitter.close()
        for api in clients.values():
            api.close()


def lab(args) -> None:
    env = load_environment("lab", ROOT / "inventories")
    planes = ControlPlanes(env, BENCH / "lab", log=lambda message: None)
    planes.down()
    try:
        started = time.monotonic()
        planes.up()
        figure("control planes up (warm)", time.monotonic() - started, f"{len(planes.planes)} clusters")
        started = time.monotonic()
        planes.up()
        figure("control planes up again (no change)", time.monotonic() - started)
        out = BENCH / "render-lab"
        shutil.rmtree(out, ignore_errors=True)
        pipeline.render(env, ROOT / "inventories", out)
        count, seconds = apply_render(planes, out)
        figure("apply of the lab's rendered objects", seconds, f"{count} objects, {count / seconds:.0f} objects/s")
        count, seconds = admission_suite(planes, out)
        figure("admission suite (live)", seconds, f"{count} cases")
        started = time.monotonic()
        report = drift_run(env, ROOT / "inventories", planes, render_dir=out)
        figure("drift of the lab", time.monotonic() - started, f"{report.objects} objects, drift: {report.drifted}")
        print(f"    memory: {process_memory(planes)}")
    finally:
        planes.down()


def synthetic_province(inventories: Path, tenants: int) -> str:
    """A province of ``tenants`` tenants in one zone (one cluster, no public services) under
    ``inventories``; its environment's name. benchmarks/engine.py deploys the same one."""
    name = f"province{tenants}"
    generate(inventories, name, cities=14, counties=122, tenants=tenants, seed=7,
             zone_plan=[("egov-extranet", 100, 1.5)], services=False)
    return name


def province(args) -> None:
    inventories = ROOT / "build" / "inventories"
    name = synthetic_province(inventories, args.tenants)
    env = load_environment(name, inventories)
    planes = ControlPlanes(env, BENCH / name, log=lambda message: None)
    planes.down()
    try:
        started = time.monotonic()
        planes.up()
        figure("province control plane up", time.monotonic() - started, f"{len(planes.planes)} cluster")
        out = BENCH / f"render-{name}"
        shutil.rmtree(out, ignore_errors=True)
        started = time.monotonic()
        pipeline.render(env, inventories, out)
        figure("render of the province", time.monotonic() - started, f"{len(env.stacks)} stacks")
        count, seconds = apply_render(planes, out)
        figure("apply of the province", seconds, f"{count} objects, {count / seconds:.0f} objects/s")
        started = time.monotonic()
        report = drift_run(env, inventories, planes, render_dir=out)
        seconds = time.monotonic() - started
        figure("drift of the province", seconds, f"{report.objects} objects, {len(env.tenants)} tenants, drift: {report.drifted}")
        started = time.monotonic()
        report = drift_run(env, inventories, planes)
        figure("drift of the province with its render", time.monotonic() - started, f"drift: {report.drifted}")
        print(f"    memory: {process_memory(planes)}")
    finally:
        planes.down()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold Go builds")
    parser.add_argument("--tenants", type=int, default=300)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/clusters.py needs root (the lab's network namespace)", file=sys.stderr)
        return 2
    if not args.skip_cold:
        cold_builds()
    for name in COMPONENTS:
        started = time.monotonic()
        toolchain.build(name, log=lambda message: None)
        figure(f"build {name} (warm)", time.monotonic() - started, "already in the cache")
    lab(args)
    province(args)
    print(f"peak memory of the benchmark process: {peak_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
