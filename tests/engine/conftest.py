"""The real engine: the Pulumi CLI, govcloud's language host and the Kubernetes provider that
`make binaries` builds. Without them the tests skip with the command that builds them; in CI
(GOVCLOUD_CI=1) a skip fails the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govcloud import toolchain
from govcloud.engine.pulumi import Binaries, Engine
from govcloud.engine.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    try:
        return Binaries.built()
    except toolchain.ToolchainError as missing:
        pytest.skip(f"the engine is not built: {missing}")


def own_workspace(root: Path, binaries: Binaries, env_name: str = "lab") -> Engine:
    """An engine on a workspace of its own (file backend, passphrase file), no cluster."""
    root.mkdir(parents=True, exist_ok=True)
    passphrase = root / "passphrase"
    if not passphrase.exists():
        descriptor = os.open(passphrase, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("engine-tests\n")
    kubeconfig = root / "kubeconfig"  # no cluster: a kubeconfig that names none (a named file must exist)
    if not kubeconfig.exists():
        kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    workspace = Workspace.given(env_name, root, backend=None, passphrase_file=passphrase, datapool_passwords=None,
                                kubeconfig=kubeconfig)
    engine = Engine(workspace, binaries)
    engine.prepare()
    return engine
