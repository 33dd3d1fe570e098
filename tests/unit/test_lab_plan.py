"""The lab's plan and its command line, without root: names, addresses, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govcloud.cli import app
from govcloud.hosts import firewall
from govcloud.hosts.playbook import parse_recap
from govcloud.lab import LabError
from govcloud.lab.plan import build_plan, namespace_name
from govcloud.model import load_environment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env():
    return load_environment("lab", ROOT / "inventories")


def test_one_machine_per_host_plus_the_router_on_the_zone_bridges(env, tmp_path):
    plan = build_plan(env, tmp_path)
    assert {m.name for m in plan.machines} == {h.name for h in env.platform.hosts} | {firewall.ZONE_ROUTER}
    bridges = {b.zone: b.name for b in plan.bridges}
    for host in env.platform.hosts:
        machine = plan.machine(host.name)
        assert machine.address == host.address and machine.interfaces[0].bridge == bridges[host.zone]
        assert all(gateway == str(firewall.router_address(env.zone(host.zone))) for _, gateway in machine.routes)
    router = plan.machine(firewall.ZONE_ROUTER)
    assert router.forward and {i.bridge for i in router.interfaces} == set(bridges.values())
    assert str(plan.control_address) == "172.30.10.254/24"
    names = [i.bridge_side for m in plan.machines for i in m.interfaces] + [i.machine_side for m in plan.machines for i in m.interfaces]
    assert len(names) == len(set(names)) and all(len(n) <= 15 for n in names + list(bridges.values()))


def test_namespace_is_unique_per_lab_directory(tmp_path):
    assert namespace_name("lab", tmp_path / "a") != namespace_name("lab", tmp_path / "b")
    assert namespace_name("lab", tmp_path / "a") == namespace_name("lab", tmp_path / "a")


def test_a_host_on_a_reserved_address_is_refused(tmp_path):
    copy = tmp_path / "inv" / "lab"
    shutil.copytree(ROOT / "inventories" / "lab", copy)
    platform = copy / "platform.yaml"
    platform.write_text(platform.read_text().replace("address: 172.30.10.10,", "address: 172.30.10.1,"))
    with pytest.raises(LabError, match="172.30.10.1.*zone router"):
        build_plan(load_environment("lab", tmp_path / "inv"), tmp_path)


@pytest.mark.parametrize("command", [["lab", "up"], ["lab", "down"]])
def test_lab_needs_root_and_says_so(monkeypatch, command):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    result = CliRunner().invoke(app, [*command, "--env", "lab"])
    assert result.exit_code == 2
    assert "needs root" in result.output
    assert "Traceback" not in result.output


def test_missing_kernel_feature_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    real = Path.read_text

    def no_overlay(self, *args, **kwargs):
        return "nodev\tproc\n" if str(self) == "/proc/filesystems" else real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", no_overlay)
    monkeypatch.setattr("shutil.which", lambda tool: f"/usr/bin/{tool}")
    result = CliRunner().invoke(app, ["lab", "up", "--env", "lab"])
    assert result.exit_code == 2 and "overlay" in result.output


def test_baseline_verify_without_a_lab_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setenv("GOVCLOUD_LAB_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["baseline", "verify", "--env", "lab"])
    assert result.exit_code == 2 and "govcloud lab up --env lab" in result.output


def test_recap_parser_counts_changes():
    output = """PLAY RECAP *********
dp-1                       : ok=71   changed=2    unreachable=0    failed=0    skipped=17   rescued=0    ignored=0
zone-router                : ok=55   changed=0    unreachable=1    failed=0    skipped=12   rescued=0    ignored=0
"""
    stats = parse_recap(output)
    assert stats["dp-1"]["changed"] == 2 and stats["zone-router"]["unreachable"] == 1


def test_two_labs_never_share_ssh_connections(env, tmp_path):
    """Labs of one machine reuse the same addresses; SSH master connections are keyed by
    host, port and user, so each lab must keep its own (for its SSH config and for Ansible,
    which would otherwise pass ~/.ansible/cp and run one lab's play on the other's hosts)."""
    import json

    from govcloud.lab.lab import Lab

    written = []
    for name in ("a", "b"):
        lab = Lab(env, tmp_path / name)
        lab.paths.root.mkdir(parents=True)
        lab._client_files()
        inventory = json.loads(lab.paths.inventory.read_text().split("\n", 1)[1])
        control_dir = Path(inventory["vars"]["ansible_control_path_dir"])
        assert control_dir.is_relative_to(lab.paths.root)
        assert f"ControlPath {control_dir}/%C" in lab.paths.ssh_config.read_text()
        written.append(control_dir)
    assert written[0] != written[1]
