"""The review gate in `govcloud deploy`: pulumi up --plan runs only for stacks whose certificate
binds their current desired state (a fresh render) and the very plan file it will run."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pytest

from govcloud import deploy, review, signing
from govcloud.check.run import CheckSession
from govcloud.cli import main
from govcloud.engine.plan import Plan, plan_path
from govcloud.model import load_environment
from govcloud.render import pipeline
from govcloud.state import STATE_FILE, StackState

from policy_helpers import PACK, REPO, copy_lab, plan_for

sys.path.insert(0, str(REPO / "tests"))
from stacks.fake_engine import fake_engine  # noqa: E402 - the recording stand-in for the engine

HEALTH, EDU = "lab.t-430100-health", "lab.t-430600-edu"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A lab copy rendered; plans for health and edu; health certified with its plan; a recording engine."""
    inventories = copy_lab(tmp_path).parent
    env = load_environment("lab", inventories)
    render = tmp_path / "build" / "render" / "lab"
    pipeline.render(env, inventories, render, only=[HEALTH, EDU])
    plans = tmp_path / "plans"
    for name in (HEALTH, EDU):
        path = plan_path(plans, "lab", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(plan_for(StackState.load(render / name / STATE_FILE))), encoding="utf-8")
    key = signing.generate()
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "sec-liwei.pub.pem").write_text(key.public_key.to_pem(), encoding="utf-8")
    state = StackState.load(render / HEALTH / STATE_FILE)
    with CheckSession(env, PACK) as session:
        report = session.check([state], NOW.date())
    document = review.issue(env, state, report, "sec-liwei", key, NOW, Plan.load(plan_path(plans, "lab", HEALTH)))
    review.write(document, review.certificate_path(tmp_path / "reviews", "lab", HEALTH))
    fake = fake_engine(tmp_path, monkeypatch, env)
    fake.mark_deployed("lab.cluster-egov-1", "lab.cluster-internet-1")
    return tmp_path, inventories, trust, fake, key


def deployment(site, env, *, preview=False):
    tmp_path, inventories, trust, fake, _ = site
    gate = review.ReviewGate(env, inventories, tmp_path / "fresh", tmp_path / "reviews", trust, PACK,
                             now=NOW + dt.timedelta(hours=1), plans=tmp_path / "plans")
    config = tmp_path / "policy-config.json"
    config.write_text("{}", encoding="utf-8")
    return gate, deploy.Deployment(env, preview, tmp_path / "logs", fake.engine, inventories, tmp_path / "plans", config,
                                   project_dir=REPO, gate=gate)


def ups(site) -> list[str]:
    return [argv[argv.index("--stack") + 1] for argv in site[3].commands("up")]


def test_only_the_certified_stack_is_deployed_with_its_plan(site):
    env = load_environment("lab", site[1])
    gate, plan = deployment(site, env)
    stacks = [env.stack(HEALTH), env.stack(EDU)]
    gate.prepare(stacks)
    outcomes = {o.stack: o for o in deploy.run(plan, [], stacks, jobs=1)}
    assert outcomes[HEALTH].status == "ok"
    assert outcomes[HEALTH].certificate["plan_digest"] == Plan.load(plan_path(site[0] / "plans", "lab", HEALTH)).digest
    assert outcomes[EDU].status == "refused" and "no review certificate" in outcomes[EDU].detail
    assert ups(site) == [HEALTH]
    [argv] = site[3].commands("up")
    assert argv[argv.index("--plan") + 1] == str(plan_path(site[0] / "plans", "lab", HEALTH))


def test_a_request_changed_after_review_is_refused(site):
    request = site[1] / "lab" / "tenants" / "t-430100-health.yaml"
    request.write_text(request.read_text(encoding="utf-8").replace("全民健康信息平台迁移上云", "全民健康信息平台二期"), encoding="utf-8")
    env = load_environment("lab", site[1])
    gate, plan = deployment(site, env)
    gate.prepare([env.stack(HEALTH)])
    [outcome] = deploy.run(plan, [], [env.stack(HEALTH)], jobs=1)
    assert outcome.status == "refused"
    assert "the desired state changed since the review" in outcome.detail and "the tenant request changed" in outcome.detail
    assert ups(site) == []


def test_a_plan_edited_or_replaced_after_review_is_refused(site):
    env = load_environment("lab", site[1])
    path = plan_path(site[0] / "plans", "lab", HEALTH)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["manifest"]["time"] = "2026-11-25T09:05:00Z"  # a new preview of the same state
    path.write_text(json.dumps(document), encoding="utf-8")
    gate, plan = deployment(site, env)
    gate.prepare([env.stack(HEALTH)])
    [outcome] = deploy.run(plan, [], [env.stack(HEALTH)], jobs=1)
    assert outcome.status == "refused" and "the update plan is not the one reviewed" in outcome.detail
    path.unlink()
    [outcome] = deploy.run(plan, [], [env.stack(HEALTH)], jobs=1)
    assert outcome.status == "skipped" and "no update plan yet" in outcome.detail
    assert ups(site) == []


def test_a_certificate_without_a_plan_is_refused(site):
    tmp_path, inventories, _, _, key = site
    env = load_environment("lab", inventories)
    state = StackState.load(tmp_path / "build" / "render" / "lab" / HEALTH / STATE_FILE)
    with CheckSession(env, PACK) as session:
        report = session.check([state], NOW.date())
    review.write(review.issue(env, state, report, "sec-liwei", key, NOW), review.certificate_path(tmp_path / "reviews", "lab", HEALTH))
    gate, plan = deployment(site, env)
    gate.prepare([env.stack(HEALTH)])
    [outcome] = deploy.run(plan, [], [env.stack(HEALTH)], jobs=1)
    assert outcome.status == "refused" and "binds no update plan" in outcome.detail
    assert ups(site) == []


def test_a_plan_not_made_from_the_desired_state_cannot_be_certified(site):
    tmp_path, inventories, _, _, key = site
    env = load_environment("lab", inventories)
    state = StackState.load(tmp_path / "build" / "render" / "lab" / EDU / STATE_FILE)
    other = StackState.load(tmp_path / "build" / "render" / "lab" / HEALTH / STATE_FILE)
    path = tmp_path / "wrong.plan.json"
    path.write_text(json.dumps(plan_for(other)), encoding="utf-8")
    with CheckSession(env, PACK) as session:
        report = session.check([state], NOW.date())
    with pytest.raises(review.ReviewError, match="was not made from the desired state of lab.t-430600-edu"):
        review.issue(env, state, report, "sec-liwei", key, NOW, Plan.load(path))


def test_up_without_a_gate_is_refused_and_preview_needs_none(site):
    env = load_environment("lab", site[1])
    _, plan = deployment(site, env)
    plan.gate = None
    [outcome] = deploy.run(plan, [], [env.stack(EDU)], jobs=1)
    assert outcome.status == "refused" and ups(site) == []
    plan.preview = True
    [outcome] = deploy.run(plan, [], [env.stack(EDU)], jobs=1)
    assert outcome.status == "ok" and site[3].commands("preview")


def cli(site, monkeypatch, capsys, *args):
    tmp_path, inventories, trust, fake, _ = site
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("govcloud.engine.pulumi.Binaries.built", classmethod(lambda cls: fake.engine.binaries))
    workspace = fake.engine.workspace
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("x\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["--inventories", str(inventories), "deploy", "--env", "lab", *args, "--reviews", str(tmp_path / "reviews"),
              "--trust-store", str(trust), "--plans", str(tmp_path / "plans"), "--workspace", str(workspace.root),
              "--passphrase-file", str(passphrase), "--datapool-passwords", str(workspace.datapool_passwords)])
    return exit_info.value.code, capsys.readouterr().out


def test_govcloud_deploy_refuses_an_uncertified_stack(site, capsys, monkeypatch):
    code, out = cli(site, monkeypatch, capsys, "--stack", EDU)
    assert code == 1 and "refused" in out and "no review certificate" in out and ups(site) == []


def test_govcloud_deploy_preview_passes_the_pack_its_configuration(site, capsys, monkeypatch):
    code, out = cli(site, monkeypatch, capsys, "--stack", "cluster-egov-1", "--preview")
    assert code == 0, out
    [argv] = site[3].commands("preview")
    config = site[0] / "build" / "deploy" / "lab" / "policy-config.json"
    assert argv[argv.index("--policy-pack-config") + 1] == str(config.resolve()) and config.is_file()
    document = json.loads(config.read_text(encoding="utf-8"))
    assert document["version"] == 2 and document["exceptions"] == {} and "GOV-SEC-001" in document["policies"]


def test_a_plan_that_changes_nothing_needs_no_review_and_must_change_nothing(site):
    """EDU has no certificate; its plan says every resource stays the same: the engine is asked
    to run it with --expect-no-changes (and refuses any change the plan does not list)."""
    tmp_path, inventories = site[0], site[1]
    env = load_environment("lab", inventories)
    state = StackState.load(tmp_path / "build" / "render" / "lab" / EDU / STATE_FILE)
    plan_path(tmp_path / "plans", "lab", EDU).write_text(json.dumps(plan_for(state, steps="same")), encoding="utf-8")
    gate, plan = deployment(site, env)
    gate.prepare([env.stack(EDU)])
    [outcome] = deploy.run(plan, [], [env.stack(EDU)], jobs=1)
    assert outcome.status == "ok" and outcome.certificate["no_changes"] is True
    [argv] = site[3].commands("up")
    assert "--expect-no-changes" in argv and "--plan" in argv
