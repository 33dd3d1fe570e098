"""The incremental revision diff (render and check only where input digests say something may
differ) gives exactly the report of rendering and checking every stack on both sides."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from govcloud.check.run import CheckSession
from govcloud.diff import revisions, run
from govcloud.diff.changes import diff_states
from govcloud.diff.verdicts import verdict_changes
from govcloud.model import load_environment
from govcloud.render import pipeline
from govcloud.state import StackState

from audit_helpers import FIXTURES, REPO, TODAY, policy_scenario

PACK = REPO / "policies"


def everything(repo, commit: str, scratch: Path, today: dt.date) -> tuple[dict[str, StackState], dict]:
    """Every stack of the lab at ``commit`` rendered, and all of them checked: no shortcut."""
    repository = revisions.repository_of(repo.inventories)
    inventories = revisions.materialize(repository, commit, "lab", scratch, commit)
    env = load_environment("lab", inventories)
    results = pipeline.render(env, inventories, scratch / "render", jobs=1)
    assert all(r.ok for r in results), [r.errors for r in results]
    states = {s.name: StackState.load(scratch / "render" / s.name / "state.json") for s in env.stacks}
    with CheckSession(env, PACK, scratch / "render") as session:
        return states, session.check(list(states.values()), today).as_dict()


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    lab = policy_scenario(tmp_path_factory.mktemp("incremental") / "repo")
    # more kinds of change on top: a consumer's state changes through its publisher's request,
    # a tenant joins, one leaves, a quota moves
    lab.edit("tenants/t-430100-health.yaml", "      sharing: conditional\n      sensitivity: important", "      sharing: conditional\n      sensitivity: core")
    lab.edit("tenants/t-430100-health.yaml", 'cpu: "16"', 'cpu: "20"')
    shutil.copy(FIXTURES / "t-430100-transport.yaml", lab.lab / "tenants")
    (lab.lab / "tenants" / "t-430121-agri.yaml").unlink()
    lab.after = lab.commit("more changes")
    return lab


def test_incremental_report_equals_rendering_and_checking_everything(repo, tmp_path) -> None:
    today = dt.date.fromisoformat(TODAY)
    report = run.diff_revisions("lab", repo.inventories, repo.before, repo.after, run.Options(today=today, pack=PACK, jobs=1))
    plan = report.source["plan"]
    assert not plan["full"] and plan["unchanged_not_rendered"] > 0  # the shortcut was taken
    states_before, check_before = everything(repo, repo.before, tmp_path / "before", today)
    states_after, check_after = everything(repo, repo.after, tmp_path / "after", today)
    full = [diff_states(states_before.get(n), states_after.get(n)) for n in sorted(set(states_before) | set(states_after))]
    assert [s.as_dict() for s in report.changed_stacks] == [
        s.as_dict() for s in sorted((s for s in full if s.changed), key=lambda s: (s.kind != "foundation", s.stack))]
    expected = verdict_changes(check_before, check_after)
    for key in ("new_findings", "fixed_findings", "status_changes"):
        assert report.policy[key] == expected[key], key
    assert report.policy["new_findings"] and report.policy["fixed_findings"] and report.policy["status_changes"]
    assert {s.stack for s in report.changed_stacks} >= {"lab.t-430100-health", "lab.t-430100-transport", "lab.t-430121-agri"}
