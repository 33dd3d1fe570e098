"""The Ansible inventory comes from the model: hosts, rules, baselines and grants, nothing typed twice."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from govcloud.hosts import datapool, firewall
from govcloud.hosts.inventory import build_inventory
from govcloud.model import InputError, load_environment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env():
    return load_environment("lab", ROOT / "inventories")


@pytest.fixture(scope="module")
def inventory(env):
    return build_inventory(env)


def test_every_model_host_and_the_router_with_connection_vars(env, inventory):
    names = {h.name for h in env.platform.hosts}
    assert set(inventory.hostvars) == names | {firewall.ZONE_ROUTER}
    connected = build_inventory(env, {"ansible_user": "ops"})
    assert all(v["ansible_user"] == "ops" for v in connected.hostvars.values())
    for host in env.platform.hosts:
        assert inventory.hostvars[host.name]["ansible_host"] == str(host.address)
        assert host.name in inventory.groups[f"zone_{host.zone.replace('-', '_')}"]
    assert inventory.groups["datapool"] == ["dp-1"]


def test_baseline_values_follow_the_hosts_level_profile(env, inventory):
    for host in env.platform.hosts:
        level = env.host_level(host)
        profile = env.level(level).baseline
        hv = inventory.hostvars[host.name]
        assert hv["baseline_mlps_level"] == level
        assert hv["baseline_password_min_length"] == profile.password.min_length
        assert hv["baseline_lockout_attempts"] == profile.lockout.attempts
        assert hv["baseline_idle_timeout_seconds"] == profile.idle_timeout_seconds
        assert hv["baseline_file_integrity"] == profile.integrity_checking
    # data and egov-intranet admit level 4: their hosts get the level-4 profile
    assert inventory.hostvars["dp-1"]["baseline_umask"] == "077"
    assert inventory.hostvars["node-egov-1"]["baseline_umask"] == "027"


def test_changing_a_level_profile_changes_the_inventory(tmp_path):
    copy = tmp_path / "lab"
    shutil.copytree(ROOT / "inventories" / "lab", copy)
    platform = copy / "platform.yaml"
    platform.write_text(platform.read_text().replace("password: {min_length: 14,", "password: {min_length: 20,"))
    changed = build_inventory(load_environment("lab", tmp_path))
    assert changed.hostvars["dp-1"]["baseline_password_min_length"] == 20
    assert changed.hostvars["node-egov-1"]["baseline_password_min_length"] == 12


def test_host_firewall_rules_are_exactly_the_flows_for_zone_and_role(env, inventory):
    dp = inventory.hostvars["dp-1"]
    inbound = {(tuple(r["peers"]), tuple(r["ports"])) for r in dp["zones_input_rules"]}
    assert inbound == {
        (("172.30.10.0/24",), (22,)),
        (("172.30.20.0/24",), (5432,)),
        (("172.30.40.0/24",), (5432,)),
    }
    # logs (tcp) and time (udp) from the management zone's log and time host
    assert [(r["protocol"], r["peers"], r["ports"]) for r in dp["zones_output_rules"]] == [
        ("tcp", ["172.30.10.20"], [514]), ("udp", ["172.30.10.20"], [123])]
    # a gateway flow starts at the gateway only, and ends at the zone's cluster nodes
    node = inventory.hostvars["node-egov-1"]
    assert (["172.30.30.10"], [443]) in [(r["peers"], r["ports"]) for r in node["zones_input_rules"]]
    assert (["172.30.30.10"], [443]) in [(r["peers"], r["ports"]) for r in node["zones_output_rules"]]
    # nothing reaches the intranet but management access; the intranet reaches only logs and the pool
    intra = inventory.hostvars["node-intra-1"]
    assert {tuple(r["ports"]) for r in intra["zones_input_rules"]} == {(22,)}
    assert {tuple(r["ports"]) for r in intra["zones_output_rules"]} == {(123,), (514,), (5432,)}
    # only the bastion opens management sessions
    assert any(r["ports"] == [22] for r in inventory.hostvars["bastion-1"]["zones_output_rules"])
    assert not any(r["ports"] == [22] for r in inventory.hostvars["logs-1"]["zones_output_rules"])


def test_time_comes_from_the_management_zones_log_and_time_host(env, inventory):
    collector = firewall.log_collectors(env)[0]
    assert firewall.time_port(env) == 123 and firewall.log_port(env) == 514
    for name, variables in inventory.hostvars.items():
        if name == collector.name:
            assert variables["baseline_time_server"] and variables["baseline_time_servers"] == []
            assert set(variables["baseline_time_clients"]) == {str(z.cidr) for z in env.platform.zones}
            assert 123 in variables["baseline_listening_ports"]
            assert ("udp", ["172.30.10.0/24"], [123]) in [(r["protocol"], r["peers"], r["ports"]) for r in variables["zones_input_rules"]]
        else:
            assert variables["baseline_time_servers"] == [str(collector.address)] and not variables["baseline_time_server"]
            assert ("udp", [str(collector.address)], [123]) in [(r["protocol"], r["peers"], r["ports"]) for r in variables["zones_output_rules"]]


def test_package_mirrors_follow_the_hosts_release(env, inventory):
    for name, variables in inventory.hostvars.items():
        mirrors = variables["baseline_package_mirrors"]
        assert mirrors and all(m["distribution"] == "debian" and m["version"] == "12" for m in mirrors), name
        assert any(m["security"] for m in mirrors)


def test_a_release_without_a_security_mirror_is_refused(tmp_path):
    shutil.copytree(ROOT / "inventories" / "lab", tmp_path / "lab")
    platform = tmp_path / "lab" / "platform.yaml"
    text = platform.read_text()
    platform.write_text(text.replace(", components: [main], security: true}", ", components: [main]}"))
    with pytest.raises(InputError) as problem:
        load_environment("lab", tmp_path)
    assert "no package source with security updates for debian 12" in str(problem.value)
    assert "platform.yaml:" in str(problem.value)


def test_router_forwards_the_matrix_in_order(env, inventory):
    router = inventory.hostvars[firewall.ZONE_ROUTER]
    assert router["zones_router"] and router["baseline_ip_forward"]
    forward = router["zones_forward_rules"]
    assert len(forward) == len(env.platform.flows)
    internet_to_extranet = next(r for r in forward if r["comment"].startswith("flow internet->egov-extranet"))
    assert internet_to_extranet["sources"] == ["172.30.30.10"]  # through the gateway only
    assert not any(r["sources"] == ["172.30.30.0/24"] and r["destinations"] == ["172.30.50.0/24"] for r in forward)


def test_datapool_grants_come_from_the_tenant_requests(env, inventory):
    dp = inventory.hostvars["dp-1"]
    grants = {(g["dataset"], g["consumer"]) for g in dp["datapool_dataset_grants"]}
    expected = {
        (c.dataset, datapool.identifier(t.id))
        for t in env.tenants for c in t.request.datasets.consumes
        if env.dataset(c.dataset)[1].sharing != "not-shared"
    }
    assert grants == expected and ("t-430100-health/health-records", "t_430121_agri") in grants
    not_shared = [d for d in dp["datapool_datasets"] if d["sharing"] == "not-shared"]
    assert not_shared and all(d["read_role"] is None for d in not_shared)
    audited = {d["ref"] for d in dp["datapool_datasets"] if d["audited"]}
    assert audited == {d["ref"] for d in dp["datapool_datasets"] if d["sharing"] == "conditional" or d["sensitivity"] == "core"}
    # departments connect only from their own zone
    agri = next(d for d in dp["datapool_departments"] if d["tenant"] == "t-430121-agri")
    assert agri["networks"] == ["172.30.20.0/24"]


def test_identifiers_never_exceed_postgresql_limits():
    long = datapool.identifier("t-430100-" + "a" * 50, "d" * 60)
    assert len(long) == 63 and long != datapool.identifier("t-430100-" + "a" * 50, "e" * 60)


def test_scram_verifier_shape_and_determinism():
    one = datapool.scram_verifier("secret", b"0123456789abcdef")
    assert one.startswith("SCRAM-SHA-256$4096:") and one == datapool.scram_verifier("secret", b"0123456789abcdef")
    assert one != datapool.scram_verifier("secreT", b"0123456789abcdef")


def test_playbooks_hold_no_value_of_the_model():
    """Zones, addresses, flows and hosts live in inventories/ only."""
    env = load_environment("lab", ROOT / "inventories")
    values = {str(z.cidr) for z in env.platform.zones} | {str(h.address) for h in env.platform.hosts}
    values |= {h.name for h in env.platform.hosts} | {t.id for t in env.tenants}
    for path in (ROOT / "playbooks").rglob("*"):
        if path.is_file() and path.suffix in {".yml", ".j2", ".sql"}:
            text = path.read_text()
            found = sorted(v for v in values if re.search(rf"(?<![\w.-]){re.escape(v)}(?![\w.-])", text))
            assert not found, f"{path.relative_to(ROOT)} repeats model values {found}"
    yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())
