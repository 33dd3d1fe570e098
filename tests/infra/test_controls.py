"""One test per control: every host it applies to passes the check of its effective state."""

from __future__ import annotations

import pytest

from govcloud.baseline.checks import check_for
from govcloud.baseline.controls import CONTROLS


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_control_holds_on_every_host(lab_session, control):
    inventory = {name: variables for name, variables in lab_session.hostvars.items()}
    applicable = [name for name, variables in sorted(inventory.items()) if control.enabled(_inventory_vars(lab_session, name))]
    assert applicable, f"{control.id} applies to no host of the lab"
    failures = {}
    for name in applicable:
        finding = check_for(control.id)(lab_session.shell(name), inventory[name])
        assert finding.evidence, f"{control.id} on {name} read nothing"
        if not finding.passed:
            failures[name] = [e for e in finding.evidence if e.startswith("FAIL")]
    assert not failures, failures


def _inventory_vars(lab_session, name):
    from govcloud.hosts.inventory import build_inventory

    return build_inventory(lab_session.env).hostvars[name]
