"""The review gate in `govcloud deploy`: pulumi up runs only for certified stacks, against a
fresh render of their current desired state."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from govcloud import deploy, review, signing
from govcloud.check.run import CheckSession
from govcloud.cli import main
from govcloud.model import load_environment
from govcloud.render import pipeline
from govcloud.state import STATE_FILE, StackState

from policy_helpers import PACK, copy_lab

HEALTH, EDU = "lab.t-430100-health", "lab.t-430600-edu"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
FAKE_PULUMI = '#!/bin/sh\necho "$*" >> "$CALLS"\nexit 0\n'


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A lab copy rendered and certified for health only; a fake pulumi CLI on PATH."""
    inventories = copy_lab(tmp_path).parent
    env = load_environment("lab", inventories)
    render = tmp_path / "build" / "render" / "lab"
    pipeline.render(env, inventories, render, only=[HEALTH, EDU])
    key = signing.generate()
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "sec-liwei.pub.pem").write_text(key.public_key.to_pem(), encoding="utf-8")
    state = StackState.load(render / HEALTH / STATE_FILE)
    with CheckSession(env, PACK) as session:
        report = session.check([state], NOW.date())
    review.write(review.issue(env, state, report, "sec-liwei", key, NOW), review.certificate_path(tmp_path / "reviews", "lab", HEALTH))
    cli = tmp_path / "bin" / "pulumi"
    cli.parent.mkdir()
    cli.write_text(FAKE_PULUMI, encoding="utf-8")
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("CALLS", str(tmp_path / "calls.txt"))
    monkeypatch.setenv("PATH", f"{cli.parent}{os.pathsep}{os.environ['PATH']}")
    return tmp_path, inventories, trust


def deployment(site, env):
    tmp_path, inventories, trust = site
    gate = review.ReviewGate(env, inventories, tmp_path / "fresh", tmp_path / "reviews", trust, PACK, now=NOW + dt.timedelta(hours=1))
    project = tmp_path / "project"
    (project / "policies").mkdir(parents=True, exist_ok=True)
    return gate, deploy.Deployment(env, preview=False, logs=tmp_path / "logs", project_dir=project, cli=deploy.pulumi_cli(), gate=gate)


def calls(site) -> list[str]:
    path = site[0] / "calls.txt"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_only_the_certified_stack_is_deployed(site):
    env = load_environment("lab", site[1])
    gate, plan = deployment(site, env)
    stacks = [env.stack(HEALTH), env.stack(EDU)]
    gate.prepare(stacks)
    outcomes = {o.stack: o for o in deploy.run(plan, [], stacks, jobs=1)}
    assert outcomes[HEALTH].status == "ok"
    assert outcomes[EDU].status == "refused" and "no review certificate" in outcomes[EDU].detail
    assert [line.split("--stack ")[1].split()[0] for line in calls(site)] == [HEALTH]


def test_a_request_changed_after_review_is_refused(site):
    request = site[1] / "lab" / "tenants" / "t-430100-health.yaml"
    request.write_text(request.read_text(encoding="utf-8").replace("全民健康信息平台迁移上云", "全民健康信息平台二期"), encoding="utf-8")
    env = load_environment("lab", site[1])
    gate, plan = deployment(site, env)
    gate.prepare([env.stack(HEALTH)])
    [outcome] = deploy.run(plan, [], [env.stack(HEALTH)], jobs=1)
    assert outcome.status == "refused"
    assert "the desired state changed since the review" in outcome.detail and "the tenant request changed" in outcome.detail
    assert calls(site) == []


def test_up_without_a_gate_is_refused_and_preview_needs_none(site):
    env = load_environment("lab", site[1])
    _, plan = deployment(site, env)
    plan.gate = None
    [outcome] = deploy.run(plan, [], [env.stack(EDU)], jobs=1)
    assert outcome.status == "refused" and calls(site) == []
    plan.preview = True
    [outcome] = deploy.run(plan, [], [env.stack(EDU)], jobs=1)
    assert outcome.status == "ok" and calls(site)[0].startswith("preview ")


def test_govcloud_deploy_refuses_an_uncertified_stack(site, capsys, monkeypatch):
    tmp_path, inventories, trust = site
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["--inventories", str(inventories), "deploy", "--env", "lab", "--stack", EDU, "--reviews", str(tmp_path / "reviews"),
              "--trust-store", str(trust)])
    out = capsys.readouterr().out
    assert exit_info.value.code == 1 and "refused" in out and "no review certificate" in out and calls(site) == []


def test_govcloud_deploy_preview_passes_the_pack_its_configuration(site, capsys, monkeypatch):
    tmp_path, inventories, _ = site
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["--inventories", str(inventories), "deploy", "--env", "lab", "--stack", EDU, "--preview"])
    assert exit_info.value.code == 0
    [line] = calls(site)
    config = tmp_path / "build" / "policy" / "lab" / "policy-config.json"
    assert line.startswith("preview ") and f"--policy-pack-config {config}" in line and config.is_file()
