"""The lab as the real stacks/ program renders it passes the pack: every stack, every object."""

from __future__ import annotations

import pytest

from govcloud.check.run import load_states
from govcloud.render import pipeline

from policy_helpers import INVENTORIES, LAB_ADVISORIES, TODAY


@pytest.fixture(scope="module")
def rendered(lab, tmp_path_factory):
    build = tmp_path_factory.mktemp("lab-render")
    results = pipeline.render(lab, INVENTORIES, build / "render" / "lab")
    assert results and all(r.ok for r in results), [e for r in results for e in r.errors]
    return load_states(build / "render" / "lab", lab, [s.name for s in lab.stacks])


def test_the_rendered_lab_passes(lab_session, rendered):
    report = lab_session.check(rendered, TODAY)
    assert report.exit_code == 0 and len(report.stacks) == 11
    assert {(r.stack, r.rule) for r in report.results if r.status != "passed"} == LAB_ADVISORIES
    assert all(r.enforcement == "advisory" for r in report.results if r.status == "failed")


def test_the_pack_looks_at_every_kubernetes_object_of_the_render(lab_session, rendered):
    """Each object of the render is judged by at least one rule (nothing slips past unlooked)."""
    report = lab_session.check(rendered, TODAY)
    judged = {r.urn for r in report.results}
    objects = {r.urn for s in rendered for r in s.kubernetes_objects() if not r.type.endswith("Patch")}
    assert objects and objects <= judged
    # and the rules that have something to look at in the render all did
    applied = {r.rule for r in report.results}
    assert len(applied) >= 28
