"""Validation reports every independent problem in one run (issue 14): a broken platform entry,
a request that does not parse, bad waivers and cross-file problems all at once; checks that
depend on something broken are skipped, so no follow-on error appears."""

from __future__ import annotations

from govcloud.inventory_io import dump_document

HEALTH = "tenants/t-430100-health.yaml"
EDU = "tenants/t-430600-edu.yaml"


def _waiver(**changes):
    waiver = {"id": "W-2026-001", "rule": "GOV-SEC-001", "scope": {"tenant": "t-430100-health"}, "reason": "迁移期间临时豁免",
              "approver": "sec-liwei", "created": "2026-11-01", "expires": "2027-01-15"}
    waiver.update(changes)
    return waiver


def where(problems) -> set[tuple[str, str]]:
    return {(p.file.rsplit("/", 1)[-1], p.field) for p in problems}


def test_five_independent_mistakes_in_one_run(inventory) -> None:
    """A bad host address in platform.yaml, a request with a bad field, another with an unknown
    region, a waiver with two scopes and one approved by someone outside the security team."""
    inventory.edit("platform.yaml", lambda d: d["hosts"][0].update(address="not-an-address"))
    inventory.edit(HEALTH, lambda d: d["quotas"].update(cpu="lots"))
    inventory.edit(EDU, lambda d: d.update(region="430699"))
    inventory.write("waivers.yaml", dump_document({"waivers": [
        _waiver(scope={"tenant": "t-430100-health", "stack": "lab.t-430100-health"}),
        _waiver(id="W-2026-002", approver="zhang-wei", scope={"tenant": "t-430600-edu"}),
    ]}, "waivers", 3))
    found = inventory.problems()
    assert where(found) >= {
        ("platform.yaml", "hosts[0].address"),
        ("t-430100-health.yaml", "quotas.cpu"),
        ("t-430600-edu.yaml", "region"),
        ("waivers.yaml", "waivers[0].scope"),
        ("waivers.yaml", "waivers[1].approver"),
    }, "\n".join(map(str, found))
    # The waiver scoped to health is not told health "is not defined": its request is broken, not missing.
    assert not any("is not defined" in p.message and p.field.startswith("waivers") for p in found)


def test_a_broken_cluster_entry_is_not_reported_again_by_its_tenants(inventory) -> None:
    inventory.edit("platform.yaml", lambda d: d["clusters"][0].update(capacity="big"))  # egov-1
    found = inventory.problems()
    assert ("platform.yaml", "clusters[0].capacity") in where(found)
    assert not any(p.field == "cluster" for p in found), "\n".join(map(str, found))
    # ... while another tenant's truly unknown cluster is still found in the same run.
    inventory.edit(EDU, lambda d: d.update(cluster="nowhere"))
    found = inventory.problems()
    assert [p.file.rsplit("/", 1)[-1] for p in found if p.field == "cluster"] == ["t-430600-edu.yaml"]


def test_a_consumer_of_a_broken_request_is_not_told_the_dataset_is_unpublished(inventory) -> None:
    text = inventory.path("tenants/t-430100-hrss.yaml").read_text(encoding="utf-8")
    inventory.write("tenants/t-430100-hrss.yaml", text.replace("mlps_level: 3", "mlps_level: three"))
    found = inventory.problems()
    assert ("t-430100-hrss.yaml", "mlps_level") in where(found)
    assert not any("is not published by any tenant" in p.message for p in found), "\n".join(map(str, found))


def test_platform_rules_and_tenant_rules_both_report(inventory) -> None:
    """Before, a platform rule problem stopped every tenant check."""
    inventory.edit("platform.yaml", lambda d: d["flows"][0].update(to="dmz"))
    inventory.edit(HEALTH, lambda d: d.update(mlps_level=4))
    assert where(inventory.problems()) >= {("platform.yaml", "flows[0].to"), ("t-430100-health.yaml", "mlps_level")}


def test_waivers_are_checked_even_when_a_request_has_a_problem(inventory) -> None:
    inventory.edit(HEALTH, lambda d: d.update(mlps_level=4))
    inventory.write("waivers.yaml", dump_document({"waivers": [_waiver(approver="zhang-wei")]}, "waivers", 3))
    assert where(inventory.problems()) >= {("t-430100-health.yaml", "mlps_level"), ("waivers.yaml", "waivers[0].approver")}


def test_unknown_region_lists_the_known_ones(inventory) -> None:
    inventory.edit(EDU, lambda d: d.update(region="430699"))
    [problem] = [p for p in inventory.problems() if p.field == "region"]
    assert "region 430699 is not defined" in problem.message and "430600 岳阳市" in problem.message
    assert "under 430600" in problem.message


def test_unknown_zone_and_cluster_list_the_known_ones(inventory) -> None:
    inventory.edit(EDU, lambda d: d.update(zone="dmz", cluster="egov-9"))
    found = {p.field: p.message for p in inventory.problems()}
    assert "zones: data, egov-extranet, egov-intranet, internet, management" in found["zone"]
    assert "clusters: egov-1, internet-1, intranet-1" in found["cluster"]


def test_the_approver_error_says_who_may_approve(inventory) -> None:
    inventory.write("waivers.yaml", dump_document({"waivers": [_waiver(approver="zhang-wei")]}, "waivers", 3))
    [problem] = inventory.problems()
    assert "zhang-wei is not a member of the security team" in problem.message
    assert "sec-liwei (李伟)" in problem.message and "sec-wangfang" in problem.message
