"""`govcloud check` and `govcloud policy` as a user runs them: outputs and exit statuses."""

from __future__ import annotations

import json

import pytest

from govcloud import labels
from govcloud.cli import main
from govcloud.model import load_environment
from govcloud.policy.catalog import rules

from policy_builders import all_states, edit
from policy_helpers import INVENTORIES, PACK


def run(capsys, *argv) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


@pytest.fixture
def build(tmp_path):
    env = load_environment("lab", INVENTORIES)
    for state in all_states(env):
        state.save(tmp_path / "build" / "render" / "lab" / state.stack)
    return tmp_path / "build"


def check(capsys, build, *extra):
    return run(capsys, "--inventories", str(INVENTORIES), "check", "--env", "lab", "--render-dir", str(build / "render" / "lab"), "--pack", str(PACK), "--today", "2026-11-25", *extra)


def test_the_lab_passes(capsys, build):
    code, out, _ = check(capsys, build)
    assert code == 0 and "PASS: 11 stacks" in out and "2 failed (0 blocking)" in out and "advisory" in out


def test_json_to_a_file_and_exit_1_on_a_mandatory_failure(capsys, build, tmp_path):
    path = build / "render" / "lab" / "lab.t-430100-health" / "state.json"
    from govcloud.state import StackState

    state = edit(StackState.load(path), "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({labels.PSA_ENFORCE: "baseline"}))
    state.save(path.parent)
    out_file = tmp_path / "out" / "check.json"
    code, out, err = check(capsys, build, "--stack", "t-430100-health", "--output", "json", "--out", str(out_file))
    assert code == 1 and out == "" and "verdict fail" in err
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert [s["stack"] for s in data["stacks"]] == ["lab.t-430100-health"]
    [failed] = [r for r in data["results"] if r["status"] == "failed"]
    assert failed["rule"] == "GOV-SEC-002" and failed["urn"].endswith("::t-430100-health-app")


@pytest.mark.parametrize("fmt,marker", [("sarif", '"version": "2.1.0"'), ("junit", "<testsuites"), ("json", '"format": "govcloud.check/v1"')])
def test_machine_formats_on_stdout(capsys, build, fmt, marker):
    code, out, _ = check(capsys, build, "--stack", "lab.t-430600-edu", "--output", fmt)
    assert code == 0 and marker in out


@pytest.mark.parametrize("extra,message", [
    (("--stack", "t-430100-nobody"), "t-430100-nobody is not a stack of environment lab"),
    (("--today", "25/11/2026"), "--today takes a date as YYYY-MM-DD"),
    (("--output", "pdf"), "pdf"),
])
def test_bad_arguments_exit_2(capsys, build, extra, message):
    code, out, err = check(capsys, build, *extra)
    assert code == 2 and message in out + err


def test_missing_render_exits_2_in_one_line(capsys, tmp_path):
    code, _, err = check(capsys, tmp_path / "nothing")
    assert code == 2 and "no render of lab in" in err and "govcloud render --env lab" in err and err.strip().count("\n") == 0


def test_damaged_state_file_exits_2(capsys, build):
    path = build / "render" / "lab" / "lab.t-430600-edu" / "state.json"
    path.write_text(path.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    code, _, err = check(capsys, build, "--stack", "lab.t-430600-edu")
    assert code == 2 and "not a readable desired state" in err and "lab.t-430600-edu" in err


def test_broken_pack_exits_2(capsys, build, tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n", encoding="utf-8")
    (pack / "__main__.py").write_text("import sys\nsys.exit(3)\n", encoding="utf-8")
    code, _, err = run(capsys, "--inventories", str(INVENTORIES), "check", "--env", "lab", "--render-dir", str(build / "render" / "lab"), "--pack", str(pack))
    assert code == 2 and "exited before printing its port" in err


def test_policy_config_is_a_pulumi_policy_pack_config(capsys, tmp_path):
    out_file = tmp_path / "policy-config.json"
    code, out, _ = run(capsys, "--inventories", str(INVENTORIES), "policy", "config", "--env", "lab", "--out", str(out_file))
    assert code == 0 and "34 rules" in out
    config = json.loads(out_file.read_text(encoding="utf-8"))
    assert sorted(config) == sorted(r.id for r in rules())
    assert all(entry["enforcementLevel"] in ("advisory", "mandatory", "disabled") for entry in config.values())
    assert config["GOV-SEC-010"]["zones"]["internet"] == {"kind": "internet", "cidr": "172.30.30.0/24", "max_level": 3}


def test_policy_rules_markdown_lists_every_rule(capsys):
    code, out, _ = run(capsys, "policy", "rules", "--markdown")
    assert code == 0 and out.count("\n| GOV-") == len(rules())


def test_readme_rules_table_is_generated_from_the_rules():
    from govcloud.cli.policy import README_BEGIN, README_END, rules_markdown

    text = (INVENTORIES.parent / "README.md").read_text(encoding="utf-8")
    begin = text.index("\n", text.index(README_BEGIN)) + 1
    assert text[begin:text.index(README_END)] == rules_markdown(), "run `govcloud policy rules --readme README.md`"


def test_readme_table_can_be_regenerated(capsys, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- policy-rules:begin (generated) -->\nold table\n<!-- policy-rules:end -->\nafter\n", encoding="utf-8")
    code, out, _ = run(capsys, "policy", "rules", "--readme", str(readme))
    text = readme.read_text(encoding="utf-8")
    assert code == 0 and "old table" not in text and text.count("| GOV-") == len(rules()) and text.endswith("after\n")


def test_reported_digest_is_the_state_digest(capsys, build):
    from govcloud.state import StackState

    code, out, _ = check(capsys, build, "--stack", "lab.t-430600-edu", "--output", "json")
    [stack] = json.loads(out)["stacks"]
    assert stack["digest"] == StackState.load(build / "render" / "lab" / "lab.t-430600-edu" / "state.json").digest()
