"""The model: the lab loads and merges as intended; every validation rule reports the exact field."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest

from govcloud.model import InputError


def test_lab_loads_and_merges(inventory) -> None:
    env = inventory.load()
    assert [s.name for s in env.stacks[:3]] == ["lab.cluster-egov-1", "lab.cluster-internet-1", "lab.cluster-intranet-1"]
    assert len(env.stacks) == 3 + len(env.tenants) == 11
    health = env.tenant("t-430100-health")
    # request overrides cpu and memory; storage and pods come from the level-3 template
    assert (health.quotas.cpu, health.quotas.memory, health.quotas.storage, health.quotas.pods) == ("16", "32Gi", "100Gi", 50)
    assert health.namespaces == ("t-430100-health-app", "t-430100-health-data")
    assert health.baseline.password.min_length == 12 and health.baseline.pod_security == "restricted"
    assert health.limits.default_request.cpu == "200m"
    assert {t.level for t in env.tenants} == {1, 2, 3, 4}
    assert {d.sharing for t in env.tenants for d in t.request.datasets.publishes} == {"unconditional", "conditional", "not-shared"}
    assert env.consumers("t-430100-hrss/social-insurance")[0][1] == "HNSJ-GX-2026-0112"
    assert env.capacity_used("egov-1")["cpu"] == Decimal(30)
    assert env.capacity_limit("egov-1")["cpu"] == Decimal("144")
    assert set(env.sources) >= {"platform.yaml", "tenants/t-430100-health.yaml"}


# --- platform.yaml ---------------------------------------------------------------------
def _zone(data, zone_id):
    return next(z for z in data["zones"] if z["id"] == zone_id)


PLATFORM_CASES = [
    ("overlapping cidr", lambda d: _zone(d, "internet").update(cidr="172.30.20.128/25"), "zones[2].cidr", "overlaps zone egov-extranet"),
    ("internet to intranet", lambda d: d["flows"].append({"from": "internet", "to": "egov-intranet", "protocol": "tcp", "ports": [443], "purpose": "x"}),
     "flows[16]", "no flow to or from the internet zone"),
    ("intranet to internet", lambda d: d["flows"].append({"from": "egov-intranet", "to": "internet", "protocol": "tcp", "ports": [443], "purpose": "x"}),
     "flows[16]", "no flow to or from the internet zone"),
    ("flow to unknown zone", lambda d: d["flows"][0].update(to="dmz"), "flows[0].to", "zone dmz is not defined"),
    ("tcp without ports", lambda d: d["flows"][0].update(ports=[]), "flows[0].ports", "need at least one port"),
    ("port out of range", lambda d: d["flows"][0].update(ports=[70000]), "flows[0].ports[0]", "less than or equal to 65535"),
    ("repeated flow", lambda d: d["flows"].append(dict(d["flows"][0])), "flows[16]", "repeats flows[0]"),
    ("gateway of wrong role", lambda d: d["flows"][10].update(gateway="bastion-1"), "flows[10].gateway", "not gateway"),
    ("host outside its zone", lambda d: d["hosts"][0].update(address="172.30.20.99"), "hosts[0].address", "not a host address of zone management"),
    ("host on network address", lambda d: d["hosts"][0].update(address="172.30.10.0"), "hosts[0].address", "not a host address"),
    ("duplicate host address", lambda d: d["hosts"][1].update(address="172.30.10.10"), "hosts[1].address", "duplicate address"),
    ("node without cluster", lambda d: d["hosts"][3].pop("cluster"), "hosts[3].cluster", "must name their cluster"),
    ("city under wrong province", lambda d: d["regions"][1].update(parent="430000", code="440100"), "regions[1].parent", "must sit under its province 440000"),
    ("county under wrong city", lambda d: d["regions"][3].update(parent="430600"), "regions[3].parent", "must sit under its city 430100"),
    ("undefined parent", lambda d: d["regions"][3].update(parent="430200"), "regions[3].parent", "parent region 430200 is not defined"),
    ("two provinces", lambda d: d["regions"].append({"code": "440000", "name": "广东省"}), "regions", "exactly one province"),
    ("unsupported kubernetes", lambda d: d["clusters"][0].update(kubernetes_version="1.19"), "clusters[0].kubernetes_version", "no bundled schema"),
    ("cluster in data zone", lambda d: d["clusters"][0].update(zone="data"), "clusters[0].zone", "not data"),
    ("bad registry", lambda d: d["clusters"][0].update(registry="https://evil.example.com"), "clusters[0].registry", "should match pattern"),
    ("api outside management", lambda d: d["clusters"][0]["api"].update(address="172.30.20.31"), "clusters[0].api.address",
     "must be in a management zone, not in zone egov-extranet"),
    ("api in no zone", lambda d: d["clusters"][0]["api"].update(address="192.0.2.1"), "clusters[0].api.address", "not in no zone"),
    ("api on zone router", lambda d: d["clusters"][0]["api"].update(address="172.30.10.1"), "clusters[0].api.address", "zone router's address"),
    ("api on broadcast", lambda d: d["clusters"][0]["api"].update(address="172.30.10.255"), "clusters[0].api.address", "not a host address"),
    ("api on a host", lambda d: d["clusters"][0]["api"].update(address="172.30.10.10"), "clusters[0].api.address", "address of host bastion-1"),
    ("api shared", lambda d: d["clusters"][1]["api"].update(address="172.30.10.31"), "clusters[1].api.address",
     "duplicate API address 172.30.10.31 (also cluster egov-1)"),
    ("api port", lambda d: d["clusters"][0]["api"].update(port=0), "clusters[0].api.port", "greater than or equal to 1"),
    ("api missing", lambda d: d["clusters"][0].pop("api"), "clusters[0].api", "required field is missing"),
    ("data pool outside data zone", lambda d: d["datapool"].update(zone="management"), "datapool.zone", "not management"),
    ("data pool host unknown", lambda d: d["datapool"].update(hosts=["dp-9"]), "datapool.hosts[0]", "host dp-9 is not defined"),
    ("short log retention", lambda d: d["levels"][2]["baseline"].update(log_retention_days=90), "levels[2].baseline.log_retention_days", "greater than or equal to 180"),
    ("missing level profile", lambda d: d["levels"].pop(3), "zones[3].max_level", "no level profile for MLPS level 4"),
    ("template default above max", lambda d: d["levels"][0]["tenant_template"]["quotas"]["default"].update(cpu="64"),
     "levels[0].tenant_template.quotas.default.cpu", "above the template's max"),
    ("unknown key", lambda d: d.update(zonez=[]), "zonez", "unknown key 'zonez'; allowed keys: clusters, datapool, evidence, flows"),
    ("unknown nested key", lambda d: d["clusters"][0].update(capcity={}), "clusters[0].capcity", "allowed keys: api, capacity"),
    ("wrong type", lambda d: _zone(d, "data").update(max_level="four"), "zones[4].max_level", "valid integer"),
    ("bool is not an int", lambda d: _zone(d, "data").update(max_level=True), "zones[4].max_level", "valid integer"),
    ("missing field", lambda d: d["datapool"].pop("engine"), "datapool.engine", "required field is missing"),
    ("no log collector", lambda d: d["hosts"].pop(1), "hosts", "log-collector"),
    ("newline in a flow purpose", lambda d: d["flows"][0].update(purpose="ssh\n| forged | row |"), "flows[0].purpose", "U+000A"),
    ("newline in a region name", lambda d: d["regions"][0].update(name="湖南省\n"), "regions[0].name", "U+000A"),
    ("security team member twice", lambda d: d["policy"]["security_team"].append(dict(d["policy"]["security_team"][0])),
     "policy.security_team[2].account", "duplicate account sec-liwei"),
]


@pytest.mark.parametrize("change, field, fragment", [c[1:] for c in PLATFORM_CASES], ids=[c[0] for c in PLATFORM_CASES])
def test_platform_rules(inventory, change, field, fragment) -> None:
    inventory.edit("platform.yaml", change)
    inventory.expect("platform.yaml", field, fragment)


# --- tenants -------------------------------------------------------------------------------
HEALTH = "tenants/t-430100-health.yaml"


def _admin(role, account):
    return lambda d: d["administrators"][role].update(account=account)


TENANT_CASES = [
    ("bad check character", HEALTH, lambda d: d["department"].update(uscc="1143010000010001XN"), "department.uscc", "check character is 'N'"),
    ("slug path traversal", HEALTH, lambda d: d["department"].update(slug="../../etc"), "department.slug", "not a DNS label"),
    ("slug with shell metacharacters", HEALTH, lambda d: d["department"].update(slug="health;rm"), "department.slug", "not a DNS label"),
    ("Chinese slug", HEALTH, lambda d: d["department"].update(slug="卫健委"), "department.slug", "not a DNS label"),
    ("file name disagrees", HEALTH, lambda d: d["department"].update(slug="wellbeing"), "", "file must be named t-430100-wellbeing.yaml"),
    ("undefined region", HEALTH, lambda d: d.update(region="430200"), "region", "region 430200 is not defined"),
    ("undefined cluster", HEALTH, lambda d: d.update(cluster="egov-9"), "cluster", "cluster egov-9 is not defined"),
    ("zone disagrees with cluster", HEALTH, lambda d: d.update(zone="internet"), "zone", "cluster egov-1 is in zone egov-extranet"),
    ("level above zone", HEALTH, lambda d: d.update(mlps_level=4), "mlps_level", "admits MLPS level 3 at most, not 4"),
    ("level out of range", HEALTH, lambda d: d.update(mlps_level=5), "mlps_level", "less than or equal to 4"),
    ("one person two roles", HEALTH, _admin("audit", "zhang-wei"), "administrators.audit.account", "three different people"),
    ("quota above bound", HEALTH, lambda d: d["quotas"].update(cpu="64"), "quotas.cpu", "cpu 64 exceeds the level-3 maximum 32"),
    ("bad quantity", HEALTH, lambda d: d["quotas"].update(memory="32 GB"), "quotas.memory", "not a Kubernetes quantity"),
    ("limit above bound", HEALTH, lambda d: d.update(limits={"default_limit": {"memory": "64Gi"}}), "limits.default_limit.memory", "exceeds the level-3 maximum 16Gi"),
    ("request above limit", HEALTH, lambda d: d.update(limits={"default_request": {"cpu": "2"}}), "limits.default_request.cpu", "above the default limit"),
    ("too many namespaces", HEALTH, lambda d: d.update(namespaces=["a", "b", "c", "d"]), "namespaces", "allows 3 namespaces, not 4"),
    ("namespace twice", HEALTH, lambda d: d.update(namespaces=["app", "app"]), "namespaces[1]", "listed twice"),
    ("consume not-shared", HEALTH, lambda d: d["datasets"].update(consumes=[{"dataset": "t-430000-pubsec/population", "purpose": "x"}]),
     "datasets.consumes[0].dataset", "not-shared and cannot be consumed"),
    ("conditional without approval", HEALTH, lambda d: d["datasets"].update(consumes=[{"dataset": "t-430121-agri/farmland", "purpose": "x"}]),
     "datasets.consumes[0].approval", "approval reference is required"),
    ("unknown dataset", HEALTH, lambda d: d["datasets"].update(consumes=[{"dataset": "t-430100-hrss/salaries", "purpose": "x"}]),
     "datasets.consumes[0].dataset", "not published by any tenant"),
    ("malformed dataset reference", HEALTH, lambda d: d["datasets"].update(consumes=[{"dataset": "../hrss", "purpose": "x"}]),
     "datasets.consumes[0].dataset", "should match pattern"),
    ("own dataset", HEALTH, lambda d: d["datasets"].update(consumes=[{"dataset": "t-430100-health/clinic-directory", "purpose": "x"}]),
     "datasets.consumes[0].dataset", "does not consume its own dataset"),
    ("intranet services", "tenants/t-430000-pubsec.yaml", lambda d: d.update(services=[{"name": "web", "host": "x.hunan.gov.cn", "port": 80}]),
     "services", "egov-intranet tenants cannot expose public services"),
    ("internet publishes without data flow", "tenants/t-430600-tourism.yaml",
     lambda d: d.update(datasets={"publishes": [{"name": "spots", "description": "景点", "sharing": "unconditional", "sensitivity": "general"}]}),
     "datasets", "zone internet has no flow to the data pool"),
    ("service host taken", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(host="www.hunan.gov.cn"), "services[0].host", "already published by t-430000-portal"),
    ("bad service path", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(path="/a;b"), "services[0].path", "may contain only letters"),
    # Gateway API's HTTPRoute CEL rules (dropped from the vendored JSON Schemas) and no dot segments.
    ("service path traversal", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(path="/../../etc"), "services[0].path", "must not contain '/../'"),
    ("service path ending in ..", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(path="/static/.."), "services[0].path", "must not end with"),
    ("service path with //", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(path="/a//b"), "services[0].path", "must not contain '//'"),
    ("service path with /./", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(path="/a/./b"), "services[0].path", "must not contain '/./'"),
    ("service path encoded", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(path="/%2e%2e/etc"), "services[0].path", "no percent-encoding"),
    ("service path relative", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(path="etc"), "services[0].path", "absolute path"),
    ("service path with a newline", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(path="/news\n"), "services[0].path", "may contain only"),
    ("service host an IP address", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(host="10.0.0.1"), "services[0].host", "not an IP address"),
    ("service host with a wildcard", "tenants/t-430600-tourism.yaml", lambda d: d["services"][0].update(host="*.yueyang.gov.cn"), "services[0].host", "should match pattern"),
    ("slug with a trailing newline", HEALTH, lambda d: d["department"].update(slug="health\n"), "department.slug", "not a DNS label"),
    ("quantity with a trailing newline", HEALTH, lambda d: d["quotas"].update(cpu="16\n"), "quotas.cpu", "not a Kubernetes quantity"),
    ("unknown key", HEALTH, lambda d: d.update(quota={}), "quota", "unknown key 'quota'; allowed keys:"),
    ("wrong type", HEALTH, lambda d: d.update(mlps_level="three"), "mlps_level", "valid integer"),
    ("control characters", HEALTH, lambda d: d["department"].update(name="卫健\x07委"), "department.name", "control characters"),
    # Single-line fields: a newline in a reason could forge a heading in a Markdown report.
    ("newline in a reason", HEALTH, lambda d: d["change"].update(reason="迁移上云\n# APPROVED BY SECURITY TEAM"), "change.reason", "U+000A"),
    ("tab in a name", HEALTH, lambda d: d["department"].update(name="卫健\t委"), "department.name", "U+0009"),
    ("carriage return in a description", HEALTH, lambda d: d["datasets"]["publishes"][1].update(description="名录\r<img src=x>"), "datasets.publishes[1].description", "U+000D"),
    ("line separator in an approval role", HEALTH, lambda d: d["change"]["approvals"][0].update(role="处长\u2028审批"), "change.approvals[0].role", "U+2028"),
    ("bidi override in a reason", HEALTH, lambda d: d["change"].update(reason="批准\u202e准批"), "change.reason", "U+202E"),
    ("bad date", HEALTH, lambda d: d["change"].update(review_by="next year"), "change.review_by", "valid date"),
    ("missing administrators", HEALTH, lambda d: d.pop("administrators"), "administrators", "required field is missing"),
]


@pytest.mark.parametrize("file, change, field, fragment", [c[1:] for c in TENANT_CASES], ids=[c[0] for c in TENANT_CASES])
def test_tenant_rules(inventory, file, change, field, fragment) -> None:
    inventory.edit(file, change)
    inventory.expect(file, field, fragment)


def test_core_dataset_never_reaches_internet_tenants(inventory) -> None:
    inventory.edit("platform.yaml", lambda d: d["flows"].append(
        {"from": "internet", "to": "data", "protocol": "tcp", "ports": [5432], "purpose": "x"}))
    inventory.edit("tenants/t-430600-tourism.yaml", lambda d: d.update(datasets={"consumes": [
        {"dataset": "t-430100-hrss/social-insurance", "purpose": "x", "approval": "A-1"}]}))
    inventory.expect("t-430600-tourism.yaml", "datasets.consumes[0].dataset", "core dataset t-430100-hrss/social-insurance cannot be consumed by an internet-zone tenant")


def test_capacity_is_checked_up_front_with_numbers(inventory) -> None:
    inventory.edit("platform.yaml", lambda d: d["clusters"][0]["capacity"].update(cpu="19"))
    inventory.expect("t-430100-health.yaml", "quotas.cpu",
                     "cluster egov-1 is over capacity: 4 tenants request cpu 30 > 28.5 (allocatable 19 x overcommit 1.5); "
                     "the largest request is this tenant's 16")


def test_namespace_collision_between_tenants(inventory) -> None:
    inventory.edit(HEALTH, lambda d: d.update(namespaces=["records-app"]))
    text = inventory.path("tenants/t-430600-edu.yaml").read_text(encoding="utf-8")
    inventory.write("tenants/t-430100-health-records.yaml", text.replace("slug: edu", "slug: health-records")
                    .replace('region: "430600"', 'region: "430100"').replace("datasets:", "unused:").split("unused:")[0])
    inventory.expect("t-430100-health-records.yaml", "namespaces[0]", "namespace t-430100-health-records-app is already used by tenant t-430100-health")


def test_all_problems_reported_at_once_across_files(inventory) -> None:
    inventory.edit(HEALTH, lambda d: d.update(mlps_level="x", cluster="nope!"))
    inventory.edit("tenants/t-430600-edu.yaml", lambda d: d["department"].update(uscc="123"))
    found = inventory.problems()
    assert {(p.file.rsplit("/", 1)[-1], p.field) for p in found} >= {
        ("t-430100-health.yaml", "mlps_level"), ("t-430100-health.yaml", "cluster"), ("t-430600-edu.yaml", "department.uscc")}


def test_exact_line_numbers(inventory) -> None:
    text = inventory.path(HEALTH).read_text(encoding="utf-8")
    inventory.write(HEALTH, text.replace("mlps_level: 3", "mlps_level: 4"))
    line = next(i for i, text_line in enumerate(text.splitlines(), 1) if text_line.startswith("mlps_level"))
    [problem] = [p for p in inventory.problems() if p.field == "mlps_level"]
    assert problem.line == line


@pytest.mark.parametrize("content, fragment", [("", "file is empty"), ("- a\n- b\n", "expected a mapping"), ("a: [\n", "YAML syntax error")])
def test_unreadable_tenant_documents(inventory, content, fragment) -> None:
    inventory.write("tenants/t-430100-x.yaml", content)
    found = inventory.problems()
    assert any(p.file.endswith("t-430100-x.yaml") and fragment in p.message for p in found)


def test_symlinked_tenant_is_refused(inventory, tmp_path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("a: 1\n")
    os.symlink(outside, inventory.path("tenants/t-430100-link.yaml"))
    assert any("symbolic links" in p.message for p in inventory.problems())


def test_unsafe_environment_names(inventory) -> None:
    from govcloud.model import load_environment

    for name in ("../lab", "lab/../../etc", "LAB", ""):
        with pytest.raises(InputError, match="environment"):
            load_environment(name, inventory.root)


# --- waivers ---------------------------------------------------------------------------------
def _waiver(**changes):
    waiver = {"id": "W-2026-001", "rule": "GOV-SEC-001", "scope": {"tenant": "t-430100-health"}, "reason": "迁移期间临时豁免",
              "approver": "sec-liwei", "created": "2026-11-01", "expires": "2027-01-15"}
    waiver.update(changes)
    return waiver


def test_valid_waiver_loads(inventory) -> None:
    from govcloud.inventory_io import dump_document

    inventory.write("waivers.yaml", dump_document({"waivers": [_waiver()]}, "waivers", 3))
    env = inventory.load()
    [waiver] = env.waivers
    assert waiver.in_force(dt.date(2026, 12, 1)) and not waiver.in_force(dt.date(2027, 1, 16))
    assert waiver.scope.matches(stack="lab.t-430100-health", tenant="t-430100-health", urn="urn:x")


WAIVER_CASES = [
    ("approver not on the team", _waiver(approver="zhang-wei"), "waivers[0].approver", "not a member of the security team"),
    ("too long", _waiver(expires="2027-06-01"), "waivers[0].expires", "allows 90 at most"),
    ("expires before created", _waiver(expires="2026-10-01"), "waivers[0].expires", "after the creation date"),
    ("no expiry", {k: v for k, v in _waiver().items() if k != "expires"}, "waivers[0].expires", "required field is missing"),
    ("no approver", {k: v for k, v in _waiver().items() if k != "approver"}, "waivers[0].approver", "required field is missing"),
    ("two scopes", _waiver(scope={"tenant": "t-430100-health", "stack": "lab.t-430100-health"}), "waivers[0].scope", "exactly one of tenant, stack or urn"),
    ("unknown tenant", _waiver(scope={"tenant": "t-430100-nobody"}), "waivers[0].scope.tenant", "not defined"),
    ("unknown stack", _waiver(scope={"stack": "lab.t-430100-nobody"}), "waivers[0].scope.stack", "not one of this environment's stacks"),
    ("bad rule id", _waiver(rule="SEC-1"), "waivers[0].rule", "should match pattern"),
    ("newline in the reason", _waiver(reason="临时豁免\n\n## APPROVED BY SECURITY TEAM"), "waivers[0].reason", "U+000A"),
]


@pytest.mark.parametrize("escape, code", [("\\N", "U+0085"), ("\\x9b", "U+009B"), ("\\e[2J", "U+001B"), ("\\L", "U+2028")])
def test_escaped_controls_in_double_quotes_are_refused(inventory, escape, code) -> None:
    """YAML's double-quoted escapes reach characters plain text cannot (NEL, C1, ESC)."""
    text = inventory.path(HEALTH).read_text(encoding="utf-8").replace("description: 医疗机构名录", f'description: "医疗{escape}机构名录"')
    inventory.write(HEALTH, text)
    inventory.expect(HEALTH, "datasets.publishes[1].description", code)


def test_chinese_and_full_width_text_is_single_line_text(inventory) -> None:
    """The refusal of control characters leaves every script alone (full-width space and
    punctuation included): only line breaks, controls and direction overrides are refused."""
    reason = "全民健康信息平台迁移上云（长卫发〔2026〕12号）　第二期：《方案》——“互联网+医疗健康”"
    inventory.edit(HEALTH, lambda d: d["change"].update(reason=reason))
    assert inventory.load().tenant("t-430100-health").request.change.reason == reason


@pytest.mark.parametrize("waiver, field, fragment", [c[1:] for c in WAIVER_CASES], ids=[c[0] for c in WAIVER_CASES])
def test_waiver_rules(inventory, waiver, field, fragment) -> None:
    from govcloud.inventory_io import dump_document

    inventory.write("waivers.yaml", dump_document({"waivers": [waiver]}, "waivers", 3))
    inventory.expect("waivers.yaml", field, fragment)
