"""Check and review refuse a render older than the inventory it came from (issue 14), judged by
the input digests the render recorded, not by file times; without a render, one line."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import forkserver
from forkserver import Result

REPO = Path(__file__).resolve().parents[2]
HEALTH = "lab.t-430100-health"


def govcloud(*args, cwd: Path) -> Result:
    return forkserver.govcloud(*args, cwd=cwd, timeout=600, env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "GOVCLOUD_CACHE_DIR": "off"})


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("freshness")
    shutil.copytree(REPO / "inventories" / "lab", root / "inventories" / "lab")
    done = govcloud("render", "-s", HEALTH, "-s", "lab.t-430600-tourism", cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def check(workspace: Path, *stacks: str) -> Result:
    return govcloud("check", *(a for s in stacks for a in ("-s", s)), "--pack", REPO / "policies", "--today", "2026-11-25", cwd=workspace)


def test_a_current_render_is_checked(workspace: Path) -> None:
    done = check(workspace, HEALTH, "lab.t-430600-tourism")
    assert done.returncode == 0, done.stderr
    assert (workspace / "build/render/lab" / HEALTH / "inputs.json").is_file()


def test_a_render_older_than_the_inventory_is_refused_in_one_line(workspace: Path) -> None:
    request = workspace / "inventories/lab/tenants/t-430100-health.yaml"
    original = request.read_text(encoding="utf-8")
    try:
        request.write_text(original.replace('cpu: "16"', 'cpu: "12"'), encoding="utf-8")
        for done in (check(workspace, HEALTH),
                     govcloud("review", "-s", HEALTH, "--reviewer", "sec-liwei", "--key", "/nonexistent.key", "--pack", REPO / "policies",
                              cwd=workspace)):
            assert done.returncode == 2, done.stdout + done.stderr
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and "older than the inventory" in lines[0], done.stderr
            assert "tenants/t-430100-health.yaml" in lines[0] and "govcloud render" in lines[0]
        # Tourism reads no part of health's request: its render is still current (edu, which consumes a health dataset, is not).
        assert check(workspace, "lab.t-430600-tourism").returncode == 0
    finally:
        request.write_text(original, encoding="utf-8")


def test_the_digests_decide_not_the_file_times(workspace: Path) -> None:
    """Touching the request (same content, newer time) is no change; editing it back is none either."""
    request = workspace / "inventories/lab/tenants/t-430100-health.yaml"
    later = time.time() + 3600
    os.utime(request, (later, later))
    assert check(workspace, HEALTH).returncode == 0


def test_no_render_is_one_line_not_one_per_stack(tmp_path: Path) -> None:
    shutil.copytree(REPO / "inventories" / "lab", tmp_path / "inventories" / "lab")
    done = check(tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["error: no render of lab in build/render/lab: run `govcloud render --env lab` first"], done.stderr
