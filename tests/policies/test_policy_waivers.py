"""Waivers with a fixed clock: valid ones waive (and stay visible), expired or not-yet-valid
ones stop applying, malformed ones are rejected with file, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from govcloud.check.run import CheckSession
from govcloud.model import InputError, load_environment

from policy_builders import all_states
from policy_helpers import PACK, copy_lab, patch_yaml

TOURISM = "lab.t-430600-tourism"


def waiver(**overrides) -> str:
    fields = {
        "id": "W-2026-001",
        "rule": "GOV-SVC-004",
        "scope": "{tenant: t-430600-tourism}",
        "reason": "文旅网站二级定级备案办理中（受理号 YY-2026-0931）",
        "approver": "sec-liwei",
        "created": "2026-11-01",
        "expires": "2027-01-15",
    }
    fields.update(overrides)
    return "".join(f"    {k}: {v}\n" if i else f"  - {k}: {v}\n" for i, (k, v) in enumerate(fields.items()))


def environment(tmp_path: Path, waivers: str):
    """The lab where GOV-SVC-004 is mandatory, so level-1 tourism fails it twice, with the given waivers."""
    root = copy_lab(tmp_path)
    patch_yaml(root / "platform.yaml", [{"set": ["policy", "enforcement"], "value": {"GOV-SVC-004": "mandatory"}}])
    (root / "waivers.yaml").write_text("waivers:\n" + waivers, encoding="utf-8")
    return load_environment("lab", tmp_path / "inventories")


def check(env, today: dt.date):
    states = [s for s in all_states(env) if s.stack == TOURISM]
    with CheckSession(env, PACK) as session:
        return session.check(states, today)


def findings(report):
    return sorted((r.status, r.resource_type.rsplit(":", 1)[-1], r.waiver.id if r.waiver else None) for r in report.results if r.status != "passed")


def test_valid_waiver_waives_and_keeps_the_finding_visible(tmp_path):
    report = check(environment(tmp_path, waiver()), dt.date(2026, 11, 25))
    assert findings(report) == [("waived", "Ingress", "W-2026-001"), ("waived", "Namespace", "W-2026-001")]
    assert report.exit_code == 0
    waived = [r.as_dict() for r in report.results if r.status == "waived"]
    assert all(w["waiver"]["expires"] == "2027-01-15" and w["message"] for w in waived)
    assert report.as_dict()["waivers"] == [{
        "id": "W-2026-001", "rule": "GOV-SVC-004", "scope": {"tenant": "t-430600-tourism"}, "approver": "sec-liwei",
        "created": "2026-11-01", "expires": "2027-01-15", "state": "in-force", "applied": True,
    }]


def test_waiver_applies_on_its_last_day_and_not_after(tmp_path):
    env = environment(tmp_path, waiver())
    assert check(env, dt.date(2027, 1, 15)).exit_code == 0
    report = check(env, dt.date(2027, 1, 16))
    assert findings(report) == [("failed", "Ingress", None), ("failed", "Namespace", None)]
    assert report.exit_code == 1
    assert all("W-2026-001 is expired" in r.note for r in report.results if r.status == "failed")
    assert report.as_dict()["waivers"][0]["state"] == "expired"


def test_waiver_does_not_apply_before_its_creation(tmp_path):
    report = check(environment(tmp_path, waiver()), dt.date(2026, 10, 31))
    assert report.exit_code == 1
    assert all("not-yet-valid" in r.note for r in report.results if r.status == "failed")


def test_urn_scope_waives_only_the_matching_resource(tmp_path):
    scoped = waiver(scope='{urn: "urn:pulumi:lab.t-430600-tourism::govcloud::*Ingress::*"}')
    report = check(environment(tmp_path, scoped), dt.date(2026, 11, 25))
    assert findings(report) == [("failed", "Namespace", None), ("waived", "Ingress", "W-2026-001")]
    assert report.exit_code == 1


def test_waiver_for_another_rule_or_stack_does_not_apply(tmp_path):
    other = waiver(rule="GOV-SVC-002") + waiver(id="W-2026-002", scope="{stack: lab.t-430000-portal}")
    report = check(environment(tmp_path, other), dt.date(2026, 11, 25))
    assert [r.status for r in report.results if r.rule == "GOV-SVC-004" and r.status != "passed"] == ["failed", "failed"]
    assert {w["id"]: w["applied"] for w in report.as_dict()["waivers"]} == {"W-2026-001": False, "W-2026-002": False}


@pytest.mark.parametrize("overrides,field,message", [
    ({"approver": "zhang-wei"}, "waivers[0].approver", "not a member of the security team"),
    ({"expires": "2026-10-01"}, "waivers[0].expires", "expiry must be after the creation date"),
    ({"expires": "2027-06-30"}, "waivers[0].expires", "the platform allows 90 at most"),
    ({"scope": "{tenant: t-430100-nobody}"}, "waivers[0].scope.tenant", "is not defined"),
    ({"rule": "SEC-1"}, "waivers[0].rule", "pattern"),
])
def test_malformed_waiver_is_rejected_with_file_line_and_field(tmp_path, overrides, field, message):
    with pytest.raises(InputError) as error:
        environment(tmp_path, waiver(**overrides))
    problem = next(p for p in error.value.problems if p.field == field)
    assert problem.file.endswith("waivers.yaml") and problem.line >= 2 and message in problem.message


def test_waiver_without_expiry_is_rejected(tmp_path):
    text = "".join(line for line in waiver().splitlines(keepends=True) if "expires" not in line)
    with pytest.raises(InputError) as error:
        environment(tmp_path, text)
    assert [(p.field, p.message) for p in error.value.problems] == [("waivers[0].expires", "required field is missing")]


def test_waiver_for_a_rule_the_pack_does_not_have_is_bad_input(tmp_path):
    env = environment(tmp_path, waiver() + waiver(id="W-2026-002", rule="GOV-SEC-999"))
    with pytest.raises(InputError) as error:
        check(env, dt.date(2026, 11, 25))
    [problem] = error.value.problems
    assert problem.file.endswith("waivers.yaml") and problem.field == "waivers[1].rule" and problem.line == 10
    assert "GOV-SEC-999 is not a rule of the policy pack" in problem.message


def test_waivers_in_force_become_the_engine_s_policy_exceptions_on_exactly_their_resources(tmp_path):
    """With the engine, a waived mandatory finding must not stop `pulumi preview|up` either: the
    waivers in force go into the pack configuration as policy exceptions naming the rule and the
    URNs of the scope (the engine compares URNs exactly)."""
    from govcloud.policy.config import engine_config

    env = environment(tmp_path, waiver() + waiver(id="W-2026-002", created="2025-01-01", expires="2025-03-01"))
    states = all_states(env)
    config = engine_config(env, states, dt.date(2026, 11, 25))
    assert config["version"] == 2 and config["policies"]["GOV-SVC-004"]["enforcementLevel"] == "mandatory"
    [(wid, exception)] = config["exceptions"].items()  # the expired waiver is not an exception
    assert wid == "W-2026-001" and "approved by sec-liwei" in exception["reason"]
    [match] = exception["match"]
    tourism = next(s for s in states if s.stack == TOURISM)
    assert match == {"policies": ["GOV-SVC-004"], "targets": sorted(r.urn for r in tourism.resources)}
    assert engine_config(env, states, dt.date(2027, 2, 1))["exceptions"] == {}
