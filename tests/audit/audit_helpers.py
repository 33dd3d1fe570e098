"""Helpers for the auditor tests: the command line, throwaway git repositories, small states."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from govcloud.state import ResourceState, StackState

import forkserver
from forkserver import Result

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GIT_ENV = {"GIT_AUTHOR_NAME": "zhang-wei", "GIT_AUTHOR_EMAIL": "zhang-wei@example.gov.cn",
           "GIT_COMMITTER_NAME": "zhang-wei", "GIT_COMMITTER_EMAIL": "zhang-wei@example.gov.cn",
           "GIT_AUTHOR_DATE": "2026-11-20T10:00:00+08:00", "GIT_COMMITTER_DATE": "2026-11-20T10:00:00+08:00"}


def govcloud(*args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None) -> Result:
    """The command line as a reviewer or an auditor runs it (each command its own process, tests/forkserver.py)."""
    return forkserver.govcloud(*args, cwd=cwd, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "200",
                                                    "GOVCLOUD_CACHE_DIR": "off", **(env or {})})


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class LabRepo:
    """A git repository holding a copy of the lab inventory (``inventories/lab``)."""

    def __init__(self, root: Path):
        self.root = root
        self.inventories = root / "inventories"
        self.lab = self.inventories / "lab"
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(REPO / "inventories" / "lab", self.lab)
        git(root, "init", "-q", "-b", "main")
        self.commit("the lab as shipped")

    def commit(self, message: str) -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.root, "rev-parse", "HEAD")

    def edit(self, relative: str, old: str, new: str, count: int = 1) -> None:
        path = self.lab / relative
        text = path.read_text(encoding="utf-8")
        assert text.count(old) >= count, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    def diff(self, *args: str, cwd: Path = REPO) -> Result:
        return govcloud("--inventories", self.inventories, "diff", "--env", "lab", *args, cwd=cwd)


def resource(stack: str, kind: str, name: str, inputs: dict[str, Any], *, api: str = "core/v1", provider: str = "cluster-egov-1",
             secret_paths: tuple[str, ...] = (), custom: bool = True) -> ResourceState:
    type_token = f"kubernetes:{api}:{kind}"
    return ResourceState(
        urn=f"urn:pulumi:{stack}::govcloud::govcloud:platform:TenantEnvironment${type_token}::{name}",
        type=type_token, name=name, custom=custom,
        provider=f"urn:pulumi:{stack}::govcloud::pulumi:pulumi:Stack$pulumi:providers:kubernetes::{provider}",
        inputs=inputs, secret_paths=secret_paths)


def provider(stack: str, name: str = "cluster-egov-1", **inputs: Any) -> ResourceState:
    return ResourceState(urn=f"urn:pulumi:{stack}::govcloud::pulumi:pulumi:Stack$pulumi:providers:kubernetes::{name}",
                         type="pulumi:providers:kubernetes", name=name, custom=True,
                         inputs={"context": "lab-egov-1", "enableServerSideApply": "true", **inputs})


def state(stack: str, *resources: ResourceState, tenant: str | None = "t-430100-health") -> StackState:
    return StackState(stack=stack, env="lab", kind="tenant" if tenant else "foundation", cluster="egov-1",
                      kubernetes_version="1.31", tenant=tenant, resources=tuple(resources))


# --- a scenario with policy verdict changes --------------------------------------------------------
TODAY = "2026-11-25"
APPROVAL = {
    "pubsec": "  approvals:\n    - {by: sec-wangfang, role: 安全审查, date: 2026-11-02, reference: HNSJ-AQ-2026-044}\n",
    "finance": "  approvals:\n    - {by: sec-liwei, role: 安全审查, date: 2026-11-05, reference: HNSJ-AQ-2026-047}\n",
    "hrss": "  approvals:\n    - {by: sec-wangfang, role: 安全审查, date: 2026-10-28, reference: HNSJ-AQ-2026-038}\n",
}
def waiver(waiver_id: str, rule: str, tenant: str, reason: str, approver: str, created: str, expires: str) -> str:
    """One waiver as it is written in waivers.yaml (indented under ``waivers:``)."""
    return (f"  - id: {waiver_id}\n    rule: {rule}\n    scope: {{tenant: {tenant}}}\n    reason: {reason}\n"
            f"    approver: {approver}\n    created: {created}\n    expires: {expires}\n")


TOURISM_REASON = "文旅网站二级定级备案办理中（受理号 YY-2026-0931）"
TOURISM_WAIVER = waiver("W-2026-100", "GOV-SVC-004", "t-430600-tourism", TOURISM_REASON, "sec-liwei", "2026-11-01", "2027-01-15")
FINANCE_WAIVER = waiver("W-2026-101", "GOV-MGT-005", "t-430000-finance", "安全审查复核中，临时豁免至复核完成", "sec-wangfang",
                        "2026-11-20", "2026-12-10")
HEADER = "# yaml-language-server: $schema=../../schemas/waivers.schema.json\nwaivers:\n"


def tenant_file(name: str) -> str:
    return {"pubsec": "tenants/t-430000-pubsec.yaml", "finance": "tenants/t-430000-finance.yaml", "hrss": "tenants/t-430100-hrss.yaml"}[name]


def policy_scenario(root: Path) -> LabRepo:
    """before: pubsec without its approval, tourism waived; after: pubsec approved, the tourism waiver gone,
    hrss and finance without approvals, finance waived until 2026-12-10."""
    lab = LabRepo(root)
    lab.edit(tenant_file("pubsec"), APPROVAL["pubsec"], "")
    (lab.lab / "waivers.yaml").write_text(HEADER + TOURISM_WAIVER, encoding="utf-8")
    lab.before = lab.commit("pubsec approval pending; tourism waived")
    lab.edit(tenant_file("pubsec"), "datasets:\n", APPROVAL["pubsec"] + "datasets:\n")
    lab.edit(tenant_file("hrss"), APPROVAL["hrss"], "")
    lab.edit(tenant_file("finance"), APPROVAL["finance"], "")
    (lab.lab / "waivers.yaml").write_text(HEADER + FINANCE_WAIVER, encoding="utf-8")
    lab.after = lab.commit("pubsec approved; hrss and finance reviews withdrawn; finance waived")
    return lab
