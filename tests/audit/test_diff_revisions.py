"""`govcloud diff --from REV --to REV|--worktree` on a real git repository holding the lab:
each kind of change, a pair without changes, the work tree left alone, bad input."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from audit_helpers import FIXTURES, LabRepo, git, govcloud

HEALTH = "tenants/t-430100-health.yaml"


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> LabRepo:
    """base: the lab; change: one tenant removed, one added, one tenant's quota raised and a dataset published;
    comment: the same inventory with only a YAML comment edited."""
    lab = LabRepo(tmp_path_factory.mktemp("repo") / "govcloud-inventory")
    lab.base = git(lab.root, "rev-parse", "HEAD")
    (lab.lab / "tenants" / "t-430600-tourism.yaml").unlink()
    shutil.copy(FIXTURES / "t-430100-transport.yaml", lab.lab / "tenants")
    lab.edit(HEALTH, 'quotas: {cpu: "16", memory: 32Gi}', 'quotas: {cpu: "24", memory: 32Gi}')
    lab.edit(HEALTH, "    - name: health-records\n", "    - name: vaccination\n      description: 预防接种记录（脱敏）\n"
             "      sharing: conditional\n      sensitivity: important\n    - name: health-records\n")
    lab.change = lab.commit("health: more CPU, publish vaccination records; tourism leaves; transport joins")
    lab.edit(HEALTH, "# yaml-language-server", "# reviewed 2026-11-21\n# yaml-language-server")
    lab.comment = lab.commit("a comment only")
    return lab


@pytest.fixture(scope="module")
def report(repo: LabRepo) -> dict:
    done = repo.diff("--from", repo.base, "--to", repo.change, "--output", "json", "--no-policy")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def stack(report: dict, name: str) -> dict:
    [found] = [s for s in report["stacks"] if s["stack"] == name]
    return found


def ops(report: dict, name: str) -> dict[str, str]:
    return {r["name"]: r["op"] for r in stack(report, name)["resources"]}


def test_removed_tenant_deletes_every_object(report: dict) -> None:
    tourism = stack(report, "lab.t-430600-tourism")
    assert tourism["status"] == "removed"
    assert set(ops(report, "lab.t-430600-tourism").values()) == {"delete"}
    assert "t-430600-tourism-app" in ops(report, "lab.t-430600-tourism")


def test_added_tenant_creates_its_objects(report: dict) -> None:
    transport = ops(report, "lab.t-430100-transport")
    assert stack(report, "lab.t-430100-transport")["status"] == "added"
    assert set(transport.values()) == {"create"}
    assert {"t-430100-transport-app", "t-430100-transport-app/quota", "t-430100-transport-app/default-deny"} <= set(transport)


def test_field_change_has_old_and_new_values(report: dict) -> None:
    [quota] = [r for r in stack(report, "lab.t-430100-health")["resources"] if r["name"] == "t-430100-health-app/quota"]
    assert quota["op"] == "update"
    assert {"path": 'spec.hard["requests.cpu"]', "change": "update", "old": "8", "new": "12"} in quota["fields"]


def test_immutable_field_change_is_a_replacement(report: dict) -> None:
    [config] = [r for r in stack(report, "lab.t-430100-health")["resources"] if r["name"] == "t-430100-health-app/datapool"]
    assert config["op"] == "replace" and config["replace_reasons"] == ["data"]
    assert config["fields"] == [{"path": "data.GOVCLOUD_DATASETS_PUBLISHED", "change": "update",
                                 "old": "health-records,clinic-directory", "new": "vaccination,health-records,clinic-directory"}]


def test_unchanged_stacks_are_not_listed_and_most_are_not_rendered(report: dict) -> None:
    assert {s["stack"] for s in report["stacks"]} == {"lab.t-430600-tourism", "lab.t-430100-transport", "lab.t-430100-health"}
    plan = report["source"]["plan"]
    assert plan["full"] is False
    # health's consumers (hrss, edu, agri) read its request: rendered, found unchanged; the rest proven equal by digest
    assert plan["changed_stacks"] == 6 and plan["unchanged_not_rendered"] == report["summary"]["stacks_compared"] - 6
    assert report["summary"]["stacks_compared"] == 12


def test_tenant_rows_name_requester_reason_and_approvals(report: dict) -> None:
    rows = {r["tenant"]: r for r in report["tenants"]}
    assert rows["t-430100-transport"]["requested_by"] == "zhao-lei"
    assert rows["t-430100-transport"]["approvals"] == [
        {"by": "sec-liwei", "role": "安全审查", "date": "2026-11-18", "reference": "HNSJ-AQ-2026-077"}]
    assert rows["t-430600-tourism"]["status"] == "removed" and rows["t-430600-tourism"]["reason"]
    assert {"path": "quotas.cpu", "change": "update", "old": "16", "new": "24"} in rows["t-430100-health"]["request_changes"]


def test_source_says_both_sides_render_with_the_current_code(report: dict, repo: LabRepo) -> None:
    source = report["source"]
    assert source["from"]["commit"] == repo.base and source["to"]["commit"] == repo.change
    assert re.fullmatch(r"[0-9a-f]{40}", source["rendered_with"]["commit"])
    text = repo.diff("--from", repo.base, "--to", repo.change, "--no-policy").stdout
    assert "rendered with the current code" in text


def test_a_pair_without_changes_reports_none(repo: LabRepo) -> None:
    done = repo.diff("--from", repo.change, "--to", repo.comment, "--output", "json", "--no-policy")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["stacks"] == [] and report["summary"]["no_changes"] is True
    assert report["source"]["plan"]["changed_stacks"] >= 1  # the edited file was rendered, and found equal
    markdown = repo.diff("--from", repo.change, "--to", repo.comment, "--no-policy").stdout
    assert "**No changes**" in markdown and "Deletions" not in markdown
    assert "No changes" in repo.diff("--from", repo.comment, "--to", repo.comment, "--output", "html", "--no-policy").stdout


def test_the_work_tree_is_compared_and_left_alone(repo: LabRepo) -> None:
    path = repo.lab / HEALTH
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace("memory: 32Gi", "memory: 48Gi"), encoding="utf-8")
        status, head = git(repo.root, "status", "--porcelain"), git(repo.root, "rev-parse", "HEAD")
        done = repo.diff("--from", "HEAD", "--output", "json", "--no-policy")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["source"]["to"] == {"label": "worktree", "path": str(repo.inventories)}
        [quota] = [r for r in stack(report, "lab.t-430100-health")["resources"] if r["name"] == "t-430100-health-app/quota"]
        assert {"path": 'spec.hard["requests.memory"]', "change": "update", "old": "16Gi", "new": "24Gi"} in quota["fields"]
        assert git(repo.root, "status", "--porcelain") == status and git(repo.root, "rev-parse", "HEAD") == head
        assert path.read_text(encoding="utf-8") != original  # the uncommitted edit is still there
    finally:
        path.write_text(original, encoding="utf-8")


def test_json_evidence_is_stable(repo: LabRepo, report: dict) -> None:
    again = repo.diff("--from", repo.base, "--to", repo.change, "--output", "json", "--no-policy").stdout
    assert json.loads(again) == report
    assert again == json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def test_html_report_is_self_contained_with_a_zone_diagram(repo: LabRepo, tmp_path) -> None:
    out = tmp_path / "diff.html"
    done = repo.diff("--from", repo.base, "--to", repo.change, "--output", "html", "--out", out, "--no-policy")
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page)
    assert 'data-zone="egov-extranet"' in page and "zone-changed" in page
    positions = [page.index(f'id="{section}"') for section in ("summary", "delete", "replace", "create", "update")]
    assert positions == sorted(positions)


def test_unknown_revision_is_exit_2(repo: LabRepo) -> None:
    done = repo.diff("--from", "no-such-branch", "--no-policy")
    assert done.returncode == 2 and "unknown revision 'no-such-branch'" in done.stderr
    assert "Traceback" not in done.stderr
    done = repo.diff("--from", repo.base, "--to", "--upload-pack=evil", "--no-policy")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_not_a_git_repository_is_exit_2(tmp_path) -> None:
    shutil.copytree(FIXTURES.parents[2] / "inventories" / "lab", tmp_path / "inventories" / "lab")
    done = govcloud("--inventories", tmp_path / "inventories", "diff", "--env", "lab", "--from", "HEAD", "--no-policy", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "is not inside a git repository" in done.stderr and "--from-dir/--to-dir" in done.stderr


def test_environment_missing_at_a_revision_is_exit_2(repo: LabRepo) -> None:
    done = govcloud("--inventories", repo.inventories, "diff", "--env", "province", "--from", repo.base, "--no-policy")
    assert done.returncode == 2 and "environment province has no inventory at" in done.stderr


def test_bad_inventory_at_a_revision_names_revision_file_line_and_field(repo: LabRepo, tmp_path) -> None:
    broken = LabRepo(tmp_path / "broken")
    broken.edit(HEALTH, "mlps_level: 3", "mlps_level: 4")
    bad = broken.commit("health at level 4 in the extranet")
    done = broken.diff("--from", bad, "--no-policy")
    assert done.returncode == 2, done.stderr
    assert f"{bad}:inventories/lab/tenants/t-430100-health.yaml:7" in done.stderr and "mlps_level" in done.stderr
    assert "Traceback" not in done.stderr


def test_modes_and_options_are_checked(repo: LabRepo) -> None:
    for args in ((), ("--from", "HEAD", "--from-dir", "x"), ("--from", "HEAD", "--to", "HEAD", "--worktree"),
                 ("--from-dir", "x"), ("--to", "HEAD")):
        done = repo.diff(*args, "--no-policy")
        assert done.returncode == 2 and "error:" in done.stderr, (args, done.stderr)
