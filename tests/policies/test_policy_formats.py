"""Report formats: SARIF validated against the official 2.1.0 schema, JUnit, JSON, the table."""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from govcloud import labels
from govcloud.check import formats
from govcloud.check.results import CheckReport, Result, StackReport, WaiverRef
from govcloud.check.run import CheckSession
from govcloud.model import load_environment
from govcloud.text import json_bytes

from policy_builders import all_states, edit
from policy_helpers import PACK, copy_lab

SCHEMA = json.loads((Path(__file__).parent / "support" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
WAIVER = """waivers:
  - id: W-2026-007
    rule: GOV-MGT-004
    scope: {tenant: t-430100-health}
    reason: 变更单补录中
    approver: sec-wangfang
    created: 2026-11-20
    expires: 2026-12-20
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Health with two findings: one waived (GOV-MGT-004), one failed (GOV-SEC-002); plus passes."""
    tmp = tmp_path_factory.mktemp("formats")
    (copy_lab(tmp) / "waivers.yaml").write_text(WAIVER, encoding="utf-8")
    env = load_environment("lab", tmp / "inventories")
    health = next(s for s in all_states(env) if s.stack == "lab.t-430100-health")
    ns = "t-430100-health-app"
    health = edit(health, "Namespace", ns, lambda i: i["metadata"]["annotations"].pop(labels.CHANGE_REASON))
    health = edit(health, "Namespace", ns, lambda i: i["metadata"]["labels"].update({labels.PSA_WARN: "baseline"}))
    with CheckSession(env, PACK) as session:
        return session.check([health], dt.date(2026, 11, 25))


def test_report_holds_failed_waived_and_passed(report):
    assert {r.status for r in report.results} == {"failed", "waived", "passed"}


def test_sarif_is_valid_sarif_2_1_0(report):
    log = json.loads(formats.to_sarif(report))
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r["id"] for r in report.rules]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["GOV-SEC-002"]["level"] == "error" and "suppressions" not in by_rule["GOV-SEC-002"]
    [suppression] = by_rule["GOV-MGT-004"]["suppressions"]
    assert suppression["status"] == "accepted" and "W-2026-007" in suppression["justification"] and "2026-12-20" in suppression["justification"]
    assert run["results"][0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("urn:pulumi:lab.t-430100-health::")


def test_sarif_schema_catches_a_broken_log(report):
    """The validation above can fail: a log with a wrong version does not pass."""
    log = json.loads(formats.to_sarif(report))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_junit_counts_failures_and_waivers(report):
    root = ET.fromstring(formats.to_junit(report))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert suite.get("name") == "lab.t-430100-health"
    assert int(suite.get("tests")) == len(cases) == len(report.results)
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert [c.get("classname") for c in failures] == ["lab.t-430100-health.GOV-SEC-002"]
    assert "waived by W-2026-007 until 2026-12-20" in skipped[0].find("skipped").get("message")
    assert root.get("failures") == "1" and root.get("skipped") == "1"


def test_json_has_rule_urn_stack_status_and_waiver(report):
    data = json.loads(formats.to_json(report))
    assert data["format"] == "govcloud.check/v1" and data["summary"]["verdict"] == "fail"
    waived = [r for r in data["results"] if r["status"] == "waived"]
    assert waived == [{
        "stack": "lab.t-430100-health", "rule": "GOV-MGT-004", "urn": waived[0]["urn"], "type": "kubernetes:core/v1:Namespace",
        "status": "waived", "enforcement": "mandatory", "severity": "medium", "message": waived[0]["message"],
        "waiver": {"id": "W-2026-007", "expires": "2026-12-20", "reason": "变更单补录中", "approver": "sec-wangfang"},
        "source": waived[0]["source"],
    }]
    assert waived[0]["source"]["file"].endswith("inventories/lab/tenants/t-430100-health.yaml")
    assert waived[0]["source"]["field"] == "change" and waived[0]["source"]["line"] > 1
    assert data["stacks"][0]["digest"].startswith("sha256:") and data["pack"]["version"] == "1.0.0"
    assert formats.to_json(report) == formats.to_json(report)  # deterministic


def test_table_shows_waived_findings(report):
    out = io.StringIO()
    formats.print_table(report, Console(file=out, width=200))
    text = out.getvalue()
    assert "waived W-2026-007 until 2026-12-20" in text and "GOV-SEC-002" in text and "FAIL" in text


def test_sarif_points_at_the_inventory_line_with_the_rendered_resource_related(report):
    """Code scanning links a finding to what fixes it: the request's field, with its line."""
    log = json.loads(formats.to_sarif(report))
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "GOV-SEC-002")
    [location] = result["locations"]
    uri = location["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("inventories/lab/tenants/t-430100-health.yaml") and not uri.endswith("state.json")
    line = location["physicalLocation"]["region"]["startLine"]
    assert Path(uri).read_text(encoding="utf-8").splitlines()[line - 1].startswith("mlps_level:")
    [related] = result["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"].endswith("lab.t-430100-health/state.json")
    assert related["logicalLocations"][0]["fullyQualifiedName"] == result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]


def test_sarif_fingerprints_do_not_change_with_the_wording(report):
    """A waiver note or a reworded message must not make code scanning see a new finding."""
    import dataclasses

    before = {r["ruleId"]: r["partialFingerprints"] for r in json.loads(formats.to_sarif(report))["runs"][0]["results"]}
    reworded = dataclasses.replace(report, stacks=tuple(
        s.with_results(r._replace(message=r.message + " (reworded)", note="W-1 expired on 2026-11-01") for r in s.results)
        for s in report.stacks))
    after = {r["ruleId"]: r["partialFingerprints"] for r in json.loads(formats.to_sarif(reworded))["runs"][0]["results"]}
    assert before == after and all("reworded" not in str(v) for v in after.values())


def test_junit_advisory_findings_are_not_failures(tmp_path):
    """The check exits 0 on advisory findings: JUnit must not turn a CI dashboard red for them."""
    env = load_environment("lab", copy_lab(tmp_path).parent)
    tourism = next(s for s in all_states(env) if s.stack == "lab.t-430600-tourism")  # MLPS 1 on the internet: GOV-SVC-004, advisory
    with CheckSession(env, PACK) as session:
        checked = session.check([tourism], dt.date(2026, 11, 25))
    assert checked.exit_code == 0 and any(r.status == "failed" and r.enforcement == "advisory" for r in checked.results)
    root = ET.fromstring(formats.to_junit(checked))
    assert root.get("failures") == "0" and root.findall(".//failure") == []
    advisory = [c for c in root.iter("testcase") if c.get("classname", "").endswith("GOV-SVC-004") and c.find("skipped") is not None]
    assert advisory and advisory[0].find("skipped").get("message").startswith("advisory (not enforced)")


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)  # Chinese, controls, quotes, "\n"
_RESULTS = st.lists(st.builds(
    Result, stack=st.sampled_from(["lab.a", "lab.b"]), rule=_TEXT, urn=_TEXT, resource_type=_TEXT,
    status=st.sampled_from(["failed", "waived", "passed"]), enforcement=st.sampled_from(["advisory", "mandatory"]),
    severity=_TEXT, message=_TEXT, waiver=st.none() | st.builds(WaiverRef, _TEXT, _TEXT, _TEXT, _TEXT), note=_TEXT,
    source=st.none() | st.fixed_dictionaries({"file": _TEXT, "line": st.integers(1, 10**6), "field": _TEXT})), max_size=4)


@settings(max_examples=200, deadline=None)
@given(stacks=st.lists(_RESULTS, max_size=4), marker=_TEXT)
def test_the_json_report_joined_from_fragments_is_the_report_encoded_whole(stacks, marker):
    """What the verdict cache keeps of a stack (``StackReport.fragment``) reads back as the same
    results, and the JSON report joined from fragments is byte for byte the report encoded whole,
    whatever the text holds (empty stacks, no results at all, text that looks like the marker)."""
    reports = [StackReport(f"lab.s{i}", "tenant", marker or None, "sha256:" + "0" * 64, f"{marker}/state.json", tuple(results))
               for i, results in enumerate(stacks)]
    report = CheckReport("lab", "2026-11-25", {"name": marker, "version": "1", "digest": "d", "config_digest": "c"},
                         ({"id": marker, "title": "govcloud-results-"},), tuple(reports))
    assert formats.to_json(report) == json_bytes(report.as_dict())
    for made in reports:
        cached = StackReport(made.stack, made.kind, made.tenant, made.digest, made.state_file, fragment=made.fragment)
        assert cached.results == made.results and cached.counts == made.counts and cached.blocking == made.blocking
