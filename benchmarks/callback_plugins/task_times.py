"""Ansible callback for benchmarks/lab.py: wall time per task (all hosts together), so the
benchmark can print where a converge spends its time. ansible-core ships no task profiler
(profile_tasks lives in the ansible.posix collection, which this air-gapped setup does not have).

Enabled only by the benchmark (ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED); writes
JSON to $GOVCLOUD_TASK_TIMES.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: wall time per task, written as JSON for the lab benchmark
description: Writes a list of {play, task, seconds} to the file named by GOVCLOUD_TASK_TIMES.
requirements: [enabled in callbacks_enabled]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._times: list[dict] = []
        self._current: tuple[str, str, float] | None = None
        self._play = ""

    def _close(self) -> None:
        if self._current:
            play, task, started = self._current
            self._times.append({"play": play, "task": task, "seconds": round(time.monotonic() - started, 3)})
            self._current = None

    def v2_playbook_on_play_start(self, play):
        self._close()
        self._play = play.get_name()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = (self._play, task.get_name(), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._close()
        target = os.environ.get("GOVCLOUD_TASK_TIMES")
        if target:
            with open(target, "w", encoding="utf-8") as handle:
                json.dump(self._times, handle, ensure_ascii=False, indent=1)
