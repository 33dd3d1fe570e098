"""MLPS controls of hosts: the catalogue, the checks of effective state, and verification.

``controls.py`` names every control the roles in ``playbooks/roles`` implement (the control
id is the Ansible tag of its tasks, ``<role>_<id>`` its toggle). ``checks.py`` reads a host's
effective state for each control; ``verify.py`` runs them over an environment's hosts and
produces the compliance report that ``govcloud baseline verify`` prints and writes.
"""
