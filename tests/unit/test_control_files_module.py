"""The baseline's govcloud_control_files module, run as Ansible runs a module (its arguments in a
file), on a scratch directory: what it writes, what check mode and diff mode report, and that a
second run changes nothing."""

from __future__ import annotations

import getpass
import grp
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "playbooks" / "roles" / "baseline" / "library" / "govcloud_control_files.py"
TEMPLATES = ROOT / "playbooks" / "roles" / "baseline" / "templates"
OWNER = {"owner": getpass.getuser(), "group": grp.getgrgid(os.getgid()).gr_name}


def run(tmp_path: Path, check: bool = False, **arguments) -> dict:
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {**arguments, "_ansible_check_mode": check, "_ansible_diff": True}}))
    result = subprocess.run([sys.executable, str(MODULE), str(args)], capture_output=True, text=True, timeout=60)
    return json.loads(result.stdout)


def mode(path: Path) -> str:
    return f"{stat.S_IMODE(path.stat().st_mode):04o}"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    root = tmp_path / "etc"
    root.mkdir()
    (root / "login.defs").write_text("# defaults\nPASS_MIN_LEN\t5\n#UMASK\t022\nUMASK\t022\nENCRYPT_METHOD SHA512")
    (root / "motd-script").write_text("#!/bin/sh\nuname -a\n")
    (root / "motd-script").chmod(0o755)
    (root / "cron.deny").write_text("nobody\n")
    return root


def arguments(root: Path) -> dict:
    return {
        "paths": [{"path": str(root / "conf.d"), "state": "directory", "mode": "0750", **OWNER},
                  str(root / "motd-script"),
                  {"path": str(root / "cron.deny"), "state": "absent"}],
        "files": [{"dest": str(root / "conf.d" / "60-govcloud.conf"), "content": "Storage=none\n", "mode": "0640", **OWNER},
                  {"dest": str(root / "issue"), "content": "本系统仅限授权人员使用。\n", **OWNER}],
        "settings": [{"path": str(root / "login.defs"), "key": "PASS_MIN_LEN", "line": "PASS_MIN_LEN\t12", **OWNER},
                     {"path": str(root / "login.defs"), "key": "UMASK", "line": "UMASK\t\t027", **OWNER},
                     {"path": str(root / "login.defs"), "key": "PASS_MAX_DAYS", "line": "PASS_MAX_DAYS\t90", **OWNER}],
    }


def test_converges_then_changes_nothing(tmp_path, scratch):
    first = run(tmp_path, **arguments(scratch))
    assert first["changed"] and not first.get("failed"), first
    assert (scratch / "conf.d" / "60-govcloud.conf").read_text() == "Storage=none\n"
    assert mode(scratch / "conf.d") == "0750" and mode(scratch / "conf.d" / "60-govcloud.conf") == "0640"
    assert (scratch / "issue").read_text(encoding="utf-8") == "本系统仅限授权人员使用。\n"
    assert mode(scratch / "motd-script") == "0644"
    assert not (scratch / "cron.deny").exists()
    second = run(tmp_path, **arguments(scratch))
    assert second["changed"] is False and second["changed_paths"] == [], second


def test_settings_replace_the_last_line_of_a_key_commented_or_not_and_append_the_rest(tmp_path, scratch):
    entries = arguments(scratch)["settings"]
    result = run(tmp_path, settings=entries)
    assert result["changed_paths"] == [str(scratch / "login.defs")], result
    assert (scratch / "login.defs").read_text() == ("# defaults\nPASS_MIN_LEN\t12\n#UMASK\t022\nUMASK\t\t027\nENCRYPT_METHOD SHA512\nPASS_MAX_DAYS\t90\n")


def test_check_mode_reports_every_change_with_a_diff_and_changes_nothing(tmp_path, scratch):
    before = {path.name: (path.read_bytes(), mode(path)) for path in scratch.iterdir()}
    result = run(tmp_path, check=True, **arguments(scratch))
    assert result["changed"] and not result.get("failed"), result
    assert result["changed_paths"] == sorted(str(p) for p in [
        scratch / "conf.d", scratch / "conf.d" / "60-govcloud.conf", scratch / "cron.deny", scratch / "issue",
        scratch / "login.defs", scratch / "motd-script"])
    assert {path.name: (path.read_bytes(), mode(path)) for path in scratch.iterdir()} == before
    diffs = {d["after_header"]: d for d in result["diff"]}
    assert diffs[str(scratch / "issue")]["after"] == "本系统仅限授权人员使用。\n"
    assert diffs[str(scratch / "cron.deny")]["after"] == {"path": str(scratch / "cron.deny"), "state": "absent"}
    assert diffs[str(scratch / "motd-script")]["before"]["mode"] == "0755"


def test_drift_in_content_or_mode_is_repaired(tmp_path, scratch):
    files = arguments(scratch)["files"]
    (scratch / "conf.d").mkdir()
    assert run(tmp_path, files=files)["changed"]
    (scratch / "issue").write_text("edited\n")
    (scratch / "conf.d" / "60-govcloud.conf").chmod(0o666)
    result = run(tmp_path, files=files)
    assert result["changed_paths"] == sorted([str(scratch / "issue"), str(scratch / "conf.d" / "60-govcloud.conf")])
    assert (scratch / "issue").read_text(encoding="utf-8") == "本系统仅限授权人员使用。\n"
    assert mode(scratch / "conf.d" / "60-govcloud.conf") == "0640"
    assert not [p for p in scratch.rglob(".govcloud-*")], "a temporary file was left behind"


@pytest.mark.parametrize("arguments, message", [
    ({"paths": [{"path": "/etc/x", "state": "socket"}]}, "value of state must be one of"),
    ({"paths": [{"path": "/etc/x", "colour": "red"}]}, "colour"),
    ({"files": [{"dest": "/nonexistent-govcloud-dir/x.conf", "content": ""}]}, "the directory of /nonexistent-govcloud-dir/x.conf does not exist"),
    ({"settings": [{"path": "/nonexistent-govcloud-file", "key": "K", "line": "K 1"}]}, "/nonexistent-govcloud-file does not exist"),
])
def test_bad_entries_fail_with_the_reason(tmp_path, arguments, message):
    result = run(tmp_path, **arguments)
    assert result.get("failed") and message in result["msg"], result


def test_every_template_ends_with_exactly_one_newline():
    """templates/control-files.json.j2 puts back the one final newline an included template loses, as the template
    module does; a template ending in none or two would come out differently from the template module's."""
    wrong = [str(t.relative_to(TEMPLATES)) for t in TEMPLATES.rglob("*.j2")
             if not t.read_bytes().endswith(b"\n") or t.read_bytes().endswith(b"\n\n")]
    assert wrong == []


def test_the_documentation_states_the_argument_spec():
    """ansible-doc shows DOCUMENTATION; the module validates with its specs: they must say the same."""
    import importlib.util

    import yaml

    spec = importlib.util.spec_from_file_location("govcloud_control_files", MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    for name, code in (("paths", module.PATH_SPEC), ("files", module.FILE_SPEC), ("settings", module.SETTING_SPEC)):
        documented = options[name]["suboptions"]
        assert set(documented) == set(code), name
        for key, rules in code.items():
            assert documented[key].get("type") == rules["type"], (name, key)
            assert documented[key].get("default") == rules.get("default"), (name, key)
            assert bool(documented[key].get("required")) == bool(rules.get("required")), (name, key)
