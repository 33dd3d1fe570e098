"""govcloud's Python language host under the real engine (no cluster needed): programs run
through the SDK's exec shim with the stack's configuration and secret keys, the program's
environment and plugins are reported as the upstream host reports them, a user-actionable
failure bails without a second error, and policy packs start through RunPlugin."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from .conftest import REPO, own_workspace

pytestmark = pytest.mark.engine

PROGRAM = Path(__file__).with_name("programs") / "hosted"
VENV = REPO / ".venv"


@pytest.fixture(scope="module")
def hosted(tmp_path_factory, binaries):
    """The test program in a project of its own, one stack configured, on its own workspace."""
    root = tmp_path_factory.mktemp("langhost")
    project = root / "project"
    shutil.copytree(PROGRAM, project, ignore=shutil.ignore_patterns("*.in", "__pycache__"))
    (project / "Pulumi.yaml").write_text((PROGRAM / "Pulumi.yaml.in").read_text().replace("@VENV@", str(VENV)))
    engine = own_workspace(root / "workspace", binaries)
    run = lambda *args, **kw: engine.run(*args, cwd=project, **kw)  # noqa: E731
    run("stack", "init", "dev", "--non-interactive", check=True)
    run("config", "set", "greeting", "ni hao", "--stack", "dev", check=True)
    run("config", "set", "--secret", "token", "--stack", "dev", stdin="s3cr3t-value", check=True)
    return engine, project, run


def outputs(run, *extra) -> dict:
    done = run("stack", "output", "--json", "--stack", "dev", *extra, check=True)
    return json.loads(done.stdout)


def test_a_program_runs_with_its_configuration_secret_keys_and_settings(hosted):
    engine, project, run = hosted
    done = run("up", "--yes", "--skip-preview", "--non-interactive", "--stack", "dev")
    assert done.returncode == 0, done.stdout + done.stderr
    shown = outputs(run, "--show-secrets")
    assert shown["greeting"] == "ni hao" and shown["token"] == "s3cr3t-value"
    assert (shown["stack"], shown["project"], shown["organization"]) == ("dev", "hosted", "organization")
    assert shown["dryRun"] is False
    assert shown["cwd"] == str(project)                      # --pwd: the program directory
    assert Path(shown["python"]).parent == VENV / "bin"     # the project's virtualenv
    assert outputs(run)["token"] == "[secret]"               # PULUMI_CONFIG_SECRET_KEYS made it a secret
    preview = run("preview", "--non-interactive", "--stack", "dev", "--json")
    assert preview.returncode == 0, preview.stderr
    assert "s3cr3t-value" not in done.stdout + preview.stdout


def test_a_user_actionable_failure_bails_and_a_crash_names_its_exit_code(hosted):
    _, _, run = hosted
    run("config", "set", "fail", "exception", "--stack", "dev", check=True)
    try:
        refused = run("preview", "--non-interactive", "--stack", "dev")
        assert refused.returncode != 0
        text = refused.stdout + refused.stderr
        assert "the program refused: a message the user can act on" in text and "Traceback" in text
        assert "non-zero exit code" not in text  # exit 32: the language host bails without an error of its own
        run("config", "set", "fail", "crash", "--stack", "dev", check=True)
        crashed = run("preview", "--non-interactive", "--stack", "dev")
        assert crashed.returncode != 0 and "program exited with non-zero exit code: 7" in crashed.stdout + crashed.stderr
    finally:
        run("config", "rm", "fail", "--stack", "dev", check=True)


def test_about_reports_the_host_the_interpreter_and_the_program_s_plugins(hosted):
    _, _, run = hosted
    done = run("about", "--json", "--stack", "dev")
    assert done.returncode == 0, done.stderr
    about = json.loads(done.stdout)
    assert about["runtime"]["language"] == "python" and Path(about["runtime"]["executable"]).parent == VENV / "bin"
    plugins = {p["name"]: (p["kind"], p.get("version")) for p in about["plugins"]}
    # the language host's version (govcloud's, built on sdk/v3) and the provider the program's
    # packages ask for (pulumi_kubernetes' pulumi-plugin.json: exactly its own release)
    assert plugins["python"][0] == "language" and plugins["python"][1].endswith("+govcloud")
    assert plugins["kubernetes"] == ("resource", "4.25.0")
    assert "random" not in plugins and "policy" not in plugins
    # the program's direct dependencies (pip's "not required by another"): govcloud itself
    assert "govcloud" in {d["name"] for d in about["dependencies"]}


def test_install_checks_the_virtualenv_and_installs_nothing(hosted):
    _, _, run = hosted
    done = run("install", "--non-interactive")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Using the virtual environment {VENV}" in done.stdout + done.stderr


def test_the_policy_pack_starts_through_the_language_host(hosted, tmp_path, monkeypatch):
    """RunPlugin: the engine starts policies/ (PulumiPolicy.yaml, the project's virtualenv) and
    sends it every resource; the pack's configuration is the model's."""
    _, _, run = hosted
    from govcloud.model import load_environment
    from govcloud.policy.config import engine_config, write_config

    config = write_config(engine_config(load_environment("lab", REPO / "inventories"), [], dt.date.today()), tmp_path / "config.json")
    record = tmp_path / "requests.jsonl"
    monkeypatch.setenv("GOVCLOUD_PACK_RECORD", str(record))
    done = run("preview", "--non-interactive", "--stack", "dev", "--policy-pack", str(REPO / "policies"),
               "--policy-pack-config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    requests = [json.loads(line) for line in record.read_text().splitlines()]
    analyzed = {r["request"]["urn"].rsplit("::", 1)[-1] for r in requests if r["method"] == "Analyze"}
    assert analyzed == {"hosted-dev", "box"}
    assert [r["method"] for r in requests].count("AnalyzeStack") == 1
