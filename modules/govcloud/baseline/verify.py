"""`govcloud baseline verify`: every control on every host, read from the running hosts.

The report (``--output json`` / ``--out FILE``) is deliberately flat, for the audit report and
for people::

    {
      "env": "lab",
      "generated_at": "2026-11-25T20:00:00+00:00",
      "summary": {"hosts": 9, "checks": 180, "pass": 180, "fail": 0, "not_applicable": 36},
      "controls": {"<control id>": {"title": "...", "clause": "8.1.4.1 a", "role": "baseline",
                                    "references": ["CIS Debian 12: ...", "ANSSI BP-028: ..."]}},
      "hosts": {
        "<host>": {
          "zone": "data", "role": "datapool", "mlps_level": 4,
          "controls": {
            "<control id>": {"title": "...", "clause": "...", "status": "pass|fail|not-applicable",
                             "evidence": ["ok: sshd -T permitrootlogin no", "..."]}
          }
        }
      }
    }

Expected values are the host's inventory variables (derived from the model) over the roles'
defaults, under the roles' per-OS variables: exactly what the playbooks applied.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..hosts.inventory import build_inventory
from ..model import Environment
from . import checks
from .controls import CONTROLS, ROLES, Control

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "not-applicable"


def _plain(path: Path) -> dict[str, Any]:
    """A role's variable file without its templated values (the inventory or Ansible sets those)."""
    data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    return {k: v for k, v in (data or {}).items() if not (isinstance(v, str) and "{{" in v)}


def role_defaults(playbooks: Path) -> dict[str, Any]:
    """The roles' documented defaults."""
    merged: dict[str, Any] = {}
    for role in ROLES:
        merged.update(_plain(playbooks / "roles" / role / "defaults" / "main.yml"))
    return merged


def os_vars(playbooks: Path, family: str) -> dict[str, Any]:
    """The roles' per-OS variables (vars/<family>.yml), which Ansible loads over the inventory."""
    merged: dict[str, Any] = {}
    for role in ROLES:
        merged.update(_plain(playbooks / "roles" / role / "vars" / f"{family}.yml"))
    return merged


def expected_vars(env: Environment, playbooks: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Per host: (inventory variables, the values the roles apply: defaults < inventory < OS vars)."""
    defaults = role_defaults(playbooks)
    families: dict[str, dict[str, Any]] = {}
    expected = {}
    for host, variables in build_inventory(env).hostvars.items():
        family = (variables.get("govcloud_os") or {}).get("family", "Debian")
        if family not in families:
            families[family] = os_vars(playbooks, family)
        expected[host] = (variables, {**defaults, **variables, **families[family]})
    return expected


@dataclass(frozen=True)
class Connection:
    """How to reach the hosts: an OpenSSH client configuration naming each host."""

    ssh_config: Path

    def host(self, name: str):
        import testinfra

        return testinfra.get_host(f"ssh://{name}", ssh_config=str(self.ssh_config), sudo=True, controlpersist=120)


def _run_host(connection: Connection, name: str, inventory_vars: dict[str, Any], variables: dict[str, Any],
              controls: list[Control]) -> dict[str, Any]:
    shell = checks.Shell(connection.host(name))
    results: dict[str, Any] = {}
    for control in controls:
        entry = {"title": control.title, "clause": control.clause}
        if not control.enabled(inventory_vars):
            results[control.id] = {**entry, "status": NOT_APPLICABLE, "evidence": []}
            continue
        try:
            finding = checks.check_for(control.id)(shell, variables)
            results[control.id] = {**entry, "status": PASS if finding.passed else FAIL, "evidence": finding.evidence}
        except Exception as error:  # an unreachable host or a failing command is a failed check, with its reason
            results[control.id] = {**entry, "status": FAIL, "evidence": [f"FAIL: could not read the state: {error}"]}
    return results


def verify(env: Environment, connection: Connection, playbooks: Path, hosts: list[str] | None = None,
           control_ids: list[str] | None = None) -> dict[str, Any]:
    expected = expected_vars(env, playbooks)
    names = sorted(hosts or expected)
    unknown = sorted(set(names) - set(expected))
    if unknown:
        raise KeyError(f"unknown hosts: {', '.join(unknown)}")
    controls = [c for c in CONTROLS if control_ids is None or c.id in control_ids]
    with ThreadPoolExecutor(max_workers=min(len(names), 10) or 1) as pool:
        futures = {n: pool.submit(_run_host, connection, n, *expected[n], controls) for n in names}
        per_host = {n: f.result() for n, f in futures.items()}
    report_hosts = {}
    counts = {PASS: 0, FAIL: 0, NOT_APPLICABLE: 0}
    for name in names:
        variables = expected[name][0]
        for result in per_host[name].values():
            counts[result["status"]] += 1
        report_hosts[name] = {
            "zone": variables.get("govcloud_zone"),
            "role": variables.get("govcloud_role"),
            "mlps_level": variables.get("baseline_mlps_level"),
            "controls": per_host[name],
        }
    return {
        "env": env.name,
        "generated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "summary": {"hosts": len(names), "checks": counts[PASS] + counts[FAIL], "pass": counts[PASS], "fail": counts[FAIL],
                    "not_applicable": counts[NOT_APPLICABLE]},
        "controls": {c.id: {"title": c.title, "clause": c.clause, "role": c.role, "references": list(c.references)}
                     for c in controls},
        "hosts": report_hosts,
    }
