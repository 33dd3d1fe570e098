"""govcloud deploy drives the pulumi CLI: order, arguments, failure handling, missing CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from govcloud import deploy
from govcloud.model import load_environment

from .conftest import LAB_INVENTORIES, REPO

FAKE_PULUMI = """#!/bin/sh
# Stands in for the pulumi CLI: records each call; fails for the stack named in FAIL_STACK.
echo "$*" >> "$CALLS"
case "$*" in *"--stack $FAIL_STACK "*) exit 3;; esac
exit 0
"""


@pytest.fixture
def fake_cli(tmp_path, monkeypatch):
    cli = tmp_path / "bin" / "pulumi"
    cli.parent.mkdir()
    cli.write_text(FAKE_PULUMI, encoding="utf-8")
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("CALLS", str(calls))
    monkeypatch.setenv("FAIL_STACK", "none")
    monkeypatch.setenv("PATH", f"{cli.parent}{os.pathsep}{os.environ['PATH']}")
    project = tmp_path / "project"
    (project / "policies").mkdir(parents=True)
    return calls, project


def test_foundations_first_then_tenants_with_the_policy_pack(fake_cli, tmp_path):
    calls, project = fake_cli
    env = load_environment("lab", LAB_INVENTORIES)
    deployment = deploy.Deployment(env, preview=True, logs=tmp_path / "logs", project_dir=project, cli=deploy.pulumi_cli())
    outcomes = deploy.run(deployment, *deploy.plan(env, None), jobs=3)
    assert [o.status for o in outcomes] == ["ok"] * 11
    lines = calls.read_text(encoding="utf-8").splitlines()
    stacks = [line.split("--stack ")[1].split()[0] for line in lines]
    assert set(stacks[:3]) == {"lab.cluster-egov-1", "lab.cluster-internet-1", "lab.cluster-intranet-1"}
    assert set(stacks[3:]) == {s.name for s in env.stacks if s.kind == "tenant"}
    for line in lines:
        assert line.startswith("preview ") and f"--policy-pack {project / 'policies'}" in line and "--non-interactive" in line
    assert (tmp_path / "logs" / "lab.t-430100-health.log").read_text(encoding="utf-8").startswith("$ ")


def test_up_and_a_failed_foundation_skips_its_tenants(fake_cli, tmp_path, monkeypatch):
    calls, project = fake_cli
    monkeypatch.setenv("FAIL_STACK", "lab.cluster-intranet-1")
    env = load_environment("lab", LAB_INVENTORIES)
    deployment = deploy.Deployment(env, preview=False, logs=tmp_path / "logs", project_dir=project, cli=deploy.pulumi_cli(),
                                   gate=lambda stack: None)  # every stack certified (the gate has its own tests)
    outcomes = {o.stack: o for o in deploy.run(deployment, *deploy.plan(env, None), jobs=2)}
    assert outcomes["lab.cluster-intranet-1"].status == "failed"
    assert outcomes["lab.t-430000-finance"].status == "skipped" and outcomes["lab.t-430000-pubsec"].status == "skipped"
    assert outcomes["lab.t-430100-health"].status == "ok"
    lines = calls.read_text(encoding="utf-8").splitlines()
    assert all(line.startswith("up ") and "--yes" in line for line in lines)
    assert not [line for line in lines if "t-430000-finance" in line]


def test_one_stack_and_unknown_stack(fake_cli):
    env = load_environment("lab", LAB_INVENTORIES)
    assert deploy.plan(env, "lab.t-430100-health") == ([], [env.stack("lab.t-430100-health")])
    with pytest.raises(deploy.DeployError, match="not implied"):
        deploy.plan(env, "lab.t-1-x")


def test_a_missing_policy_pack_stops_before_any_run(fake_cli, tmp_path):
    calls, project = fake_cli
    env = load_environment("lab", LAB_INVENTORIES)
    deployment = deploy.Deployment(env, preview=True, logs=tmp_path / "logs", project_dir=tmp_path / "empty")
    with pytest.raises(deploy.DeployError, match="policy pack"):
        deploy.run(deployment, *deploy.plan(env, None), jobs=1)
    assert not calls.exists()


def test_missing_cli_is_one_clear_line_and_exit_2(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # nothing named pulumi here
    done = subprocess.run([str(Path(sys.executable).parent / "govcloud"), "deploy", "--all"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: the pulumi CLI is not installed or not on PATH (see https://www.pulumi.com/docs/install/); "
        "`govcloud render` works without it"]
    assert "Traceback" not in done.stderr
