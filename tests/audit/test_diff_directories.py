"""`govcloud diff --from-dir A --to-dir B`: two render directories, optionally with the check
results of each side; secrets written in clear into a state never reach the report."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from govcloud.state import ResourceState, StackState

from audit_helpers import REPO, govcloud

STACK = "lab.t-430100-health"
PASSWORDS = ("Zq8vN3pLx2Tw9sKd4HfR7mYc", "Pw5rT8yUi1oPa3sDf6gHj9kL")


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """before/render/lab: the lab as rendered; after/render/lab: the same with health's quota raised,
    its data pool credentials carrying a clear-text password (as a hand-edited state might), and
    in hrss the deployer bound to another role and the audit role bound to the system administrator."""
    root = tmp_path_factory.mktemp("dirs")
    before, after = root / "before", root / "after"
    done = govcloud("render", "--env", "lab", "--render-dir", before / "render" / "lab")
    assert done.returncode == 0, done.stderr
    shutil.copytree(before, after)

    def rewrite(base, stack, change) -> None:
        path = base / "render" / "lab" / stack / "state.json"
        state = StackState.load(path)
        state = dataclasses.replace(state, resources=tuple(change(r) for r in state.resources))
        path.write_text(state.to_json(), encoding="utf-8")

    def quota(resource: ResourceState) -> ResourceState:
        if resource.name == "t-430100-health-app/quota":
            inputs = json.loads(json.dumps(resource.inputs))
            inputs["spec"]["hard"]["pods"] = "40"
            return dataclasses.replace(resource, inputs=inputs)
        return resource

    def password(value: str):
        def change(resource: ResourceState) -> ResourceState:
            if resource.name == "t-430100-health-app/datapool-credentials":
                inputs = json.loads(json.dumps(resource.inputs))
                inputs["stringData"]["password"] = value
                return dataclasses.replace(resource, inputs=inputs)
            return resource
        return change

    def role(resource: ResourceState) -> ResourceState:
        if resource.kind == "RoleBinding" and resource.name == "t-430100-hrss-app/deployer":
            inputs = json.loads(json.dumps(resource.inputs))
            inputs["roleRef"]["name"] = "govcloud-tenant-admin"
            return dataclasses.replace(resource, inputs=inputs)
        if resource.kind == "RoleBinding" and resource.name == "t-430100-hrss-app/admin-audit":
            inputs = json.loads(json.dumps(resource.inputs))
            inputs["subjects"][0]["name"] = "wang-qiang"  # the system administrator, auditing himself
            return dataclasses.replace(resource, inputs=inputs)
        return resource

    rewrite(before, STACK, password(PASSWORDS[0]))
    rewrite(after, STACK, lambda r: quota(password(PASSWORDS[1])(r)))
    rewrite(after, "lab.t-430100-hrss", role)
    return before, after


def test_render_directories_are_compared(builds) -> None:
    before, after = builds
    done = govcloud("diff", "--from-dir", before / "render" / "lab", "--to-dir", after / "render" / "lab", "--output", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["source"]["mode"] == "directories" and report["env"] == "lab"
    changes = {(s["stack"], r["name"]): r for s in report["stacks"] for r in s["resources"]}
    assert set(changes) == {(STACK, "t-430100-health-app/quota"), (STACK, "t-430100-health-app/datapool-credentials"),
                            ("lab.t-430100-hrss", "t-430100-hrss-app/deployer"), ("lab.t-430100-hrss", "t-430100-hrss-app/admin-audit")}
    assert changes[("lab.t-430100-hrss", "t-430100-hrss-app/admin-audit")]["op"] == "update"
    assert changes[(STACK, "t-430100-health-app/quota")]["fields"] == [
        {"path": 'spec.hard.pods', "change": "update", "old": "25", "new": "40"}]
    assert changes[("lab.t-430100-hrss", "t-430100-hrss-app/deployer")]["op"] == "replace"
    assert changes[("lab.t-430100-hrss", "t-430100-hrss-app/deployer")]["replace_reasons"] == ["roleRef"]
    secret = changes[(STACK, "t-430100-health-app/datapool-credentials")]
    assert secret["op"] == "replace" and secret["fields"] == [
        {"path": "stringData.password", "change": "update", "old": "[secret]", "new": "[secret]"}]
    assert report["summary"]["stacks_compared"] == 11


@pytest.mark.parametrize("format", ["md", "html", "json"])
def test_clear_text_secrets_never_reach_the_report(builds, format) -> None:
    before, after = builds
    assert PASSWORDS[1] in (after / "render" / "lab" / STACK / "state.json").read_text()
    done = govcloud("diff", "--from-dir", before / "render" / "lab", "--to-dir", after / "render" / "lab", "--output", format)
    assert done.returncode == 0, done.stderr
    for password in PASSWORDS:
        assert password not in done.stdout


def test_check_results_of_both_sides_give_the_verdict_changes(builds) -> None:
    before, after = builds
    checks = []
    for side in (before, after):
        out = side / "check.json"
        done = govcloud("check", "--env", "lab", "--render-dir", side / "render" / "lab", "--output", "json", "--out", out, "--today", "2026-11-25")
        assert done.returncode in (0, 1), done.stderr
        checks.append(out)
    done = govcloud("diff", "--from-dir", before / "render" / "lab", "--to-dir", after / "render" / "lab",
                    "--from-check", checks[0], "--to-check", checks[1], "--output", "json")
    assert done.returncode == 0, done.stderr
    policy = json.loads(done.stdout)["policy"]
    new = {(f["stack"], f["rule"]) for f in policy["new_findings"]}
    assert ("lab.t-430100-hrss", "GOV-SEC-006") in new  # the audit role is bound to the system administrator
    assert all(f["stack"] == "lab.t-430100-hrss" for f in policy["new_findings"])
    assert policy["fixed_findings"] == []


def test_a_removed_stack_and_bad_directories(builds, tmp_path) -> None:
    before, after = builds
    fewer = tmp_path / "fewer"
    shutil.copytree(before / "render" / "lab", fewer)
    shutil.rmtree(fewer / "lab.t-430600-tourism")
    report = json.loads(govcloud("diff", "--from-dir", before / "render" / "lab", "--to-dir", fewer, "--output", "json").stdout)
    [tourism] = [s for s in report["stacks"] if s["stack"] == "lab.t-430600-tourism"]
    assert tourism["status"] == "removed" and {r["op"] for r in tourism["resources"]} == {"delete"}
    done = govcloud("diff", "--from-dir", tmp_path / "nowhere", "--to-dir", fewer)
    assert done.returncode == 2 and "no such render directory" in done.stderr
    (fewer / "lab.t-430100-health" / "state.json").write_text("{not json", encoding="utf-8")
    done = govcloud("diff", "--from-dir", before / "render" / "lab", "--to-dir", fewer)
    assert done.returncode == 2 and "not a readable desired state" in done.stderr and "Traceback" not in done.stderr
    done = govcloud("diff", "--from-dir", before / "render" / "lab", "--to-dir", fewer, "--from-check", REPO / "README.md")
    assert done.returncode == 2 and "give both check results" in done.stderr
