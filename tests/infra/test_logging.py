"""Logs leave every host for the management zone's collector, over the flow the matrix allows."""

from __future__ import annotations

import time
import uuid

import pytest

from govcloud.hosts import firewall
from govcloud.model import load_environment

from .conftest import ROOT

ENV = load_environment("lab", ROOT / "inventories")
COLLECTOR = firewall.log_collectors(ENV)[0]


@pytest.mark.parametrize("sender", ["node-inet-1", "node-intra-1", "dp-1", "bastion-1"])
def test_a_message_reaches_the_collector(lab_session, sender):
    marker = f"govcloud-log-probe-{uuid.uuid4().hex[:12]}"
    lab_session.ssh(sender, f"logger -t govcloud-test {marker}")
    path = f"/var/log/remote/{ENV.host(sender).address}/messages.log"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if marker in lab_session.host(COLLECTOR.name).run(f"cat {path}").stdout:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"{marker} from {sender} did not arrive in {COLLECTOR.name}:{path}")
    mode = lab_session.host(COLLECTOR.name).run(f"stat -c '%a %G' {path}").stdout.split()
    assert mode == ["640", "adm"]
