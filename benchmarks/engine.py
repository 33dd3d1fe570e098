"""Benchmark of the engine path on the lab's control planes, step by step as CI runs it
(tests/engine/flow.py: the same lab of its own, inventory copy, reviewer key and trust store).

Prints: the control planes up; a full deploy from an empty backend (foundations: preview,
review, up; then the tenants: preview, review, up) with each step; a one-tenant change (its
request edited, preview, review, deploy of that stack); and a no-change deploy of every stack
(preview, then deploy --expect-no-changes). Each step is a `govcloud` command, timed from
outside.

With --province N instead: an N-tenant synthetic province (benchmarks/clusters.py's, one
cluster) with its control plane up in a lab of its own, deployed from an empty backend the same
way (foundations: preview, review, up; then the tenants), each step printed, then the total,
stacks per minute and the high-water memory of its etcd and kube-apiserver.

    .venv/bin/python benchmarks/engine.py [--province N]

Needs root and the built engine (`make binaries`). Its lab lives in a temporary directory and
is torn down at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "modules"))
sys.path.insert(0, str(ROOT / "tests"))  # the engine flow the tests walk

from engine import flow  # noqa: E402

from govcloud.cluster.planes import ControlPlanes  # noqa: E402

TENANT = "t-430600-edu"


def figure(name: str, seconds: float, note: str = "") -> None:
    print(f"{name:44s} {seconds:7.1f} s  (load {os.getloadavg()[0]:.1f}){'  ' + note if note else ''}", flush=True)


def steps(site: flow.Site, since: dict[str, float]) -> str:
    return ", ".join(f"{label} {seconds - since.get(label, 0.0):.1f} s" for label, seconds in site.timings.items()
                     if seconds - since.get(label, 0.0) > 0)


def clusters_benchmark():
    """benchmarks/clusters.py (its synthetic province and memory figures), by path: tests/clusters
    is first on the path under the same name."""
    spec = importlib.util.spec_from_file_location("bench_clusters", ROOT / "benchmarks" / "clusters.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def approve(site: flow.Site) -> int:
    """The security review recorded for every MLPS 3+ tenant (the generator leaves it out, and the
    pack inside the engine rightly stops such a tenant: GOV-MGT-005). Returns how many."""
    count = 0
    for path in sorted((site.inventories / site.env_name / "tenants").glob("*.yaml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if int(next(line.split(":")[1] for line in lines if line.startswith("mlps_level:"))) < 3:
            continue
        at = lines.index("change:") + 1
        lines.insert(at, f"  approvals:\n  - {{by: {flow.REVIEWER}, role: 安全审查, date: 2026-11-05, reference: BENCH-{path.stem}}}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        count += 1
    return count


def province(tenants: int) -> None:
    clusters = clusters_benchmark()
    with tempfile.TemporaryDirectory(prefix="govcloud-bench-engine-province-") as base:
        source = Path(base) / "source"
        started = time.monotonic()
        name = clusters.synthetic_province(source, tenants)
        site = flow.prepare(Path(base), source, env_name=name)
        approved = approve(site)
        env = site.env()
        figure("province generated", time.monotonic() - started,
               f"{name}: {len(env.tenants)} tenants ({approved} at MLPS 3+, their security review added), {len(env.stacks)} stacks")
        planes = ControlPlanes(env, site.lab_root, log=lambda message: None)
        try:
            started = time.monotonic()
            planes.up()
            figure("province control plane up", time.monotonic() - started, f"{len(planes.planes)} cluster")
            started = time.monotonic()
            site.deploy_everything()
            seconds = time.monotonic() - started
            for label, spent in site.timings.items():
                figure(f"  {label}", spent)
            figure("full deploy of the province from empty", seconds,
                   f"{len(env.stacks)} stacks, {len(env.stacks) / seconds * 60:.1f} stacks/min")
            print(f"    memory: {clusters.process_memory(planes)}", flush=True)
        finally:
            planes.down()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--province", type=int, metavar="N", default=0,
                        help="deploy an N-tenant synthetic province instead of the lab")
    args = parser.parse_args()
    reason = flow.missing()
    if reason:
        print(f"benchmarks/engine.py: {reason}", file=sys.stderr)
        return 2
    if args.province:
        province(args.province)
        return 0
    with tempfile.TemporaryDirectory(prefix="govcloud-bench-engine-") as base:
        site = flow.prepare(Path(base), ROOT / "inventories")
        planes = ControlPlanes(site.env(), site.lab_root, log=lambda message: None)
        try:
            started = time.monotonic()
            planes.up()
            figure("control planes up", time.monotonic() - started, f"{len(planes.planes)} clusters")
            stacks = len(site.env().stacks)

            started = time.monotonic()
            site.deploy_everything()
            figure("full deploy from an empty backend", time.monotonic() - started, f"{stacks} stacks: {steps(site, {})}")

            since = dict(site.timings)
            started = time.monotonic()
            flow.set_pods(site, TENANT, 40)
            site.preview(TENANT, label="preview")
            site.review(TENANT, label="review")
            site.deploy(TENANT, label="deploy")
            figure("one-tenant change (preview, review, deploy)", time.monotonic() - started, f"{TENANT}: {steps(site, since)}")

            since = dict(site.timings)
            started = time.monotonic()
            site.preview(label="preview")
            site.deploy(label="deploy", expect_no_changes=True)
            figure("no-change deploy (preview, deploy)", time.monotonic() - started, f"{stacks} stacks: {steps(site, since)}")
        finally:
            planes.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
