"""Ansible inventory plugin: the hosts of a govcloud environment, from its model.

A source file ``*.govcloud.yml``::

    plugin: govcloud
    env: lab
    inventories: /path/to/inventories   # optional, default ./inventories
    vars:                               # optional: connection details for every host
      ansible_user: govcloud

``govcloud lab up`` writes one for its lab (``.lab/<env>/hosts.govcloud.yml``). Everything
else (zones, flows, baselines, data pool grants) comes from ``govcloud.hosts.inventory``.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: govcloud
short_description: Hosts, zones, flows and baselines of a govcloud environment
description:
  - Loads a govcloud environment (platform, tenants) and exposes its hosts and the zone router
    with every variable the govcloud roles need, derived from the model.
options:
  plugin:
    description: Marks the file as a govcloud inventory source.
    required: true
    choices: [govcloud]
  env:
    description: Environment name (a directory under I(inventories)).
    required: true
    type: str
  inventories:
    description: Directory holding one directory per environment.
    type: path
    default: inventories
  vars:
    description: Variables for every host (connection details).
    type: dict
    default: {}
"""

from pathlib import Path

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin


class InventoryModule(BaseInventoryPlugin):
    NAME = "govcloud"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".govcloud.yml", ".govcloud.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            from govcloud.hosts.inventory import build_inventory
            from govcloud.model import InputError, load_environment
        except ImportError as error:  # pragma: no cover - run with govcloud's Python
            raise AnsibleParserError(f"govcloud is not importable from Ansible's Python: {error}") from error
        try:
            env = load_environment(self.get_option("env"), Path(self.get_option("inventories")))
        except InputError as error:
            raise AnsibleParserError(f"govcloud environment is invalid:\n{error}") from error
        built = build_inventory(env, self.get_option("vars"))
        for group, hosts in sorted(built.groups.items()):
            self.inventory.add_group(group)
            for host in hosts:
                self.inventory.add_host(host, group=group)
        for host, variables in built.hostvars.items():
            for key, value in variables.items():
                self.inventory.set_variable(host, key, value)
