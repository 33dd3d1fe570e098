"""The analyzer-protocol route end to end: the pack started as the engine starts it, spoken to
with the SDK's stubs; the engine's config reconciliation; how failures of the pack surface."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from govcloud import labels
from govcloud.check.analyzer import (
    SECRET_SIG,
    SECRET_SIG_KEY,
    ConfigError,
    PackError,
    PackProcess,
    engine_analyzed,
    pack_python,
    reconcile_config,
    wire_properties,
)
from govcloud.policy.catalog import rules
from govcloud.policy.config import build_config
from govcloud.state import ResourceState

from policy_builders import edit, tenant_state
from policy_helpers import PACK, REPO, copy_lab, patch_yaml

HEALTH = "lab.t-430100-health"


@pytest.fixture(scope="module")
def pack():
    with PackProcess(PACK) as process:
        yield process


def test_pack_runs_in_the_projects_virtualenv_as_pulumi_policy_yaml_says():
    assert Path(pack_python(PACK, {"runtime": {"name": "python", "options": {"virtualenv": "../.venv"}}})) == (REPO / ".venv").resolve() / "bin" / "python"


def test_analyzer_info_lists_every_rule_with_type_level_and_schema(pack):
    info = pack.info()
    catalog = {r.id: r for r in rules()}
    assert info.name == "govcloud" and info.version == "1.0.0"
    assert [p.name for p in info.policies] == sorted(catalog)
    for policy in info.policies:
        rule = catalog[policy.name]
        assert (policy.kind, policy.enforcement, policy.severity, policy.remediation) == (rule.scope, rule.enforcement, rule.severity, rule.remediation)
        assert sorted(policy.config_schema.get("required", [])) == sorted(rule.facts)


def test_raw_protocol_analyze_and_analyze_stack(pack, lab, lab_states):
    """Speak the protocol directly with the SDK's stubs, as the engine does, no govcloud client code."""
    pack.configure(reconcile_config(pack.info(), build_config(lab)))
    stub = analyzer_pb2_grpc.AnalyzerStub(pack._channel)
    assert len(stub.GetAnalyzerInfo(empty_pb2.Empty()).policies) == len(rules())
    state = edit(lab_states[HEALTH], "Namespace", "t-430100-health-app",
                 lambda i: i["metadata"]["labels"].update({labels.PSA_ENFORCE: "privileged"}))
    namespace = next(r for r in state.resources if r.type == "kubernetes:core/v1:Namespace")
    props = struct_pb2.Struct()
    props.update(namespace.inputs)
    response = stub.Analyze(analyzer_pb2.AnalyzeRequest(urn=namespace.urn, type=namespace.type, name=namespace.name, properties=props))
    assert {d.policyName for d in response.diagnostics} == {"GOV-SEC-002"}
    assert {d.enforcementLevel for d in response.diagnostics} == {analyzer_pb2.MANDATORY}
    not_applicable = {n.policy_name for n in response.not_applicable}
    assert "GOV-SVC-003" in not_applicable and "GOV-SEC-002" not in not_applicable  # an Ingress rule skips a Namespace
    resources = []
    for r in state.resources:
        p = struct_pb2.Struct()
        p.update(r.inputs)
        resources.append(analyzer_pb2.AnalyzerResource(urn=r.urn, type=r.type, name=r.name, properties=p))
    without_default_deny = [r for r in resources if not r.urn.endswith("t-430100-health-app/default-deny")]
    stack = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=without_default_deny))
    assert [(d.policyName, d.urn) for d in stack.diagnostics] == [("GOV-SEC-001", namespace.urn)]


def test_check_of_the_whole_lab_uses_one_pack_and_passes(lab_session, lab_states):
    report = lab_session.check(list(lab_states.values()), dt.date(2026, 11, 25))
    assert report.exit_code == 0 and len(report.stacks) == len(lab_states) == 11
    assert all(s.counts["passed"] > 0 and s.blocking == 0 for s in report.stacks)


def test_secrets_travel_wrapped_as_the_engine_sends_them():
    """At their paths, in the form the provider's Check gives the engine: a Secret's stringData
    folded into data (a secret as a whole), other kinds' secret paths wrapped where they are."""
    secret = ResourceState("urn:x", "kubernetes:core/v1:Secret", "s", True,
                           inputs={"metadata": {"annotations": {"a.b/c": "x"}}, "stringData": {"tls.key": "[secret]", "user": "u"}},
                           secret_paths=("stringData",))
    wired = wire_properties(secret)
    assert "stringData" not in wired and wired["data"] == {SECRET_SIG_KEY: SECRET_SIG, "value": "[secret]"}
    assert wired["metadata"] == {"annotations": {"a.b/c": "x"}} and secret.inputs["stringData"]["tls.key"] == "[secret]"
    config = ResourceState("urn:y", "kubernetes:core/v1:ConfigMap", "c", True,
                           inputs={"data": {"PGPASSWORD": "[secret]", "PGUSER": "u"}}, secret_paths=("data.PGPASSWORD",))
    wired = wire_properties(config)
    assert wired["data"] == {"PGPASSWORD": {SECRET_SIG_KEY: SECRET_SIG, "value": "[secret]"}, "PGUSER": "u"}


def test_the_wire_signatures_are_the_sdk_s():
    from pulumi.runtime import rpc

    from govcloud.state import RESOURCE_SIG

    assert (rpc._special_sig_key, rpc._special_secret_sig, rpc._special_resource_sig) == (SECRET_SIG_KEY, SECRET_SIG, RESOURCE_SIG)


def test_a_plain_secret_s_string_data_is_folded_as_the_provider_folds_it():
    from govcloud.state import checked_inputs

    inputs = {"type": "Opaque", "data": {"a": "YQ==", "b": "Yg=="}, "stringData": {"b": "bee", "c": "see"}}
    checked, secrets = checked_inputs("kubernetes:core/v1:Secret", inputs, ())
    assert checked == {"type": "Opaque", "data": {"a": "YQ==", "b": "YmVl", "c": "c2Vl"}} and secrets == set()
    assert checked_inputs("kubernetes:core/v1:ConfigMap", {"stringData": {"x": "y"}}, ["stringData.x"]) == \
        ({"stringData": {"x": "y"}}, {"stringData.x"})


def test_a_secret_configmap_value_still_fails_in_clear(lab_states, verdicts):
    """The pack unwraps secrets like the engine's SDK does; a ConfigMap is plaintext in the cluster anyway."""
    from dataclasses import replace

    state = edit(lab_states[HEALTH], "ConfigMap", "datapool", lambda i: i["data"].update(PGPASSWORD="[secret]"), "t-430100-health-app")
    state = replace(state, resources=tuple(replace(r, secret_paths=("data.PGPASSWORD",)) if r.inputs.get("kind") == "ConfigMap" and r.inputs["metadata"]["name"] == "datapool" else r for r in state.resources))
    failed = [r for r in verdicts(state) if r.status == "failed"]
    assert [(r.rule, "data.PGPASSWORD" in r.message) for r in failed] == [("GOV-SEC-008", True)]


# --- the engine's config reconciliation ------------------------------------------------------
def test_config_all_then_per_rule_like_the_engine(pack, lab):
    given = {**build_config(lab), "all": "advisory"}
    given["GOV-SEC-001"] = "disabled"
    reconciled = reconcile_config(pack.info(), given)
    assert reconciled["GOV-SEC-001"]["enforcementLevel"] == "disabled"
    assert reconciled["GOV-SEC-010"]["enforcementLevel"] == "mandatory"  # its own object sets it again
    given["GOV-SEC-010"] = {k: v for k, v in given["GOV-SEC-010"].items() if k != "enforcementLevel"}
    assert reconcile_config(pack.info(), given)["GOV-SEC-010"]["enforcementLevel"] == "advisory"


@pytest.mark.parametrize("change,fragment", [
    (lambda c: c.update({"GOV-SEC-404": "mandatory"}), "GOV-SEC-404: no such rule"),
    (lambda c: c.update({"GOV-SEC-001": "strict"}), "'strict' is not an enforcement level"),
    (lambda c: c["GOV-SEC-010"].pop("flows"), "GOV-SEC-010: 'flows' is a required property"),
    (lambda c: c["GOV-SEC-010"].update(zones=["not", "an", "object"]), "GOV-SEC-010: zones:"),
])
def test_config_that_does_not_fit_the_pack_is_refused(pack, lab, change, fragment):
    given = build_config(lab)
    change(given)
    with pytest.raises(ConfigError) as error:
        reconcile_config(pack.info(), given)
    assert any(fragment in p for p in error.value.problems), error.value.problems


@pytest.mark.parametrize("level", ["advisory", "disabled"])
def test_environment_enforcement_overrides_reach_the_pack(tmp_path, level):
    from govcloud.check.run import CheckSession
    from govcloud.model import load_environment

    patch_yaml(copy_lab(tmp_path) / "platform.yaml", [{"set": ["policy", "enforcement"], "value": {"GOV-SEC-002": level}}])
    env = load_environment("lab", tmp_path / "inventories")
    state = edit(tenant_state(env, "t-430100-health"), "Namespace", "t-430100-health-app",
                 lambda i: i["metadata"]["labels"].update({labels.PSA_ENFORCE: "baseline"}))
    with CheckSession(env, PACK) as session:
        report = session.check([state], dt.date(2026, 11, 25))
    mine = [r for r in report.results if r.rule == "GOV-SEC-002"]
    if level == "disabled":
        assert mine == [] and not [r for r in report.rules if r["id"] == "GOV-SEC-002" and r["enforcement"] != "disabled"]
    else:
        [finding] = [r for r in mine if r.status == "failed"]
        assert finding.enforcement == "advisory" and report.exit_code == 0


def test_enforcement_override_for_an_unknown_rule_is_bad_input(tmp_path):
    from govcloud.model import InputError, load_environment
    from govcloud.policy.config import build_config as build

    patch_yaml(copy_lab(tmp_path) / "platform.yaml", [{"set": ["policy", "enforcement"], "value": {"GOV-SEC-404": "advisory"}}])
    with pytest.raises(InputError) as error:
        build(load_environment("lab", tmp_path / "inventories"))
    [problem] = error.value.problems
    assert problem.file.endswith("platform.yaml") and problem.line > 1 and problem.field == "policy.enforcement.GOV-SEC-404"


# --- failures of the pack ----------------------------------------------------------------------
def broken_pack(tmp_path: Path, program: str) -> Path:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n", encoding="utf-8")
    (tmp_path / "__main__.py").write_text(program, encoding="utf-8")
    return tmp_path


def test_a_pack_that_crashes_is_reported_with_its_error(tmp_path):
    with pytest.raises(PackError) as error:
        PackProcess(broken_pack(tmp_path, "raise RuntimeError('rules failed to import')\n")).start()
    assert "exited before printing its port" in str(error.value) and "rules failed to import" in str(error.value)


def test_a_directory_without_pulumi_policy_yaml_is_not_a_pack(tmp_path):
    with pytest.raises(PackError, match="PulumiPolicy.yaml: cannot read"):
        PackProcess(tmp_path)


def test_closing_the_session_ends_the_pack_process(tmp_path):
    process = PackProcess(PACK)
    process.start()
    pid = process._process.pid
    process.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_shared_deserialization_changes_no_verdict(lab, lab_states, monkeypatch):
    """The pack's one speed-up (convert a resource once, not once per policy) gives the same results."""
    from govcloud.check.run import CheckSession
    from govcloud.policy.pack import ENV_SWITCH

    states = [edit(lab_states[HEALTH], "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({labels.PSA_ENFORCE: "baseline"}))]
    states += [s for name, s in lab_states.items() if name != HEALTH]
    reports = []
    for switch in ("1", "0"):
        monkeypatch.setenv(ENV_SWITCH, switch)
        with CheckSession(lab, PACK) as session:
            reports.append(session.check(states, dt.date(2026, 11, 25)).as_dict())
    assert reports[0]["summary"]["blocking"] == 1 and reports[0]["summary"]["failed"] == 3
    assert reports[0] == reports[1]


def test_several_pack_processes_give_the_results_of_one(lab, lab_states):
    from govcloud.check.run import CheckSession

    reports = []
    for workers in (1, 2):
        with CheckSession(lab, PACK, workers=workers) as session:
            reports.append(session.check(list(lab_states.values()), dt.date(2026, 11, 25)).as_dict())
    assert reports[0] == reports[1] and len(reports[0]["stacks"]) == 11


def test_the_same_properties_in_another_message_convert_once():
    """What makes AnalyzeStack cheap after Analyze: conversions are found by content too."""
    from google.protobuf import struct_pb2

    from govcloud.policy.pack import _ContentCache

    calls: list = []
    convert = _ContentCache().wrap(lambda message: calls.append(message) or {"call": len(calls)})
    first, again, other = struct_pb2.Struct(), struct_pb2.Struct(), struct_pb2.Struct()
    first.update({"kind": "Namespace", "spec": {"x": [1, 2]}})
    again.update({"spec": {"x": [1, 2]}, "kind": "Namespace"})  # another message, the same content
    other.update({"kind": "Namespace", "spec": {"x": [2, 1]}})
    assert convert(first) is convert(again)
    assert convert(other) == {"call": 2} and len(calls) == 2


def test_answering_by_type_gives_the_sdks_responses_byte_for_byte(lab, lab_states, monkeypatch):
    """The pack answers the pairs a rule's kinds exclude without the SDK's loop: every response
    (diagnostics, not-applicable entries, their reasons and order) is the SDK's own, with a
    disabled rule, a failing resource and resources of no Kubernetes kind among them."""
    from govcloud.policy.pack import ENV_TYPE_INDEX

    states = [edit(lab_states[HEALTH], "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({labels.PSA_ENFORCE: "baseline"}))]
    states += [s for name, s in lab_states.items() if name != HEALTH]
    disabled = next(r.id for r in rules() if r.scope == "resource" and r.kinds == ("Namespace",))
    responses: dict[str, list[bytes]] = {}
    for switch in ("1", "0"):
        monkeypatch.setenv(ENV_TYPE_INDEX, switch)
        seen = responses[switch] = []
        monkeypatch.setattr(PackProcess, "_record", staticmethod(
            lambda outcome, urn, response, seen=seen: seen.append(response.SerializeToString(deterministic=True))))
        with PackProcess(PACK) as process:
            process.configure(reconcile_config(process.info(), {**build_config(lab), disabled: "disabled"}))
            list(process.analyze(states))
    assert len(responses["1"]) == sum(len(engine_analyzed(s)) + 1 for s in states)
    assert responses["1"] == responses["0"]
    answered = [analyzer_pb2.AnalyzeResponse.FromString(r) for r in responses["1"]]
    reasons = {item.reason for response in answered for item in response.not_applicable}
    assert "looks only at Kubernetes objects" in reasons and any(r.startswith("looks only at Namespace") for r in reasons)
    assert not any(item.policy_name == disabled for response in answered for item in response.not_applicable)
    assert any(len(response.diagnostics) for response in answered)
