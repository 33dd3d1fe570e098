"""A govcloud Engine whose pulumi is ``fake_pulumi.py``: the orchestration of `govcloud deploy`
without the real engine (which tests/engine runs)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from govcloud.engine.pulumi import Binaries, Engine
from govcloud.engine.workspace import Workspace
from govcloud.hosts.datapool import access_plan
from govcloud.model import Environment

FAKE = Path(__file__).with_name("fake_pulumi.py")


@dataclass
class Fake:
    engine: Engine
    calls_file: Path
    state_file: Path
    store: dict[str, str]

    def calls(self) -> list[dict]:
        if not self.calls_file.exists():
            return []
        return [json.loads(line) for line in self.calls_file.read_text(encoding="utf-8").splitlines()]

    def commands(self, verb: str) -> list[list[str]]:
        return [c["argv"] for c in self.calls() if c["argv"][0] == verb]

    def mark_deployed(self, *names: str) -> None:
        """As if these stacks had been deployed before (their resources in the backend)."""
        state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {"stacks": {}}
        for name in names:
            state["stacks"].setdefault(name, {"resources": 0, "config": {}})["resources"] = 7
        self.state_file.write_text(json.dumps(state))

    def stacks(self) -> dict:
        return json.loads(self.state_file.read_text())["stacks"] if self.state_file.exists() else {}


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def fake_engine(tmp_path: Path, monkeypatch, env: Environment, fail: str = "") -> Fake:
    pulumi = executable(tmp_path / "fake" / "pulumi", f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    host = tmp_path / "fake" / "host"
    executable(host / "pulumi-language-python", "#!/bin/sh\nexit 0\n")
    executable(host / "pulumi-language-python-exec", "#!/bin/sh\nexit 0\n")
    provider = executable(tmp_path / "fake" / "provider" / "pulumi-resource-kubernetes", "#!/bin/sh\nexit 0\n")
    calls, state = tmp_path / "fake" / "calls.jsonl", tmp_path / "fake" / "state.json"
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    monkeypatch.setenv("FAKE_STATE", str(state))
    monkeypatch.setenv("FAKE_FAIL", fail)
    root = tmp_path / "workspace"
    store = {d.role: f"password-of-{d.role}" for d in access_plan(env).departments}
    secrets = root / "secrets" / "datapool-passwords.json"
    secrets.parent.mkdir(parents=True)
    descriptor = os.open(secrets, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(store, handle)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    workspace = Workspace(env=env.name, root=root, backend=f"file://{root / 'state'}", passphrase_file=root / "passphrase",
                          datapool_passwords=secrets, kubeconfig=kubeconfig, lab=True)
    return Fake(Engine(workspace, Binaries(pulumi, host, provider, "4.25.0")), calls, state, store)
