"""Benchmark of the engine path on the lab's control planes, step by step as CI runs it
(tests/engine/flow.py: the same lab of its own, inventory copy, reviewer key and trust store).

Prints: the control planes up; a full deploy from an empty backend (foundations: preview,
review, up; then the tenants: preview, review, up) with each step; a one-tenant change (its
request edited, preview, review, deploy of that stack); and a no-change deploy of every stack
(preview, then deploy --expect-no-changes). Each step is a `govcloud` command, timed from
outside. The 100-tenant synthetic province of issue 11 is not measured here yet.

    .venv/bin/python benchmarks/engine.py

Needs root and the built engine (`make binaries`). Its lab lives in a temporary directory and
is torn down at the end.
"""

from __future__ import annotations

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


def main() -> int:
    reason = flow.missing()
    if reason:
        print(f"benchmarks/engine.py: {reason}", file=sys.stderr)
        return 2
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
