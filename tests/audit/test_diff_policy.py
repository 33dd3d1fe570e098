"""Policy verdict changes in `govcloud diff`: the check runs on both sides with the real pack.

before: the lab, a waiver for the tourism website's advisory finding, and pubsec (level 4)
without its security approval. after: that waiver removed, pubsec's approval back, hrss and
finance without theirs, finance covered by a new waiver that expires soon.
"""

from __future__ import annotations

import json

import pytest

from audit_helpers import TODAY, LabRepo, git, policy_scenario


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> LabRepo:
    return policy_scenario(tmp_path_factory.mktemp("policy") / "repo")


@pytest.fixture(scope="module")
def report(repo: LabRepo) -> dict:
    done = repo.diff("--from", repo.before, "--to", repo.after, "--today", TODAY, "--output", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def keyed(findings: list[dict]) -> set[tuple[str, str, str]]:
    return {(f["stack"], f["rule"], f["status"]) for f in findings}


def test_new_blocking_finding(report: dict) -> None:
    new = report["policy"]["new_findings"]
    assert ("lab.t-430100-hrss", "GOV-MGT-005", "failed") in keyed(new)
    [hrss] = [f for f in new if f["stack"] == "lab.t-430100-hrss"]
    assert hrss["blocking"] is True and hrss["enforcement"] == "mandatory"
    assert report["summary"]["policy"]["new_blocking"] == 1


def test_new_finding_covered_by_a_new_waiver(report: dict) -> None:
    [finance] = [f for f in report["policy"]["new_findings"] if f["stack"] == "lab.t-430000-finance"]
    assert finance["status"] == "waived" and finance["waiver"]["id"] == "W-2026-101" and finance["blocking"] is False


def test_fixed_finding(report: dict) -> None:
    assert keyed(report["policy"]["fixed_findings"]) == {("lab.t-430000-pubsec", "GOV-MGT-005", "failed")}


def test_removed_waiver_turns_waived_findings_into_failures(report: dict) -> None:
    changes = report["policy"]["status_changes"]
    assert {(f["stack"], f["rule"], f["before"], f["status"]) for f in changes} == {
        ("lab.t-430600-tourism", "GOV-SVC-004", "waived", "failed")}
    assert all(f["waiver_before"] == "W-2026-100" for f in changes)
    # the tourism stack itself did not change: it was checked because a waiver in its scope did
    assert "lab.t-430600-tourism" not in {s["stack"] for s in report["stacks"]}


def test_waivers_added_removed_and_expiring(report: dict) -> None:
    waivers = report["waivers"]
    assert [w["id"] for w in waivers["added"]] == ["W-2026-101"]
    assert [w["id"] for w in waivers["removed"]] == ["W-2026-100"]
    assert [(w["id"], w["days_left"]) for w in waivers["expiring"]] == [("W-2026-101", 15)]
    assert waivers["added"][0]["reason"] == "安全审查复核中，临时豁免至复核完成"


def test_markdown_and_html_show_the_verdicts(repo: LabRepo) -> None:
    markdown = repo.diff("--from", repo.before, "--to", repo.after, "--today", TODAY).stdout
    assert "1 new finding" not in markdown  # two: hrss (blocking) and finance (waived)
    assert "2 new findings (1 blocking), 1 fixed" in markdown
    assert "**failed, blocking**" in markdown and "waived by W-2026-101 until 2026-12-10" in markdown
    assert "⚠ W-2026-101 (GOV-MGT-005, tenant t-430000-finance) expires 2026-12-10 (15 days from 2026-11-25)" in markdown
    html = repo.diff("--from", repo.before, "--to", repo.after, "--today", TODAY, "--output", "html").stdout
    assert 'id="new_findings"' in html and 'id="fixed_findings"' in html and "W-2026-100" in html
    assert '<span class="nowrap">GOV-MGT-005</span>' in html or '<span class="nowrap">GOV-SVC-004</span>' in html  # rule ids do not wrap


def test_same_revisions_have_no_verdict_changes(repo: LabRepo) -> None:
    done = repo.diff("--from", repo.after, "--to", repo.after, "--today", TODAY, "--output", "json")
    report = json.loads(done.stdout)
    assert report["summary"]["no_changes"] is True
    assert report["policy"]["new_findings"] == report["policy"]["fixed_findings"] == report["policy"]["status_changes"] == []
    assert git(repo.root, "status", "--porcelain") == ""
