"""The host side of the model: what each host's playbooks must enforce, derived from the model.

Nothing here is written by hand per host: zones, flows, level profiles and tenant requests
are turned into firewall rules, baseline values and data pool grants, and from there into the
Ansible inventory (``inventory.py``) that ``playbooks/`` and ``govcloud baseline verify`` read.
"""
