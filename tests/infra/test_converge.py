"""Converging is idempotent, and check mode reports drift without repairing it."""

from __future__ import annotations

from govcloud.baseline.checks import check_for


def test_first_converge_changed_every_host(lab_session):
    run = lab_session.first_converge
    assert run.ok
    assert set(run.stats) == set(lab_session.hostvars)
    assert all(stats["changed"] > 0 for stats in run.stats.values())


def test_second_converge_changes_nothing(lab_session):
    run = lab_session.converge()
    assert run.ok, run.output[-4000:]
    changed = {host: s["changed"] for host, s in run.stats.items() if s["changed"]}
    assert changed == {}, f"not idempotent: {changed}\n{run.output[-4000:]}"


def test_check_mode_reports_sshd_drift_and_leaves_it(lab_session):
    host = "node-egov-2"
    shell = lab_session.host(host)
    shell.run("sed -i 's/^MaxAuthTries .*/MaxAuthTries 6/' /etc/ssh/sshd_config")
    try:
        assert not check_for("ssh_hardening")(lab_session.shell(host), lab_session.hostvars[host]).passed
        run = lab_session.converge(check=True, diff=True, tags=["ssh_hardening"], limit=host)
        assert run.ok, run.output[-3000:]
        assert run.stats[host]["changed"] >= 1
        assert "-MaxAuthTries 6" in run.output and "+MaxAuthTries" in run.output
        assert "MaxAuthTries 6" in shell.file("/etc/ssh/sshd_config").content_string, "check mode changed the host"
    finally:
        repair = lab_session.converge(tags=["ssh_hardening"], limit=host)
    assert repair.ok and repair.stats[host]["changed"] >= 1
    assert check_for("ssh_hardening")(lab_session.shell(host), lab_session.hostvars[host]).passed


def test_runtime_firewall_change_is_drift_and_is_reverted(lab_session):
    host = "node-inet-1"
    shell = lab_session.host(host)
    shell.run("nft add rule inet govcloud input tcp dport 8080 accept")
    assert not check_for("host_firewall")(lab_session.shell(host), lab_session.hostvars[host]).passed
    drift = lab_session.converge(playbook="zones.yml", check=True, limit=host)
    assert drift.ok and drift.stats[host]["changed"] >= 1
    assert "dport 8080 accept" in shell.run("nft list chain inet govcloud input").stdout
    repair = lab_session.converge(playbook="zones.yml", limit=host)
    assert repair.ok and repair.stats[host]["changed"] >= 1
    assert "8080" not in shell.run("nft list chain inet govcloud input").stdout
    assert check_for("host_firewall")(lab_session.shell(host), lab_session.hostvars[host]).passed


def test_sysctl_drift_is_detected_and_repaired(lab_session):
    host = "gw-internet-1"
    lab_session.host(host).run("sysctl -q -w net.ipv4.conf.all.accept_redirects=1")
    assert not check_for("sysctl_network")(lab_session.shell(host), lab_session.hostvars[host]).passed
    repair = lab_session.converge(playbook="baseline.yml", tags=["sysctl_network"], limit=host)
    assert repair.ok and repair.stats[host]["changed"] == 1
    assert check_for("sysctl_network")(lab_session.shell(host), lab_session.hostvars[host]).passed
