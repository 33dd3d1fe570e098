"""Where and how govcloud runs the Pulumi engine for one environment: the deploy workspace.

A workspace is a directory outside git holding everything the engine keeps for an environment:

- ``project/``: the Pulumi project the engine runs, generated from the repository's
  ``Pulumi.yaml`` (same name, runtime and options, with ``main`` and the virtualenv as absolute
  paths into this clone) and the stacks' config files ``Pulumi.<stack>.yaml`` next to it, so
  nothing the engine writes lands in the clone;
- ``state/``: the file backend (``PULUMI_BACKEND_URL=file://...``) unless another backend is given;
- ``home/``: ``PULUMI_HOME`` (the plugins govcloud built, no credentials: the backend comes from
  the environment variable, never from ``pulumi login``);
- the secrets provider's passphrase, read by the engine from a file
  (``PULUMI_CONFIG_PASSPHRASE_FILE``), never from a command line.

For the lab (``Workspace.lab``) the workspace is ``.lab/<env>/pulumi/`` (removed by `lab down`
with the clusters it describes), the passphrase is generated there once, the kubeconfig is the
lab's and the engine runs inside the lab's network namespace, the only place the lab's API
servers are reachable from. For a user's own clusters (``Workspace.given``) the directory,
backend, passphrase file and kubeconfig are the user's choice.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..components.program import PROJECT_DIR
from ..files import read_regular, write_output

LAB_SUBDIRECTORY = "pulumi"
PASSPHRASE_FILE = "passphrase"
PROJECT_FILE = "Pulumi.yaml"


class WorkspaceError(Exception):
    """The workspace cannot be used as asked (missing passphrase, kubeconfig, ...); one line."""


@dataclass(frozen=True)
class Workspace:
    env: str
    root: Path
    backend: str                 # PULUMI_BACKEND_URL
    passphrase_file: Path        # PULUMI_CONFIG_PASSPHRASE_FILE
    datapool_passwords: Path     # the environment's secret store: data pool role -> password (JSON)
    kubeconfig: Path | None      # KUBECONFIG for the Kubernetes provider (None: the user's default)
    netns: str | None = None     # run the engine inside this network namespace (the lab's)
    lab: bool = False

    @property
    def project_dir(self) -> Path:
        return self.root / "project"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    def stack_config_file(self, stack: str) -> Path:
        return self.project_dir / f"Pulumi.{stack}.yaml"

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def for_lab(cls, env_name: str, lab_root: Path, namespace: str) -> "Workspace":
        """The lab's workspace under ``<lab_root>/pulumi`` (``lab_root`` is ``.lab/<env>``)."""
        root = lab_root / LAB_SUBDIRECTORY
        kubeconfig = lab_root / "kubeconfig"
        if not kubeconfig.is_file():
            raise WorkspaceError(f"the lab of environment {env_name} has no control planes ({kubeconfig} is missing); "
                                 f"run `govcloud cluster up --env {env_name}` first")
        return cls(env=env_name, root=root, backend=f"file://{root / 'state'}", passphrase_file=root / PASSPHRASE_FILE,
                   datapool_passwords=lab_root / "secrets" / "datapool-passwords.json", kubeconfig=kubeconfig,
                   netns=namespace, lab=True)

    @classmethod
    def given(cls, env_name: str, root: Path, *, backend: str | None, passphrase_file: Path | None,
              datapool_passwords: Path | None, kubeconfig: Path | None) -> "Workspace":
        """A workspace for the user's own clusters. The passphrase comes from ``passphrase_file``
        or ``$PULUMI_CONFIG_PASSPHRASE_FILE``; the kubeconfig from ``kubeconfig``, ``$KUBECONFIG`` or
        ``~/.kube/config`` (the provider's own default)."""
        root = root.resolve()
        passphrase = passphrase_file or (Path(os.environ["PULUMI_CONFIG_PASSPHRASE_FILE"])
                                         if os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE") else None)
        if passphrase is None:
            raise WorkspaceError("no passphrase for the stacks' secrets: give --passphrase-file FILE or set "
                                 "PULUMI_CONFIG_PASSPHRASE_FILE (a file outside git, readable by you only)")
        _regular(passphrase, "the passphrase file")
        if kubeconfig is not None:
            _regular(kubeconfig, "the kubeconfig")
        return cls(env=env_name, root=root, backend=backend or f"file://{root / 'state'}",
                   passphrase_file=passphrase.resolve(),
                   datapool_passwords=(datapool_passwords or root / "secrets" / "datapool-passwords.json").resolve(),
                   kubeconfig=kubeconfig.resolve() if kubeconfig else None)

    # -- preparation -------------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the directories, the lab's passphrase (once, mode 0600) and the project file."""
        for directory in (self.root, self.project_dir, self.home):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.backend.startswith("file://"):
            Path(self.backend[len("file://"):]).mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.lab and not self.passphrase_file.exists():
            descriptor = os.open(self.passphrase_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
        write_project(self.project_dir / PROJECT_FILE)

    def datapool_secret_store(self) -> dict[str, str]:
        """The data pool passwords by role; refused when the file is readable by others."""
        path = self.datapool_passwords
        if not path.exists():
            raise WorkspaceError(f"{path}: no data pool secret store (role -> password JSON)"
                                 + ("; `govcloud lab up` creates it" if self.lab else ""))
        raw = _regular(path, "the data pool secret store", limit=1 << 20)
        if path.stat().st_mode & 0o077:
            raise WorkspaceError(f"{path}: the data pool secret store is readable by others (chmod 600 it)")
        try:
            store = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WorkspaceError(f"{path}: not a JSON object of role -> password ({exc})") from None
        if not isinstance(store, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in store.items()):
            raise WorkspaceError(f"{path}: not a JSON object of role -> password")
        return store


def _regular(path: Path, what: str, limit: int = 1 << 20) -> bytes:
    """The bytes of a file the user named; one line naming it when it is missing or not a
    regular file (a FIFO is refused at once, never waited on)."""
    try:
        return read_regular(path, limit)
    except OSError as exc:
        raise WorkspaceError(f"{path}: {what} cannot be read ({exc.strerror})") from None


def write_project(path: Path, source: Path = PROJECT_DIR / PROJECT_FILE) -> None:
    """The workspace's Pulumi.yaml: the repository's, with ``main`` and a relative virtualenv
    made absolute (into this clone), rewritten only when it changes."""
    project = yaml.safe_load(source.read_text(encoding="utf-8"))
    base = source.parent
    project["main"] = str((base / project.get("main", ".")).resolve())
    options = (project.get("runtime") or {}).get("options") or {}
    if "virtualenv" in options and not Path(options["virtualenv"]).is_absolute():
        options["virtualenv"] = str((base / options["virtualenv"]).resolve())
    text = (f"# Generated by govcloud from {source}; edit that file, not this one.\n"
            + yaml.safe_dump(project, sort_keys=True, allow_unicode=True))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_output(path, text)
