"""Hostile values on the command line itself: environment and stack names, dates, ledger
subjects, the flags of `tenant new`. Path traversal, shell metacharacters, Rich markup, control
characters, non-DNS and absurdly long names must each end in exit 2 with one clear line, no
traceback, no hang, nothing written (nothing is ever passed to a shell; the checks here keep it
that way for the error paths too).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govcloud.model import codes

from .conftest import Unchanged, refused
from .test_inventory_inputs import EXAMPLES, MARKUP, REFUSED_CONTROLS, SHELL, TRAVERSAL

HOSTILE_NAMES = TRAVERSAL + SHELL + MARKUP + ["LAB", "", "a" * 300, "lab\n", "lab\x1b[2J", "ｌａｂ", "lab/", "-lab"]
NOT_DNS = st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(max_size=80)).filter(lambda s: codes.dns_label_problem(s) is not None)
BAD_DATES = ["2026-13-45", "tomorrow", "[/x]", "", "2026-02-30", "9" * 5000, "2026-11-25\n", "２０２６-１１-２５"]

ENV_COMMANDS = [("validate",), ("tenant", "list"), ("render",), ("stacks", "list"), ("platform", "show"), ("policy", "config"),
                ("check",), ("report", "--report-dir", "out")]


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(env=NOT_DNS, command=st.sampled_from(ENV_COMMANDS))
def test_environment_names(govcloud, workspace, env: str, command: tuple[str, ...]) -> None:
    if "\x00" in env:  # the kernel cannot pass a NUL in an argument: not a value a user can give
        env = env.replace("\x00", "\x01")
    with Unchanged(workspace):
        refused(govcloud(*command, "--env", env, cwd=workspace), "environment")


@pytest.mark.parametrize("stack", ["../lab.t-430100-health", "lab.t-430100-health;id", "[/x]", "lab.t-430100-nobody", "lab.\x1b[2J", ""])
@pytest.mark.parametrize("command", [("render",), ("check",), ("review", "--reviewer", "sec-liwei", "--key", "env:NONE"), ("deploy", "--preview")])
def test_stack_names(govcloud, workspace, stack: str, command: tuple[str, ...]) -> None:
    with Unchanged(workspace):
        result = govcloud(*command, "-s", stack, cwd=workspace)
    refused(result)


@pytest.mark.parametrize("day", BAD_DATES)
@pytest.mark.parametrize("command", [("check", "--today"), ("report", "--report-dir", "out", "--today"), ("review", "-s", "t-430100-health",
                                     "--reviewer", "sec-liwei", "--key", "env:NONE", "--now"), ("tenant", "validate", "inventories/lab/tenants/t-430100-health.yaml", "--today")])
def test_dates(govcloud, workspace, day: str, command: tuple[str, ...]) -> None:
    with Unchanged(workspace):
        refused(govcloud(*command, day, cwd=workspace))


LEDGER_APPEND = ("ledger", "append", "--ledger", "ledger", "--ledger-key", "env:NO_SUCH_KEY", "--evidence", "inventories/lab/platform.yaml")


@pytest.mark.parametrize("extra", [
    ("--kind", "[/x]", "--env", "lab", "--summary", "s"),
    ("--kind", "check", "--env", "../lab", "--summary", "s"),
    ("--kind", "check", "--env", "lab", "--stack", "$(id)", "--summary", "s"),
    ("--kind", "check", "--env", "lab", "--summary", "s", "--detail", "no-equals-sign"),
    ("--kind", "check", "--env", "lab", "--summary", "s", "--tenant", "[bold]t"),
], ids=["kind", "env", "stack", "detail", "tenant"])
def test_ledger_subjects(govcloud, workspace, extra: tuple[str, ...]) -> None:
    with Unchanged(workspace):
        refused(govcloud(*LEDGER_APPEND, *extra, cwd=workspace))


TENANT_NEW = {"--slug": "tourism2", "--department": "岳阳市文化旅游广电局", "--uscc": "1143060000030002XM", "--region": "430600", "--level": "1",
              "--cluster": "internet-1", "--system": "peng-fei=彭飞", "--security": "yang-xue=杨雪", "--audit": "cao-rui=曹锐",
              "--requested-by": "peng-fei", "--reason": "文旅资讯网站", "--review-by": "2027-04-30"}


@pytest.mark.parametrize("flag, value", [
    ("--slug", "../../etc"), ("--slug", "$(id)"), ("--slug", "[/x]"), ("--department", "文旅\n# APPROVED"), ("--department", "[bold]x\x1b[2J"),
    ("--reason", "a\u202eb"), ("--region", "43060" + "0" * 5000), ("--cluster", "../internet-1"), ("--namespace", "../app"),
    ("--system", "[/x]=彭飞"), ("--review-by", "[/x]"), ("--service", "web:wlj.yueyang.gov.cn:8080:/../../etc"),
    ("--service", "web:10.0.0.1:8080"), ("--cpu", "9" * 5000), ("--level", "9" * 50),
])
def test_tenant_new_flags(govcloud, workspace, flag: str, value: str) -> None:
    flags = {**TENANT_NEW, flag: value}
    argv = [item for pair in flags.items() for item in pair]
    with Unchanged(workspace):
        refused(govcloud("tenant", "new", "--no-check", *argv, cwd=workspace))


def test_a_valid_tenant_new_still_writes(govcloud, workspace) -> None:
    """The control: the same flags without the hostile value are accepted and written."""
    argv = [item for pair in TENANT_NEW.items() for item in pair]
    result = govcloud("tenant", "new", "--no-check", *argv, cwd=workspace)
    assert result.returncode == 0, result
    assert (workspace / "inventories" / "lab" / "tenants" / "t-430600-tourism2.yaml").is_file()


@pytest.mark.parametrize("controls", REFUSED_CONTROLS[1:8])
def test_control_characters_in_the_reason_flag(govcloud, workspace, controls: str) -> None:
    flags = {**TENANT_NEW, "--reason": f"文旅{controls}资讯"}
    with Unchanged(workspace):
        refused(govcloud("tenant", "new", "--no-check", *[i for p in flags.items() for i in p], cwd=workspace))


@pytest.fixture
def repository(workspace):
    """The workspace as a git repository with the lab inventory committed."""
    import subprocess

    for args in (("init", "-q"), ("add", "-A"), ("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "lab")):
        subprocess.run(["git", *args], cwd=workspace, check=True, capture_output=True)
    return workspace


@pytest.mark.parametrize("revision", ["$(id)", "--output=/tmp/govcloud-pwned", "-h", "HEAD;id", "[/x]", "HEAD\n", "", "HEAD@{", "a" * 5000])
def test_revisions(govcloud, repository, revision: str) -> None:
    """A revision is never an option or a shell word for git (rev-parse --end-of-options)."""
    with Unchanged(repository):
        refused(govcloud("diff", "--env", "lab", "--from", revision, "--worktree", "--no-policy", cwd=repository))


def test_a_broken_inventory_at_a_revision_is_named_with_it(govcloud, repository) -> None:
    import subprocess

    tourism = repository / "inventories" / "lab" / "tenants" / "t-430600-tourism.yaml"
    tourism.write_text(tourism.read_text(encoding="utf-8").replace("mlps_level: 1", "mlps_level: 1\n'[/x]': 1"), encoding="utf-8")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-am", "broken"], cwd=repository, check=True)
    with Unchanged(repository):
        refused(govcloud("diff", "--env", "lab", "--from", "HEAD~1", "--to", "HEAD", "--no-policy", cwd=repository),
                "inventories/lab/tenants/t-430600-tourism.yaml", "unknown key '[/x]'")
