"""The console script, run as users run it: exit statuses, clean errors, JSON output, scaffolding."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forkserver import Result, govcloud, real

REPO = Path(__file__).resolve().parents[2]
GOVCLOUD = str(Path(sys.executable).parent / "govcloud")


def run(*args: str, cwd: Path = REPO, input: str | None = None, console_script: bool = False) -> Result:
    """A command in its own process (tests/forkserver.py); ``console_script``: the installed script
    itself, for the tests whose point is what the user's process does on bad input."""
    return (real if console_script else govcloud)(*args, cwd=cwd, input=input,
                                                  env={"PATH": "/usr/bin:/bin", "GOVCLOUD_NONINTERACTIVE": "1", "COLUMNS": "200"})


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "inventories" / "lab", tmp_path / "inventories" / "lab")
    return tmp_path


def test_validate_lab() -> None:
    result = run("validate")
    assert result.returncode == 0, result.stderr
    assert "lab: valid: 4 regions, 5 zones, 16 flows, 3 clusters, 8 hosts, 8 tenants" in result.stdout


def test_validate_json() -> None:
    data = json.loads(run("validate", "--output", "json").stdout)
    assert data["ok"] is True and data["tenants"] == 8 and data["stacks"] == 11


def test_bad_input_exit_2_without_traceback(workdir: Path) -> None:
    path = workdir / "inventories/lab/tenants/t-430100-health.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("mlps_level: 3", "mlps_level: 4").replace("audit: {account: chen-jing", "audit: {account: zhang-wei"), encoding="utf-8")
    result = run("validate", cwd=workdir, console_script=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "3 problems found" in result.stderr
    assert "inventories/lab/tenants/t-430100-health.yaml:7 mlps_level: zone egov-extranet admits MLPS level 3 at most" in result.stderr
    as_json = json.loads(run("validate", "-o", "json", cwd=workdir, console_script=True).stdout)
    assert as_json["ok"] is False and {p["field"] for p in as_json["problems"]} == {
        "mlps_level", "administrators.system.account", "administrators.audit.account"}


def test_unknown_environment_and_traversal(workdir: Path) -> None:
    for env in ("nowhere", "../lab"):
        result = run("validate", "--env", env, cwd=workdir, console_script=True)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr


def test_usage_error_is_exit_2() -> None:
    assert run("validate", "--no-such-flag", console_script=True).returncode == 2


NEW = ["tenant", "new", "--slug", "water", "--department", "长沙市水利局", "--uscc", "11430100000100036C", "--region", "430100",
       "--level", "2", "--cluster", "egov-1", "--system", "li-lei=李雷", "--security", "han-mm=韩梅梅", "--audit", "wang-wu=王五",
       "--requested-by", "li-lei", "--reason", "防汛调度系统", "--review-by", "2027-05-01"]


def test_tenant_new_writes_a_valid_request(workdir: Path) -> None:
    from govcloud.model.codes import make_uscc

    args = list(NEW)
    args[args.index("--uscc") + 1] = make_uscc("430100", 77)
    result = run(*args, cwd=workdir)
    assert result.returncode == 0, result.stderr
    written = workdir / "inventories/lab/tenants/t-430100-water.yaml"
    text = written.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../../schemas/tenant.schema.json")
    assert "长沙市水利局" in text and "zone: egov-extranet" in text
    listed = json.loads(run("tenant", "list", "-o", "json", cwd=workdir).stdout)
    assert "t-430100-water" in [t["id"] for t in listed]
    again = run(*args, cwd=workdir)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_tenant_new_refuses_invalid_and_writes_nothing(workdir: Path) -> None:
    result = run(*NEW, cwd=workdir)  # the USCC above has a wrong check character
    assert result.returncode == 2 and "department.uscc" in result.stderr and "check character" in result.stderr
    assert not (workdir / "inventories/lab/tenants/t-430100-water.yaml").exists()
    assert not list((workdir / "inventories/lab/tenants").glob(".*tmp"))


def test_tenant_new_missing_flags_non_interactive(workdir: Path) -> None:
    result = run("tenant", "new", "--slug", "water", cwd=workdir)
    assert result.returncode == 2 and "missing --department" in result.stderr


def test_tenant_validate_files(workdir: Path) -> None:
    good = workdir / "inventories/lab/tenants/t-430600-edu.yaml"
    assert run("tenant", "validate", str(good), cwd=workdir).returncode == 0
    good.write_text(good.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    result = run("tenant", "validate", str(good), cwd=workdir)
    assert result.returncode == 2 and "unknown key 'colour'" in result.stderr
    stray = workdir / "elsewhere.yaml"
    stray.write_text("a: 1\n")
    result = run("tenant", "validate", str(stray), cwd=workdir)  # a draft anywhere is checked against --env (lab)
    assert result.returncode == 2 and "elsewhere.yaml" in result.stderr and "unknown key 'a'" in result.stderr


def test_tenant_list_table() -> None:
    result = run("tenant", "list")
    assert result.returncode == 0
    assert "t-430100-health" in result.stdout and "长沙市卫生健康委员会" in result.stdout


def test_platform_show() -> None:
    table = run("platform", "show")
    assert table.returncode == 0 and "430121 长沙县" in table.stdout and "egov-intranet" in table.stdout
    data = json.loads(run("platform", "show", "-o", "json").stdout)
    egov = next(c for c in data["clusters"] if c["id"] == "egov-1")
    assert egov["capacity"]["cpu"] == {"used": "30", "limit": "144", "free": "114"}
    assert egov["tenants"] == 4


def test_schema_export_check(tmp_path: Path) -> None:
    assert run("schema", "export", "--check").returncode == 0
    stale = tmp_path / "schemas"
    assert run("schema", "export", "--schema-dir", str(stale)).returncode == 0
    (stale / "tenant.md").write_text("edited by hand\n")
    result = run("schema", "export", "--check", "--schema-dir", str(stale))
    assert result.returncode == 1 and "tenant.md" in result.stderr


def test_scale_gen_produces_a_valid_province(tmp_path: Path) -> None:
    out = tmp_path / "inv"
    assert run("scale-gen", "--inventories", str(out), "--cities", "3", "--counties", "5", "--tenants", "60").returncode == 0
    data = json.loads(run("--inventories", str(out), "validate", "--env", "province", "-o", "json").stdout)
    assert data["tenants"] == 60 and data["regions"] == 1 + 3 + 5


def test_tenant_new_prompts_when_interactive(workdir: Path) -> None:
    """On a terminal, missing values are asked for (answers typed at the prompts)."""
    import os
    import pty

    from govcloud.model.codes import make_uscc

    # department, USCC, region, level, cluster, namespaces (default), three administrators, requester,
    # reason, review date, then no dataset published or consumed and no public service (blank).
    answers = ["长沙市水利局", make_uscc("430100", 78), "430100", "2", "egov-1", "", "li-lei=李雷", "han-mm=韩梅梅",
               "wang-wu=王五", "li-lei", "防汛调度系统", "2027-05-01", "", "", ""]
    controller, terminal = pty.openpty()
    process = subprocess.Popen([GOVCLOUD, "tenant", "new", "--slug", "water"], cwd=workdir, stdin=terminal,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})
    os.close(terminal)
    os.write(controller, ("\n".join(answers) + "\n").encode("utf-8"))
    out, err = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 0, err.decode()
    text = (workdir / "inventories/lab/tenants/t-430100-water.yaml").read_text(encoding="utf-8")
    assert "mlps_level: 2" in text and "han-mm" in text


def test_an_output_that_cannot_be_written_is_exit_2_before_any_work(tmp_path: Path) -> None:
    """An --out under a regular file, or a directory where a file is expected (and the reverse):
    one line naming the option and the path, exit 2, no traceback, nothing written."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    preview = REPO / "tests" / "audit" / "fixtures" / "preview-health.json"
    cases = [
        (("report", "--report-dir", str(blocker / "report")), "--report-dir"),
        (("render", "--render-dir", str(blocker)), "is a file"),
        (("check", "--output", "json", "--out", str(tmp_path)), "is a directory"),
        (("diff", "--from-preview", str(preview), "--out", str(blocker / "diff.md")), "cannot create"),
        (("baseline", "verify", "--out", str(blocker / "compliance.json")), "cannot create"),
    ]
    for args, says in cases:
        result = run(*args, console_script=True)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and says in result.stderr and str(blocker if "is a directory" not in says else tmp_path) in result.stderr, (args, result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-directory"]


def test_a_write_that_fails_late_is_still_one_line(tmp_path: Path) -> None:
    """Writing a proof under a regular file fails in the ledger command itself: the command's
    last line of defence turns the OS error into one line and exit 2."""
    ledger, key = tmp_path / "ledger", tmp_path / "keys" / "ledger"
    assert run("keys", "generate", str(key)).returncode == 0
    appended = run("ledger", "append", "--ledger", str(ledger), "--ledger-key", f"{key}.key", "--kind", "tenant-request", "--env", "lab",
                   "--evidence", str(REPO / "inventories/lab/platform.yaml"), "--summary", "platform", "--actor", "test")
    assert appended.returncode == 0, appended.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("ledger", "head", "--ledger", str(ledger), "--out", str(blocker / "head.json"), console_script=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr and str(blocker) in result.stderr, result.stderr
