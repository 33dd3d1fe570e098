"""The lab for the whole test session: up once, converged once, torn down at the end.

Needs root (namespaces, mounts); elsewhere these tests skip, and in CI (GOVCLOUD_CI=1) a skip
fails the run. GOVCLOUD_LAB_KEEP=1 leaves the lab running for the next session (`govcloud lab
down --env lab` removes it); otherwise teardown removes it and asserts that nothing of it is
left: no process, no mount, no namespace.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from govcloud.baseline.checks import Shell
from govcloud.baseline.verify import expected_vars
from govcloud.hosts.playbook import PlaybookRun, run_playbook
from govcloud.lab import netns
from govcloud.lab.lab import Lab
from govcloud.model import Environment, load_environment

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
# The tests' own lab directory: a developer's running lab (.lab/) is never touched.
LAB_BASE = ROOT / ".lab" / "tests"


@dataclass
class LabSession:
    env: Environment
    lab: Lab
    first_converge: PlaybookRun
    hostvars: dict = field(default_factory=dict)
    _hosts: dict = field(default_factory=dict)

    def converge(self, playbook: str = "site.yml", **options) -> PlaybookRun:
        return run_playbook(PLAYBOOKS, playbook, self.lab.paths.inventory, [self.lab.paths.extra_vars], **options)

    def host(self, name: str):
        """A testinfra host (commands through sudo) over the lab's SSH configuration."""
        import testinfra

        if name not in self._hosts:
            self._hosts[name] = testinfra.get_host(f"ssh://{name}", ssh_config=str(self.lab.paths.ssh_config), sudo=True,
                                                   controlpersist=120)
        return self._hosts[name]

    def shell(self, name: str) -> Shell:
        return Shell(self.host(name))

    def ssh(self, name: str, command: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        """A command as the unprivileged automation account: no sudo, so nothing lands in auth logs."""
        return subprocess.run(["ssh", "-F", str(self.lab.paths.ssh_config), name, command], input=stdin,
                              capture_output=True, text=True, timeout=timeout)

    def connects(self, source: str, address: str, port: int) -> bool:
        result = self.host(source).run(f"nc -z -w 3 {shlex.quote(address)} {port}")
        return result.rc == 0

    @property
    def passwords(self) -> dict[str, str]:
        return json.loads(self.lab.paths.credentials.read_text())


@pytest.fixture(scope="session")
def lab_session() -> LabSession:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (network namespaces, overlay mounts); CI runs as root")
    env = load_environment("lab", ROOT / "inventories")
    lab = Lab(env, directory=LAB_BASE / env.name, log=lambda message: print(message, flush=True))
    lab.up()
    session = LabSession(env, lab, first_converge=PlaybookRun(1, ""))
    try:
        session.first_converge = session.converge()
        assert session.first_converge.ok, failures(session.first_converge)
        session.hostvars = {name: merged for name, (_, merged) in expected_vars(env, PLAYBOOKS).items()}
        yield session
    finally:
        if os.environ.get("GOVCLOUD_LAB_KEEP") != "1":
            state = json.loads(lab.paths.state.read_text()) if lab.paths.state.exists() else {"machines": {}}
            lab.down()
            _assert_nothing_left(lab, state)


def failures(run: PlaybookRun) -> str:
    """What a failed playbook run says about its failures (each failed task with its output), then its end."""
    lines = run.output.splitlines()
    shown = []
    for i, line in enumerate(lines):
        if line.startswith(("fatal:", "failed:")) or "FAILED!" in line:
            task = next((lines[j] for j in range(i, -1, -1) if lines[j].startswith(("TASK [", "RUNNING HANDLER ["))), "")
            shown += [task, *lines[i:i + 12], ""]
    return "\n".join(shown)[-8000:] + "\n...\n" + run.output[-2000:]


def _assert_nothing_left(lab: Lab, state: dict) -> None:
    leftovers = []
    for name, record in state.get("machines", {}).items():
        if record.get("pid") and Path(f"/proc/{record['pid']}").exists():
            leftovers.append(f"process {record['pid']} ({name})")
    mounts = Path("/proc/self/mounts").read_text()
    leftovers += [f"mount {line.split()[1]}" for line in mounts.splitlines() if str(lab.paths.root) in line]
    if netns.exists(lab.plan.namespace):
        leftovers.append(f"namespace {lab.plan.namespace}")
    if lab.paths.root.exists():
        leftovers.append(f"directory {lab.paths.root}")
    leftovers += [f"propagation dir {m.name}" for m in lab.plan.machines if Path(f"/run/systemd/nspawn/propagate/{m.name}").exists()]
    assert not leftovers, f"lab down left behind: {leftovers}"
