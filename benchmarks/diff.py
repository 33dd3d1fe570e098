"""Benchmark: `govcloud diff` between two revisions of the 4,000-tenant province that differ in
1% of the tenants (40 requests: namespaces added, change reasons reworded, datasets no longer
consumed). Target: under 90 s on 2 cores, policy verdicts included.

The province (`govcloud scale-gen`) is committed to a throwaway git repository, 40 requests
are edited and committed, and the real command line runs once, cold (a fresh process, an
empty inventory cache), rendering with the current code and checking with the policy pack.

    .venv/bin/python benchmarks/diff.py [--tenants 40]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _province import INVENTORIES, NAME, REPO, ensure_province

TARGET_SECONDS = 90.0
TODAY = "2026-11-25"
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.gov.cn",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.gov.cn"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def edit(path: Path, kind: int) -> str:
    """One of three kinds of change to a tenant request; returns what was done."""
    text = path.read_text(encoding="utf-8")
    if kind == 0 and "\nnamespaces:" not in text:
        path.write_text(text.replace("\nadministrators:", "\nnamespaces: [app, data]\nadministrators:", 1), encoding="utf-8")
        return "namespace added"
    if kind == 1 and "  reason: " in text:
        path.write_text(text.replace("  reason: ", "  reason: （二期）", 1), encoding="utf-8")
        return "reason reworded"
    if "  consumes:\n" in text:
        head, _, tail = text.partition("  consumes:\n")
        lines = tail.splitlines(keepends=True)
        # drop the first consumed dataset (its "- dataset:" line and the indented lines after it)
        end = next((i for i, line in enumerate(lines[1:], 1) if line.startswith("  - ") or not line.startswith("    ")), len(lines))
        rest = lines[end:]
        if not any(line.startswith("  - ") for line in rest):
            rest = [line for line in rest if not line.startswith("    ")]
            path.write_text(head + "".join(rest), encoding="utf-8")
        else:
            path.write_text(head + "  consumes:\n" + "".join(rest), encoding="utf-8")
        return "dataset no longer consumed"
    path.write_text(text.replace("  reason: ", "  reason: （调整）", 1), encoding="utf-8")
    return "reason reworded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=40, help="tenant requests to change (default 40 = 1%%)")
    options = parser.parse_args()
    ensure_province()
    with tempfile.TemporaryDirectory(prefix="govcloud-bench-diff-") as scratch:
        root = Path(scratch)
        repo = root / "repo"
        shutil.copytree(INVENTORIES / NAME, repo / "inventories" / NAME, ignore=shutil.ignore_patterns(".generated-*"))
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "the province")
        requests = sorted((repo / "inventories" / NAME / "tenants").glob("*.yaml"))
        step = max(1, len(requests) // options.tenants)
        done: dict[str, int] = {}
        for index, path in enumerate(requests[::step][: options.tenants]):
            what = edit(path, index % 3)
            done[what] = done.get(what, 0) + 1
        git(repo, "commit", "-q", "-am", f"{options.tenants} tenant requests changed")
        out = root / "diff.json"
        command = [str(Path(sys.executable).parent / "govcloud"), "--inventories", str(repo / "inventories"), "diff",
                   "--env", NAME, "--from", "HEAD~1", "--to", "HEAD", "--today", TODAY, "--output", "json", "--out", str(out)]
        env = {**os.environ, "GOVCLOUD_CACHE_DIR": str(root / "cache")}  # cold: no parsed document to reuse
        print(f"== diff of {len(requests)} tenants, {options.tenants} requests changed: "
              + ", ".join(f"{n} {what}" for what, n in sorted(done.items())), flush=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, env=env, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.loads(out.read_text(encoding="utf-8"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary, plan = report["summary"], report["source"]["plan"]
    policy = summary["policy"] or {}
    print(f"stacks: {summary['stacks_compared']} compared, {plan['changed_stacks']} with changed inputs, "
          f"rendered {plan['rendered']['from']} + {plan['rendered']['to']}, checked {plan['checked']['from']} + "
          f"{plan['checked']['to']}, {plan['unchanged_not_rendered']} proven unchanged from input digests")
    print(f"changes: {summary['stacks_changed']} stacks, resources {summary['resources']}; "
          f"policy: {policy.get('new_findings', 0)} new, {policy.get('fixed_findings', 0)} fixed findings")
    print(f"diff of two 4,000-tenant revisions: {elapsed:.1f} s wall (target < {TARGET_SECONDS:.0f} s on 2 cores), "
          f"{cpu:.1f} s CPU, peak RSS {after.ru_maxrss / 1024:.0f} MB -> {'OK' if elapsed < TARGET_SECONDS else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
