"""govcloud deploy drives the engine: stacks created and configured from the model, secrets only
through stdin, foundations first, tenants skipped while their foundation is not deployed, plans
saved by previews and run by ups, the workspace's environment. The engine is a recording
stand-in here (tests/stacks/fake_pulumi.py); tests/engine runs the real one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from govcloud import deploy
from govcloud.components import network
from govcloud.components import tenant as tenant_component
from govcloud.engine.plan import plan_path
from govcloud.model import load_environment

from .conftest import LAB_INVENTORIES, REPO
from .fake_engine import fake_engine

FOUNDATIONS = {"lab.cluster-egov-1", "lab.cluster-internet-1", "lab.cluster-intranet-1"}


@pytest.fixture
def env():
    return load_environment("lab", LAB_INVENTORIES)


def deployment(env, fake, tmp_path, *, preview, gate=None) -> deploy.Deployment:
    config = tmp_path / "policy-config.json"
    config.write_text("{}", encoding="utf-8")
    return deploy.Deployment(env, preview, tmp_path / "logs", fake.engine, LAB_INVENTORIES, tmp_path / "plans", config,
                             project_dir=REPO, gate=gate)


def test_a_first_preview_creates_and_configures_the_foundations_and_skips_the_tenants(env, tmp_path, monkeypatch):
    fake = fake_engine(tmp_path, monkeypatch, env)
    outcomes = {o.stack: o for o in deploy.run(deployment(env, fake, tmp_path, preview=True), *deploy.select(env, None), jobs=3)}
    assert {s for s, o in outcomes.items() if o.status == "ok"} == FOUNDATIONS
    for stack in env.stacks:
        if stack.kind == "tenant":
            assert outcomes[stack.name].status == "skipped"
            assert "is not deployed yet" in outcomes[stack.name].detail
    assert set(fake.stacks()) == FOUNDATIONS
    previews = fake.commands("preview")
    assert {p[p.index("--stack") + 1] for p in previews} == FOUNDATIONS
    for argv in previews:
        stack = argv[argv.index("--stack") + 1]
        assert argv[argv.index("--policy-pack") + 1] == str(REPO / "policies")
        assert argv[argv.index("--save-plan") + 1] == str(plan_path(tmp_path / "plans", "lab", stack))
        assert "--policy-pack-config" in argv and "--event-log" in argv and "--non-interactive" in argv
        assert plan_path(tmp_path / "plans", "lab", stack).is_file()
    # the workspace's environment: backend, home, passphrase file, kubeconfig, no update checks
    call = fake.calls()[-1]
    assert call["env"]["PULUMI_BACKEND_URL"] == f"file://{tmp_path / 'workspace' / 'state'}"
    assert call["env"]["PULUMI_HOME"] == str(tmp_path / "workspace" / "home")
    assert call["env"]["KUBECONFIG"] == str(tmp_path / "kubeconfig")
    assert call["env"]["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert call["cwd"] == str(tmp_path / "workspace" / "project")
    # the provider govcloud built is in the workspace's plugin cache
    assert (tmp_path / "workspace" / "home" / "plugins" / "resource-kubernetes-v4.25.0" / "pulumi-resource-kubernetes").is_file()


def test_tenants_are_configured_from_the_model_with_the_secret_through_stdin(env, tmp_path, monkeypatch):
    fake = fake_engine(tmp_path, monkeypatch, env)
    monkeypatch.setenv("FAKE_SECRETS_LOG", str(tmp_path / "stdin.txt"))
    fake.mark_deployed(*FOUNDATIONS)
    outcomes = deploy.run(deployment(env, fake, tmp_path, preview=True), *deploy.select(env, ["t-430100-health", "t-430600-edu"]), jobs=2)
    assert [o.status for o in outcomes] == ["ok", "ok"]
    stacks = fake.stacks()
    health = stacks["lab.t-430100-health"]["config"]
    role = tenant_component.datapool_role(env.tenant("t-430100-health"))
    assert health == {"govcloud:inventories": {"value": str(LAB_INVENTORIES.resolve()), "secret": False},
                      "govcloud:datapoolPassword": {"value": fake.store[role], "secret": True}}
    edu_reaches_pool = network.has_datapool_access(env, env.tenant("t-430600-edu"))
    assert ("govcloud:datapoolPassword" in stacks["lab.t-430600-edu"]["config"]) == edu_reaches_pool
    # no password on any command line, in any log
    for call in fake.calls():
        assert not any(secret in arg for secret in fake.store.values() for arg in call["argv"])
    for log in (tmp_path / "logs").glob("*.log"):
        assert not any(secret in log.read_text(encoding="utf-8") for secret in fake.store.values())
    sets = [c for c in fake.calls() if c["argv"][:3] == ["config", "set", "--secret"]]
    assert sets and all(c["stdin"] for c in sets)
    assert fake.store[role] in (tmp_path / "stdin.txt").read_text()
    # a second preview finds the configuration as it must be and sets nothing
    before = len(fake.commands("config"))
    deploy.run(deployment(env, fake, tmp_path, preview=True), *deploy.select(env, ["t-430100-health"]), jobs=1)
    assert [c for c in fake.commands("config")[before:] if c[1] != "--json"] == []


def test_a_hand_edited_stack_configuration_is_put_back(env, tmp_path, monkeypatch):
    fake = fake_engine(tmp_path, monkeypatch, env)
    deploy.run(deployment(env, fake, tmp_path, preview=True), *deploy.select(env, ["cluster-egov-1"]), jobs=1)
    state = json.loads(fake.state_file.read_text())
    config = state["stacks"]["lab.cluster-egov-1"]["config"]
    config["govcloud:gatewayClassName"] = {"value": "someone-elses", "secret": False}
    config["govcloud:inventories"]["value"] = "/elsewhere"
    fake.state_file.write_text(json.dumps(state))
    deploy.run(deployment(env, fake, tmp_path, preview=True), *deploy.select(env, ["cluster-egov-1"]), jobs=1)
    assert fake.stacks()["lab.cluster-egov-1"]["config"] == {
        "govcloud:inventories": {"value": str(LAB_INVENTORIES.resolve()), "secret": False}}


def test_up_runs_the_plan_foundations_first_and_a_failed_foundation_skips_its_tenants(env, tmp_path, monkeypatch):
    fake = fake_engine(tmp_path, monkeypatch, env, fail="lab.cluster-intranet-1")
    plans = tmp_path / "plans"
    for stack in env.stacks:
        path = plan_path(plans, "lab", stack.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")
    certified = []
    outcomes = {o.stack: o for o in deploy.run(deployment(env, fake, tmp_path, preview=False, gate=certified.append),
                                               *deploy.select(env, None), jobs=2)}
    assert outcomes["lab.cluster-intranet-1"].status == "failed"
    assert "up of lab.cluster-intranet-1 failed" in outcomes["lab.cluster-intranet-1"].detail
    assert outcomes["lab.t-430000-finance"].status == "skipped" and "failed" in outcomes["lab.t-430000-finance"].detail
    assert outcomes["lab.t-430100-health"].status == "ok"
    ups = fake.commands("up")
    order = [argv[argv.index("--stack") + 1] for argv in ups]
    assert set(order[:3]) == FOUNDATIONS and not FOUNDATIONS & set(order[3:])
    for argv in ups:
        stack = argv[argv.index("--stack") + 1]
        assert argv[argv.index("--plan") + 1] == str(plan_path(plans, "lab", stack))
        assert "--yes" in argv and "--policy-pack" in argv
    assert "lab.t-430000-finance" not in order
    assert sorted(s.name for s in certified) == sorted(order)  # every stack went through the gate first


def test_one_stack_and_unknown_stack(env):
    assert deploy.select(env, "lab.t-430100-health") == ([], [env.stack("lab.t-430100-health")])
    assert deploy.select(env, ["t-430100-health", "lab.cluster-egov-1"]) == ([env.stack("lab.cluster-egov-1")], [env.stack("lab.t-430100-health")])
    with pytest.raises(deploy.DeployError, match="not implied"):
        deploy.select(env, "lab.t-1-x")


def test_a_missing_policy_pack_or_secret_store_stops_before_any_run(env, tmp_path, monkeypatch):
    fake = fake_engine(tmp_path, monkeypatch, env)
    broken = deployment(env, fake, tmp_path, preview=True)
    broken.project_dir = tmp_path / "empty"
    with pytest.raises(deploy.DeployError, match="policy pack"):
        deploy.run(broken, *deploy.select(env, None), jobs=1)
    assert fake.calls() == []
    fake.engine.workspace.datapool_passwords.chmod(0o644)
    with pytest.raises(deploy.DeployError, match="readable by others"):
        deploy.run(deployment(env, fake, tmp_path, preview=True), *deploy.select(env, None), jobs=1)
    assert not fake.commands("preview")


def test_missing_engine_or_lab_is_one_clear_line_and_exit_2(tmp_path):
    done = subprocess.run([str(Path(sys.executable).parent / "govcloud"), "--inventories", str(LAB_INVENTORIES),
                           "deploy", "--all", "--preview"], cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "GOVCLOUD_LAB_DIR": str(tmp_path / "nolab"), "HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and ("govcloud cluster up" in line or "is not built" in line)
    assert "Traceback" not in done.stderr


def test_destroy_takes_tenant_stacks_only_and_asks_for_yes(env, tmp_path, monkeypatch, capsys):
    from govcloud.cli import main

    fake = fake_engine(tmp_path, monkeypatch, env)
    fake.mark_deployed("lab.t-430600-edu")
    monkeypatch.setattr("govcloud.engine.pulumi.Binaries.built", classmethod(lambda cls: fake.engine.binaries))
    monkeypatch.chdir(tmp_path)
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("x\n", encoding="utf-8")
    common = ["--inventories", str(LAB_INVENTORIES), "destroy", "--env", "lab", "--workspace", str(fake.engine.workspace.root),
              "--passphrase-file", str(passphrase)]

    def run(*args):
        with pytest.raises(SystemExit) as exit_info:
            main([*common, *args])
        captured = capsys.readouterr()
        return exit_info.value.code, captured.out + captured.err

    code, out = run("-s", "cluster-egov-1", "--yes")
    assert code == 2 and "destroy removes tenant stacks only" in out
    code, out = run("-s", "t-430600-edu")
    assert code == 2 and "add --yes" in out
    assert fake.commands("destroy") == []
    code, out = run("-s", "t-430600-edu", "--yes")
    assert code == 0 and "destroyed lab.t-430600-edu" in out, out
    [argv] = fake.commands("destroy")
    assert argv[argv.index("--stack") + 1] == "lab.t-430600-edu" and "--yes" in argv
    assert fake.stacks()["lab.t-430600-edu"]["resources"] == 0
