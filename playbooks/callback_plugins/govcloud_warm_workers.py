"""Ansible callback: load the Jinja filter and test plugins once, in the controller's main process.

ansible-core forks a worker process for every task and host. Its Jinja plugin loaders read
and execute every filter and test plugin file the first time a template uses a filter or a
test, and they cache the result in the process that did it: the main process, which rarely
templates anything that needs one, never does, so every worker loaded them all again (about a
fifth of the controller's CPU in an idempotent re-run of site.yml on the lab). Loaded here,
before the first play's tasks are queued, the workers inherit the loaded plugins through fork.
It changes nothing a playbook does.

Next to the playbooks, so ansible-playbook finds it for every playbook in this directory; it
needs no enabling (CALLBACK_NEEDS_ENABLED is false), so a run that names its own callbacks
(the benchmark's ANSIBLE_CALLBACKS_ENABLED) keeps it.
"""

from __future__ import annotations

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader, test_loader

DOCUMENTATION = """
name: govcloud_warm_workers
type: aggregate
short_description: load the Jinja filter and test plugins before the workers are forked
description:
  - Loads the filter and test plugins in the controller's main process at the start of each
    play, so the worker processes forked for every task and host inherit them instead of each
    loading them again.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "govcloud_warm_workers"
    CALLBACK_NEEDS_ENABLED = False

    def v2_playbook_on_play_start(self, play):
        # Both loaders keep what they found until a plugin directory is added (a role's or a
        # playbook's): loading again is a no-op when nothing changed.
        for loader in (filter_loader, test_loader):
            list(loader.all())
