"""What the pack records of the facts a stack's rules read (GOVCLOUD_FACT_TRACE): every lookup,
attributed to the stack being checked, a whole view when it is iterated; and what the cache
compares (``Facts.lookup``) tells a changed answer from an unchanged one."""

from __future__ import annotations

import json

import pytest

from govcloud.policy import facts as facts_module
from govcloud.policy.facts import WHOLE, Facts, key_of, reading_for, stack_of

CONFIG = {
    "zones": {"internet": {"kind": "internet", "cidr": "10.20.0.0/16", "max_level": 2},
              "egov-extranet": {"kind": "egov-extranet", "cidr": "10.10.0.0/16", "max_level": 3}},
    "flows": [{"from": "internet", "to": "egov-extranet", "protocol": "tcp", "ports": [443]}],
    "tenants": {"t-1": {"level": 3, "zone": "egov-extranet", "cluster": "c", "namespaces": ["t-1-app"]},
                "t-2": {"level": 2, "zone": "internet", "cluster": "c", "namespaces": ["t-2-app"]}},
    "administrators": {"t-1": {"system": "zhang-san", "security": "li-si", "audit": "wang-wu"}},
}


@pytest.fixture
def trace(tmp_path, monkeypatch):
    path = tmp_path / "trace.jsonl"
    monkeypatch.setattr(facts_module, "_TRACE", facts_module._Trace(str(path)))

    def lines() -> list[list[str]]:
        facts_module.flush_trace()  # what the pack does before it answers a stack's AnalyzeStack
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []

    return lines


def test_each_lookup_is_recorded_once_for_the_stack_being_checked(trace):
    facts = Facts(CONFIG)
    with reading_for("lab.t-1"):
        assert facts.namespace_owner.get("t-1-app") == "t-1"
        assert facts.zone_kind("internet") == "internet"
        assert facts.zone_kind("internet") == "internet"  # once is enough
        assert "zhang-san" in facts.tenant_accounts
        assert facts.tenant_level("t-9") is None
    with reading_for("lab.t-2"):
        assert facts.flow_allows("internet", "egov-extranet", "tcp", 443)
        assert len(facts.zones_reached(type("Peer", (), {"reaches": lambda self, n: True})())) == 2
    assert sorted(map(tuple, trace())) == sorted([
        ("lab.t-1", "namespace_owner", key_of("t-1-app")),
        ("lab.t-1", "zones", key_of("internet")),
        ("lab.t-1", "tenant_accounts", key_of("zhang-san")),
        ("lab.t-1", "tenants", key_of("t-9")),
        ("lab.t-2", "flows", WHOLE),
        ("lab.t-2", "zones", WHOLE),
    ])


def test_a_read_outside_any_stack_is_recorded_for_every_stack(trace):
    Facts(CONFIG).zone_kind("internet")
    assert trace() == [["*", "zones", key_of("internet")]]


def test_nothing_is_recorded_without_a_trace():
    assert facts_module._TRACE is None  # the pack under the engine, and every test not tracing
    with reading_for("lab.t-1"):
        assert isinstance(Facts(CONFIG).tenants, dict)


def test_lookups_tell_a_changed_answer_from_an_unchanged_one():
    before, after = Facts(CONFIG), Facts({**CONFIG, "tenants": {**CONFIG["tenants"], "t-2": {**CONFIG["tenants"]["t-2"], "namespaces": []}}})
    assert before.lookup("namespace_owner", key_of("t-1-app")) == after.lookup("namespace_owner", key_of("t-1-app"))
    assert before.lookup("namespace_owner", key_of("t-2-app")) != after.lookup("namespace_owner", key_of("t-2-app"))
    assert before.lookup("namespace_owner", WHOLE) != after.lookup("namespace_owner", WHOLE)
    assert before.lookup("tenant_accounts", key_of("li-si")) is True and before.lookup("tenant_accounts", key_of("x")) is False
    assert before.lookup("zones", WHOLE)["internet"]["network"] == "10.20.0.0/16"  # JSON, digestible
    with pytest.raises(KeyError):
        before.lookup("secrets", WHOLE)


@pytest.mark.parametrize("urn, stack", [
    ("urn:pulumi:lab.t-1::govcloud::kubernetes:core/v1:Namespace::ns", "lab.t-1"),
    ("urn:pulumi:lab.t-1::govcloud::pulumi:pulumi:Stack::govcloud-lab.t-1", "lab.t-1"),
    ("not-a-urn", None),
    ("urn:pulumi:only", None),
])
def test_the_stack_of_a_urn(urn, stack):
    assert stack_of(urn) == stack


def test_the_reads_reach_the_file_when_flushed_once_per_stack(trace, tmp_path):
    """The pack writes the trace out before it answers a stack's AnalyzeStack: one write per stack."""
    with reading_for("lab.t-1"):
        Facts(CONFIG).zone_kind("internet")
    assert not (tmp_path / "trace.jsonl").exists()  # held until the stack's last request
    assert trace() == [["lab.t-1", "zones", key_of("internet")]]
    facts_module.flush_trace()  # nothing new: nothing written twice
    assert trace() == [["lab.t-1", "zones", key_of("internet")]]
