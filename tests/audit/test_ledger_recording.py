"""`--ledger DIR` on diff, check, review and deploy: each appends an entry pointing at its
evidence file, and the ledger verifies with the evidence as recorded."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from govcloud import review

from audit_helpers import REPO, LabRepo, govcloud

sys.path.insert(0, str(REPO / "tests"))
from stacks.fake_engine import fake_engine  # noqa: E402 - the recording stand-in for the engine


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("keys")
    for name in ("ledger", "sec-liwei"):
        done = govcloud("keys", "generate", directory / name)
        assert done.returncode == 0, done.stderr
    return {"ledger": directory / "ledger.key", "ledger.pub": directory / "ledger.pub.pem",
            "reviewer": directory / "sec-liwei.key", "reviewer.pub": directory / "sec-liwei.pub.pem"}


def entries(ledger: Path) -> list[dict]:
    done = govcloud("ledger", "show", "--ledger", ledger, "--output", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    return data["entries"] if isinstance(data, dict) else data


def verified(ledger: Path, keys: dict[str, Path], root: Path) -> None:
    done = govcloud("ledger", "verify", "--ledger", ledger, "--key", keys["ledger.pub"], "--evidence-root", root, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_diff_records_its_json_evidence(tmp_path, keys) -> None:
    repo = LabRepo(tmp_path / "repo")
    repo.edit("tenants/t-430100-health.yaml", 'cpu: "16"', 'cpu: "20"')
    ledger, out = tmp_path / "ledger", tmp_path / "evidence" / "diff.json"
    done = repo.diff("--from", "HEAD", "--output", "json", "--out", out, "--no-policy",
                     "--ledger", ledger, "--ledger-key", keys["ledger"], "--actor", "ci-pipeline", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [entry] = entries(ledger)
    assert entry["kind"] == "diff" and entry["actor"] == "ci-pipeline" and entry["subject"] == {"env": "lab"}
    assert "1 stack changes" in entry["summary"] and entry["details"]["from_commit"]
    assert entry["evidence"]["sha256"] == sha256(out)
    verified(ledger, keys, tmp_path)
    # without the key nothing is rendered: the command stops at once
    done = repo.diff("--from", "HEAD", "--no-policy", "--ledger", ledger, cwd=tmp_path)
    assert done.returncode == 2 and "signing key" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, keys) -> Path:
    """A working directory with the lab inventory (the reviewer's key trusted) and its render."""
    root = tmp_path_factory.mktemp("workspace")
    shutil.copytree(REPO / "inventories" / "lab", root / "inventories" / "lab")
    trust = root / "inventories" / "lab" / "trusted-keys"
    trust.mkdir(exist_ok=True)
    for old in trust.glob("*.pem"):
        old.unlink()
    shutil.copy(keys["reviewer.pub"], trust / "sec-liwei.pub.pem")
    done = govcloud("--inventories", root / "inventories", "render", "--env", "lab", "--render-dir", root / "build" / "render" / "lab", cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def test_check_and_review_record_report_and_certificate(workspace, keys) -> None:
    ledger = workspace / "ledger-review"
    common = ("--render-dir", workspace / "build" / "render" / "lab", "--pack", REPO / "policies", "--ledger", ledger, "--ledger-key", keys["ledger"])
    out = workspace / "check.json"
    done = govcloud("--inventories", workspace / "inventories", "check", "--env", "lab", "--output", "json", "--out", out,
                    "--today", "2026-11-25", *common, cwd=workspace)
    assert done.returncode == 0, done.stderr
    done = govcloud("--inventories", workspace / "inventories", "check", "--env", "lab", *common, cwd=workspace)
    assert done.returncode == 2 and "give --out FILE" in done.stderr
    done = govcloud("--inventories", workspace / "inventories", "review", "--env", "lab", "--stack", "t-430100-health",
                    "--reviewer", "sec-liwei", "--key", keys["reviewer"], "--reviews", workspace / "build" / "reviews",
                    "--now", "2026-11-25T10:00:00Z", *common, cwd=workspace)
    assert done.returncode == 0, done.stderr
    check, certificate = entries(ledger)
    assert check["kind"] == "check" and check["evidence"]["sha256"] == sha256(out) and "verdict pass" in check["summary"]
    cert_file = workspace / "build" / "reviews" / "lab" / "lab.t-430100-health.cert.json"
    assert certificate["kind"] == "certificate" and certificate["actor"] == "sec-liwei"
    assert certificate["subject"] == {"env": "lab", "stack": "lab.t-430100-health", "tenant": "t-430100-health"}
    assert certificate["evidence"]["sha256"] == sha256(cert_file)
    assert certificate["details"]["state_digest"] == review.read_certificate(cert_file)[0]["state_digest"]
    verified(ledger, keys, workspace)


def test_deploy_records_each_stack_outcome(workspace, keys, tmp_path, monkeypatch, capsys) -> None:
    from govcloud.cli import main
    from govcloud.model import load_environment

    fake = fake_engine(tmp_path, monkeypatch, load_environment("lab", workspace / "inventories"))
    fake.mark_deployed("lab.cluster-egov-1")
    monkeypatch.setattr("govcloud.engine.pulumi.Binaries.built", classmethod(lambda cls: fake.engine.binaries))
    monkeypatch.chdir(workspace)
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("x\n", encoding="utf-8")
    ledger = tmp_path / "ledger-deploy"
    args = ["--inventories", str(workspace / "inventories"), "deploy", "--env", "lab", "--stack", "lab.t-430600-edu",
            "--ledger", str(ledger), "--ledger-key", str(keys["ledger"]), "--actor", "ops-chen",
            "--workspace", str(fake.engine.workspace.root), "--passphrase-file", str(passphrase),
            "--datapool-passwords", str(fake.engine.workspace.datapool_passwords)]

    def run(*extra: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exit_info:
            main([*args, *extra])
        return exit_info.value.code or 0, capsys.readouterr().out

    code, out = run("--preview")
    assert code == 0, out
    code, out = run("--reviews", str(workspace / "build" / "reviews"))  # no certificate for edu
    assert code == 1 and "refused" in out
    preview, refused = entries(ledger)
    assert preview["kind"] == "deploy" and preview["details"] == {"status": "ok", "operation": "preview"}
    record = json.loads((workspace / preview["evidence"]["path"]).read_text())
    assert record["status"] == "ok" and record["operation"] == "preview" and record["log"]["sha256"]
    assert record["plan"] and record["plan"].startswith("sha256:")  # the plan the preview saved, by digest
    assert preview["evidence"]["path"].startswith("build/deploy/lab/records/lab.t-430600-edu.preview.")
    assert refused["details"] == {"status": "refused", "operation": "up"} and "no review certificate" in refused["summary"]
    assert refused["subject"] == {"env": "lab", "stack": "lab.t-430600-edu", "tenant": "t-430600-edu"}
    verified(ledger, keys, workspace)


def test_deployment_record_names_the_certificate_the_plan_and_the_log(tmp_path, monkeypatch) -> None:
    from govcloud import deploy
    from govcloud.engine.plan import plan_path
    from govcloud.model import load_environment

    env = load_environment("lab", REPO / "inventories")
    fake = fake_engine(tmp_path, monkeypatch, env)
    fake.mark_deployed("lab.cluster-egov-1", "lab.cluster-internet-1")
    plan_file = plan_path(tmp_path / "plans", "lab", "lab.t-430100-health")
    plan_file.parent.mkdir(parents=True)
    plan_file.write_text('{"manifest": {}, "resourcePlans": {}}', encoding="utf-8")
    certificate = {"state_digest": "sha256:" + "ab" * 32, "reviewer": {"account": "sec-liwei"}, "plan": {"digest": "sha256:" + "cd" * 32},
                   "expires_at": "2026-12-25T10:00:00Z", "signature": {"key_id": "ed25519:0123abcd"}}
    config = tmp_path / "policy-config.json"
    config.write_text("{}", encoding="utf-8")
    deployment = deploy.Deployment(env, False, tmp_path / "logs", fake.engine, REPO / "inventories", tmp_path / "plans", config,
                                   project_dir=REPO, gate=lambda stack: certificate)
    [outcome] = deploy.run(deployment, [], [env.stack("lab.t-430100-health")], jobs=1)
    first = deploy.write_record(outcome, "lab", "up", tmp_path / "logs")
    second = deploy.write_record(outcome, "lab", "up", tmp_path / "logs")
    assert first != second and first.is_file() and second.is_file()  # evidence is never overwritten
    record = json.loads(first.read_text(encoding="utf-8"))
    assert record["status"] == "ok" and record["operation"] == "up"
    assert record["certificate"] == {"state_digest": certificate["state_digest"], "plan_digest": "sha256:" + "cd" * 32,
                                     "reviewer": "sec-liwei", "expires_at": "2026-12-25T10:00:00Z", "key_id": "ed25519:0123abcd"}
    assert record["log"]["sha256"] == sha256(tmp_path / "logs" / "lab.t-430100-health.log")
