"""Zones with real traffic: every flow of the matrix connects, forbidden ones are refused,
and the zone router refuses on its own (from a probe with no host firewall of its own)."""

from __future__ import annotations

import contextlib
import re
import subprocess

import pytest

from govcloud.hosts import firewall
from govcloud.lab import netns
from govcloud.model import load_environment

from .conftest import ROOT

ENV = load_environment("lab", ROOT / "inventories")
LISTENING = {22, 514, 5432}  # sshd everywhere, rsyslog on collectors, PostgreSQL on the pool


@contextlib.contextmanager
def listener(lab_session, host: str, port: int):
    """A temporary TCP listener for ports nothing serves in the lab (e.g. 443)."""
    if port in LISTENING:
        yield
        return
    unit = f"govcloud-probe-{port}"
    lab_session.host(host).run(f"systemd-run --unit {unit} --collect --property=RuntimeMaxSec=120 /usr/bin/nc -lk -p {port}")
    try:
        for _ in range(50):
            if lab_session.host(host).run(f"ss -Htln sport = :{port}").stdout.strip():
                break
        yield
    finally:
        lab_session.host(host).run(f"systemctl stop {unit}")


@pytest.mark.parametrize("flow", ENV.platform.flows, ids=lambda f: f.label)
def test_every_flow_of_the_matrix_connects(lab_session, flow):
    sources = firewall.flow_sources(ENV, flow)
    targets = firewall.flow_targets(ENV, flow)
    assert sources and targets, f"no host takes part in {flow.label}"
    source, target = sources[0], targets[0]
    for port in flow.ports:
        if flow.protocol == "udp":  # the time flows: a real NTP exchange with the time host
            probe = (f"python3 -c \"import socket; s = socket.socket(2, 2); s.settimeout(3); "
                     f"s.sendto(b'\\x1b' + 47 * b'\\0', ('{target.address}', {port})); print(len(s.recv(48)))\"")
            assert lab_session.host(source.name).run(probe).stdout.strip() == "48", f"{source.name} -> {target.name}:udp/{port}"
            continue
        with listener(lab_session, target.name, port):
            assert lab_session.connects(source.name, str(target.address), port), f"{source.name} -> {target.name}:{port}"


FORBIDDEN = [
    ("node-inet-1", "dp-1", 5432, "internet -> data"),
    ("node-inet-1", "dp-1", 22, "internet -> data (ssh)"),
    ("gw-internet-1", "logs-1", 22, "internet -> management (ssh)"),
    ("node-egov-1", "node-intra-1", 22, "egov-extranet -> egov-intranet"),
    ("node-intra-1", "node-egov-1", 22, "egov-intranet -> egov-extranet"),
    ("node-intra-1", "node-inet-1", 22, "egov-intranet -> internet"),
    ("node-inet-1", "node-intra-1", 22, "internet -> egov-intranet"),
    ("dp-1", "node-intra-1", 22, "data -> egov-intranet"),
    ("node-intra-1", "logs-1", 22, "egov-intranet -> management on a port without a flow"),
    ("node-egov-1", "dp-1", 22, "egov-extranet -> data on a port without a flow"),
    ("node-egov-1", "node-egov-2", 22, "within a zone: SSH only from management"),
    ("dp-1", "node-egov-1", 22, "data -> egov-extranet"),
    ("logs-1", "node-egov-1", 22, "management -> zone from a host that is not a bastion"),
]


@pytest.mark.parametrize("source,target,port,why", FORBIDDEN, ids=[f[3] for f in FORBIDDEN])
def test_forbidden_flows_are_refused(lab_session, source, target, port, why):
    address = str(ENV.host(target).address)
    assert port in firewall.listening_ports(ENV, ENV.host(target)), "the target must listen, or refusal proves nothing"
    assert lab_session.connects("bastion-1", address, 22), "the target is up and reachable from the bastion"
    assert not lab_session.connects(source, address, port), f"{why}: {source} reached {target}:{port}"


@contextlib.contextmanager
def probe(lab_session, zone_id: str):
    """A bare network namespace on a zone's bridge: no host firewall, only the router between it and others."""
    plan = lab_session.lab.plan
    bridge = next(b for b in plan.bridges if b.zone == zone_id)
    zone = ENV.zone(zone_id)
    address = f"{list(zone.cidr.hosts())[-2]}/{zone.cidr.prefixlen}"
    name = f"{plan.namespace}-probe"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        netns.ip(plan.namespace, "link", "add", "gcprobe", "type", "veth", "peer", "name", "gcprobe0")
        netns.ip(plan.namespace, "link", "set", "gcprobe0", "netns", name)
        netns.ip(plan.namespace, "link", "set", "gcprobe", "master", bridge.name, "up")
        netns.ip(name, "addr", "add", address, "dev", "gcprobe0")
        netns.ip(name, "link", "set", "gcprobe0", "up")
        netns.ip(name, "route", "add", "default", "via", bridge.router)
        yield lambda host, port: subprocess.run(["ip", "netns", "exec", name, "nc", "-z", "-w", "3", host, str(port)]).returncode == 0
    finally:
        netns.ip(plan.namespace, "link", "delete", "gcprobe", check=False)
        subprocess.run(["ip", "netns", "delete", name])


def _router_refusals(lab_session) -> int:
    chain = lab_session.host(firewall.ZONE_ROUTER).run("nft list chain inet govcloud forward").stdout
    match = re.search(r"counter packets (\d+) bytes \d+ jump refuse", chain)
    assert match, chain
    return int(match.group(1))


def test_zone_router_alone_refuses_internet_to_data(lab_session):
    with probe(lab_session, "internet") as connects:
        before = _router_refusals(lab_session)
        assert not connects("172.30.50.10", 5432)
        assert _router_refusals(lab_session) > before, "the refusal did not come from the zone router"


def test_zone_router_forwards_an_allowed_flow_from_a_probe(lab_session):
    with probe(lab_session, "egov-extranet") as connects:
        assert connects("172.30.50.10", 5432)
