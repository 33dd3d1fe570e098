"""Running ``playbooks/`` with ansible-playbook, and reading what it did.

The repository's ``ansible.cfg`` (next to ``playbooks/``) enables the govcloud inventory plugin
and the roles path; the recap is parsed so callers (CLI, tests, benchmark) can assert on
changed and failed counts, e.g. that a second converge changes nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
                   r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)")


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    stats: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(s["changed"] for s in self.stats.values())

    @property
    def failed(self) -> int:
        return sum(s["failed"] + s["unreachable"] for s in self.stats.values())

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.failed == 0 and bool(self.stats)


def parse_recap(output: str) -> dict[str, dict[str, int]]:
    stats = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = RECAP.match(line.strip()) if in_recap else None
        if match:
            stats[match["host"]] = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    return stats


MITOGEN_SWITCH = "GOVCLOUD_MITOGEN"


def mitogen_strategy_plugins() -> Path | None:
    """Mitogen for Ansible's strategy plugins, unless switched off (GOVCLOUD_MITOGEN=0) or missing.

    Mitogen keeps one Python interpreter per host (and become user) alive for the whole run
    and runs modules inside it: module_utils are imported once per host instead of once per
    task, which is most of a task's cost on these hosts.
    """
    if os.environ.get(MITOGEN_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        import ansible_mitogen
    except ImportError:
        return None
    return Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"


def ansible_environment(playbooks: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str((playbooks.parent / "ansible.cfg").resolve())
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    # The inventory plugin imports govcloud: Ansible must run with this Python.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    strategies = mitogen_strategy_plugins()
    if strategies is not None:
        env["ANSIBLE_STRATEGY_PLUGINS"] = str(strategies)
        env.setdefault("ANSIBLE_STRATEGY", "mitogen_linear")
    return env


def run_playbook(
    playbooks: Path,
    playbook: str,
    inventory: Path,
    extra_vars: list[Path] | None = None,
    check: bool = False,
    diff: bool = False,
    tags: list[str] | None = None,
    limit: str | None = None,
    stream=None,
) -> PlaybookRun:
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbooks / playbook)]
    for path in extra_vars or []:
        if path.exists():
            command += ["-e", f"@{path}"]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if tags:
        command += ["--tags", ",".join(tags)]
    if limit:
        command += ["--limit", limit]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=ansible_environment(playbooks))
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if stream is not None:
            stream.write(line)
            stream.flush()
    process.wait()
    output = "".join(lines)
    return PlaybookRun(process.returncode, output, parse_recap(output))
