"""The lab itself: isolated networking, a repairing `up`, and `status`."""

from __future__ import annotations

import subprocess

from govcloud.lab import netns


def test_no_lab_route_in_the_machines_own_namespace(lab_session):
    routes = subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True).stdout
    addresses = subprocess.run(["ip", "-4", "addr", "show"], capture_output=True, text=True).stdout
    assert "172.30." not in routes and "172.30." not in addresses
    inside = netns.ip(lab_session.lab.plan.namespace, "-4", "route", "show").stdout
    assert "172.30.50.0/24 via 172.30.10.1" in inside
    assert "default" not in inside, "the lab namespace must have no way out"


def test_status_reports_every_machine_reachable(lab_session):
    status = lab_session.lab.status()
    assert status["up"]
    assert {h["name"] for h in status["hosts"]} == set(lab_session.hostvars)
    assert all(h["ssh"] and h["running"] for h in status["hosts"])


def test_up_repairs_a_machine_that_died_and_keeps_the_others(lab_session):
    lab = lab_session.lab
    before = {h["name"]: h["pid"] for h in lab.status()["hosts"]}
    victim = "node-egov-2"
    subprocess.run(["kill", "-KILL", str(before[victim])], check=True)
    after_kill = {h["name"]: h["running"] for h in lab.status()["hosts"]}
    assert not after_kill[victim]
    lab.up()
    after = {h["name"]: h["pid"] for h in lab.status()["hosts"]}
    assert after[victim] != before[victim] and after[victim]
    assert {n: p for n, p in after.items() if n != victim} == {n: p for n, p in before.items() if n != victim}
    # The repaired machine kept its disk (the overlay), so its converged state is still there.
    run = lab_session.converge(limit=victim)
    assert run.ok, run.output[-3000:]


def test_status_reports_a_stopped_machine(lab_session):
    lab = lab_session.lab
    pid = next(h["pid"] for h in lab.status()["hosts"] if h["name"] == "node-inet-1")
    subprocess.run(["kill", "-KILL", str(pid)], check=True)
    try:
        status = lab.status()
        row = next(h for h in status["hosts"] if h["name"] == "node-inet-1")
        # Its nspawn is gone (the machine's init may linger, orphaned, until `up` or `down`).
        assert not row["running"] and row["pid"] is None and not status["up"]
    finally:
        lab.up()
    assert lab.status()["up"]
    run = lab_session.converge(limit="node-inet-1")
    assert run.ok, run.output[-3000:]
