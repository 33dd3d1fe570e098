"""A review certifies an engine plan only when it was made from the desired state it certifies."""

from __future__ import annotations

import copy
import json

import pytest

from govcloud.engine.plan import Plan, PlanError, problems

from policy_helpers import plan_for

HEALTH = "lab.t-430100-health"


def write(tmp_path, document) -> Plan:
    path = tmp_path / "p.plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return Plan.load(path)


def test_the_plan_of_a_desired_state_matches_it(lab_states, tmp_path):
    state = lab_states[HEALTH]
    plan = write(tmp_path, plan_for(state))
    assert problems(plan, state) == []
    assert plan.has_changes()
    summary = plan.summary()
    planned = len(plan.resources)
    assert summary["steps"] == {"create": planned} and len(summary["changes"]) == planned
    assert not write(tmp_path, plan_for(state, steps="same")).has_changes()


@pytest.mark.parametrize("edit, expected", [
    (lambda p, urn: p["resourcePlans"][urn]["goal"]["inputDiff"]["adds"]["spec"]["hard"].update({"pods": "999"}),
     "spec.hard.pods: \"999\" in the plan"),
    (lambda p, urn: p["resourcePlans"].pop(urn), "in the desired state, not in the plan"),
    (lambda p, urn: p["resourcePlans"][urn]["goal"].update({"parent": "urn:pulumi:x::y::z::w"}), "parent"),
    (lambda p, urn: p["resourcePlans"].update({urn + "-extra": copy.deepcopy(p["resourcePlans"][urn])}), "not in the desired state"),
    (lambda p, urn: p["resourcePlans"][urn]["goal"]["inputDiff"]["adds"].update({"extra": 1}), "the plan sets extra"),
])
def test_a_plan_that_departs_from_the_desired_state_is_named(lab_states, tmp_path, edit, expected):
    state = lab_states[HEALTH]
    document = plan_for(state)
    [urn] = [r.urn for r in state.resources if r.kind == "ResourceQuota"][:1]
    edit(document, urn)
    found = problems(write(tmp_path, document), state)
    assert found and any(expected in line for line in found), found


def test_a_secret_must_stay_a_secret(lab_states, tmp_path):
    state = lab_states[HEALTH]
    secret = next(r for r in state.resources if r.kind == "Secret" and r.secret_paths)
    document = plan_for(state)
    # the provider folds stringData into data: the whole of data is the secret the plan carries
    document["resourcePlans"][secret.urn]["goal"]["inputDiff"]["adds"]["data"] = {"PGPASSWORD": "in-clear"}
    found = problems(write(tmp_path, document), state)
    assert any("data: a secret in the desired state, in clear in the plan" in line for line in found), found
    assert not any("in-clear" in line for line in found)


def test_an_unreadable_plan_is_one_line(tmp_path):
    path = tmp_path / "broken.plan.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PlanError, match="not a Pulumi plan"):
        Plan.load(path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(PlanError, match="not a Pulumi plan"):
        Plan.load(path)
