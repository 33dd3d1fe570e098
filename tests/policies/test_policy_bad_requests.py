"""Deliberately bad tenant requests that the model accepts: rendered by the real program, the
policy pack catches them.

Each case under fixtures/bad-requests/ overlays tenant files (and optionally operations on
platform.yaml) on a copy of the lab; its expected.yaml names the stack and the exact rule ids.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from govcloud.check.run import load_states, run_check
from govcloud.model import load_environment
from govcloud.render import pipeline

from policy_helpers import LAB_ADVISORIES, PACK, TODAY, copy_lab, patch_yaml

CASES = sorted(p for p in (Path(__file__).parent / "fixtures" / "bad-requests").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_request_fails_with_the_expected_rules(case, tmp_path):
    root = copy_lab(tmp_path)
    for path in sorted((case / "tenants").glob("*.yaml")):
        (root / "tenants" / path.name).write_bytes(path.read_bytes())
    ops = case / "platform-ops.yaml"
    if ops.exists():
        patch_yaml(root / "platform.yaml", yaml.safe_load(ops.read_text(encoding="utf-8")))
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))

    env = load_environment("lab", tmp_path / "inventories")  # the model accepts the request
    out = tmp_path / "build" / "render" / "lab"
    results = pipeline.render(env, tmp_path / "inventories", out)  # the real stacks/ program, offline
    assert all(r.ok for r in results), [e for r in results for e in r.errors]
    report = run_check(env, load_states(tmp_path / "build" / "render" / env.name, env, [s.name for s in env.stacks]), PACK, TODAY)

    failed = {(r.stack, r.rule) for r in report.results if r.status == "failed"}
    assert failed == {(expected["stack"], rule) for rule in expected["rules"]} | LAB_ADVISORIES, expected["why"]
    assert report.exit_code == (1 if expected["blocking"] else 0)
