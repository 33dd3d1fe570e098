"""The department's path (issue 14): `tenant new` takes every part of a request as flags and asks
for the rest with choices, defaults and hints, asking again only for a wrong answer; `tenant new`
and `tenant validate` render and check the tenant's stack; a draft is checked where it is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from govcloud.model.codes import make_uscc

from forkserver import Result, govcloud

REPO = Path(__file__).resolve().parents[2]
USCC = make_uscc("430100", 77)
BASE = ["tenant", "new", "--slug", "water", "--department", "长沙市水利局", "--uscc", USCC, "--region", "430100",
        "--system", "li-lei=李雷", "--security", "han-mm=韩梅梅", "--audit", "wang-wu=王五", "--reason", "防汛调度系统"]


def run(*args: str, cwd: Path, input: str | None = None, interactive: bool = False) -> Result:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "220", **({"GOVCLOUD_INTERACTIVE": "1"} if interactive else {"GOVCLOUD_NONINTERACTIVE": "1"})}
    return govcloud(*args, cwd=cwd, input=input, env=env, timeout=300)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "inventories" / "lab", tmp_path / "inventories" / "lab")
    return tmp_path


def test_every_part_of_a_request_as_flags(workdir: Path) -> None:
    done = run(*BASE, "--level", "3", "--cluster", "egov-1", "--approval", "HNSJ-AQ-2026-099:sec-liwei:2026-11-20",
               "--publish", "flood-gauges:unconditional:general:水位监测数据",
               "--consume", "t-430100-hrss/social-insurance@HNSJ-GX-2026-0200:参保核对",
               "--service", "flood:fangxun.slj.changsha.gov.cn:8080:/api", cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "policy check: " in done.stdout and "no finding" in done.stdout and "passes the policy check" in done.stdout
    text = (workdir / "inventories/lab/tenants/t-430100-water.yaml").read_text(encoding="utf-8")
    for expected in ("reference: HNSJ-AQ-2026-099", "role: 安全审查", "name: flood-gauges", "sharing: unconditional",
                     "dataset: t-430100-hrss/social-insurance", "approval: HNSJ-GX-2026-0200", "host: fangxun.slj.changsha.gov.cn",
                     "path: /api", "port: 8080", "requested_by: li-lei"):
        assert expected in text, expected


def test_a_level_3_request_without_approval_learns_it_before_submitting(workdir: Path) -> None:
    """Before: it validated and failed GOV-MGT-005 only at check time."""
    done = run(*BASE, "--level", "3", "--cluster", "egov-1", cwd=workdir)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "GOV-MGT-005" in done.stdout and "blocking" in done.stdout and "change.approvals" in done.stdout
    assert "not written" in done.stderr and not (workdir / "inventories/lab/tenants/t-430100-water.yaml").exists()


def test_flags_in_the_wrong_form_are_one_line(workdir: Path) -> None:
    done = run(*BASE, "--level", "2", "--cluster", "egov-1", "--publish", "flood-gauges", cwd=workdir)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "--publish 'flood-gauges': give NAME:SHARING:SENSITIVITY:DESCRIPTION" in done.stderr


def test_an_unknown_cluster_is_not_also_an_unknown_zone(workdir: Path) -> None:
    done = run(*BASE, "--level", "2", "--cluster", "egov-9", cwd=workdir)
    assert done.returncode == 2 and "cluster egov-9 is not defined; clusters: egov-1, internet-1, intranet-1" in done.stderr
    assert "zone" not in done.stderr.replace("(zone", "")


def test_prompts_show_choices_defaults_and_hints_and_ask_again_only_a_bad_answer(workdir: Path) -> None:
    answers = ["长沙市水利局", "1234", USCC, "430199", "430100", "2", "", "", "li-lei=李雷", "han-mm", "han-mm=韩梅梅", "wang-wu=王五",
               "", "防汛调度系统", "", "bad", "", "", ""]
    done = run("tenant", "new", "--slug", "water", "--no-check", cwd=workdir, input="\n".join(answers) + "\n", interactive=True)
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert "choices: 430000 湖南省, 430100 长沙市, 430121 长沙县, 430600 岳阳市" in err  # region choices
    assert "egov-1 (zone egov-extranet, up to level 3)" in err and "cluster [egov-1]:" in err  # cluster choices and default
    assert "namespace suffixes [app]:" in err and "requested by (account) [li-lei]:" in err  # defaults
    assert "✗ a unified social credit code has 18 characters, this one has 4" in err
    assert "✗ region 430199 is not defined in platform.yaml; regions under 430100: 430100 长沙市, 430121 长沙县" in err
    assert "✗ give NAME:SHARING:SENSITIVITY:DESCRIPTION" in err
    # Only the bad answers were asked again, the others once (each question: one hint line, then its prompts).
    asked = {q: err.count(f"{q}:") - 1 for q in ("official department name", "unified social credit code", "region code", "MLPS level",
                                                  "security administrator", "audit administrator")}
    assert asked == {"official department name": 1, "unified social credit code": 2, "region code": 2, "MLPS level": 1,
                     "security administrator": 2, "audit administrator": 1}, asked
    written = (workdir / "inventories/lab/tenants/t-430100-water.yaml").read_text(encoding="utf-8")
    assert "mlps_level: 2" in written and "account: han-mm" in written and "zone: egov-extranet" in written


def test_a_problem_only_the_whole_request_shows_asks_again_for_its_answers_only(workdir: Path) -> None:
    """Three administrators must be three people: the model says so, and those answers are asked again."""
    answers = ["2", "", "", "li-lei=李雷", "li-lei=李雷", "wang-wu=王五", "", "防汛调度系统", "", "", "", "",
               "li-lei=李雷", "han-mm=韩梅梅", "wang-wu=王五"]
    done = run("tenant", "new", "--slug", "water", "--department", "长沙市水利局", "--uscc", USCC, "--region", "430100", "--no-check",
               cwd=workdir, input="\n".join(answers) + "\n", interactive=True)
    assert done.returncode == 0, done.stderr
    assert "holds more than one administrator role" in done.stderr
    assert "asking again: system administrator, security administrator" in done.stderr
    assert done.stderr.count("reason for the request") == 2  # hint + prompt, once: not asked again
    assert "account: han-mm" in (workdir / "inventories/lab/tenants/t-430100-water.yaml").read_text(encoding="utf-8")


def test_validate_a_draft_where_it_is_against_an_environment(workdir: Path) -> None:
    drafts = workdir / "drafts"
    drafts.mkdir()
    draft = drafts / "my-request.yaml"
    text = (workdir / "inventories/lab/tenants/t-430100-health.yaml").read_text(encoding="utf-8")
    # An edited copy of an existing request stands in for it (no "already defined").
    draft.write_text(text.replace("cpu: \"16\"", "cpu: \"20\""), encoding="utf-8")
    done = run("tenant", "validate", draft, "--env", "lab", cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "drafts/my-request.yaml validates against environment lab" in done.stdout and "policy check" in done.stdout
    # A problem names the draft, where it is, with its line.
    draft.write_text(text.replace("mlps_level: 3", "mlps_level: 4"), encoding="utf-8")
    done = run("tenant", "validate", draft, "--env", "lab", cwd=workdir)
    assert done.returncode == 2 and "drafts/my-request.yaml:7 mlps_level" in done.stderr
    # A finding of the policy pack on the draft's stack blocks it: exit 1, with what to do.
    draft.write_text(text.replace("  approvals:\n    - {by: sec-liwei, role: 安全审查, date: 2026-10-20, reference: HNSJ-AQ-2026-031}\n", ""),
                     encoding="utf-8")
    done = run("tenant", "validate", draft, "--env", "lab", cwd=workdir)
    assert done.returncode == 1 and "GOV-MGT-005" in done.stdout, done.stdout + done.stderr


def test_the_readme_quick_start_works_as_written(workdir: Path) -> None:
    """The department quick start in the README, run as written in a copy of the lab."""
    import shlex

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Departments: request a tenant (quick start)", 1)[1].split("```", 2)[1]
    commands = [shlex.split(line.split("#", 1)[0]) for line in block.replace("\\\n", " ").splitlines() if line.startswith("govcloud tenant")]
    assert [c[:3] for c in commands] == [["govcloud", "tenant", "new"], ["govcloud", "tenant", "validate"]]
    new, validate = commands
    done = run(*new[1:], cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    written = workdir / "inventories/lab/tenants/t-430100-water.yaml"
    draft = workdir / validate[3]
    draft.parent.mkdir(parents=True, exist_ok=True)
    draft.write_text(written.read_text(encoding="utf-8"), encoding="utf-8")
    done = run(*validate[1:], cwd=workdir)
    assert done.returncode == 0 and "validates against environment lab" in done.stdout, done.stdout + done.stderr
