"""The Pulumi CLI, run the way govcloud runs it: the binaries govcloud built, the workspace's
backend, home and passphrase, no update checks, no plugin downloads, no prompts, inside the lab's
network namespace when the workspace is the lab's.

Secrets never travel on a command line (where ``ps`` and ``/proc`` show them): secret config
values are written through ``pulumi config set --secret KEY`` reading stdin.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Mapping

from .. import toolchain
from ..lab import netns
from .workspace import Workspace

# Plugins the engine may need: what the language host reports for the program (the Kubernetes
# provider, from pulumi_kubernetes' pulumi-plugin.json) and the language host itself.
PROVIDER = "pulumi-resource-kubernetes"
LANGUAGE_HOST = "pulumi-language-python"


class EngineError(Exception):
    """A pulumi command failed where govcloud cannot go on; the message is one line."""


@dataclass(frozen=True)
class Binaries:
    pulumi: Path
    language_host: Path        # directory with pulumi-language-python and its exec shim
    provider: Path             # the pulumi-resource-kubernetes binary
    provider_version: str      # the version the provider reports (the SDK asks for exactly it)

    @classmethod
    def built(cls) -> "Binaries":
        """The toolchain's builds; one line naming what to build when one is missing."""
        from ..toolchain.components import KUBERNETES_PROVIDER_RELEASE

        pulumi = toolchain.require("pulumi")
        host = toolchain.require(LANGUAGE_HOST)
        provider = toolchain.require(PROVIDER)
        return cls(pulumi.binary, host.bin_dir, provider.binary, KUBERNETES_PROVIDER_RELEASE)


@dataclass
class Engine:
    workspace: Workspace
    binaries: Binaries

    # -- how every command runs --------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        ws = self.workspace
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PULUMI_") and k not in ("KUBECONFIG", "PYTHONPATH", "VIRTUAL_ENV")}
        env.update({
            "PATH": os.pathsep.join([str(self.bin_dir), env.get("PATH", "")]),
            "PULUMI_HOME": str(ws.home),
            "PULUMI_BACKEND_URL": ws.backend,
            "PULUMI_CONFIG_PASSPHRASE_FILE": str(ws.passphrase_file),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            # --event-log (the engine's events, policy verdicts included) is a "debug command" flag.
            "PULUMI_DEBUG_COMMANDS": "true",
        })
        if ws.kubeconfig is not None:
            env["KUBECONFIG"] = str(ws.kubeconfig)
        return env

    @property
    def bin_dir(self) -> Path:
        """The CLI with the language host and its exec shim next to it, where the engine looks
        for its bundled language hosts first (hard links to the toolchain's builds)."""
        return self.workspace.home / "bin"

    def argv(self, *args: str) -> list[str]:
        """The pulumi command line, inside the lab's network namespace for a lab workspace (the
        one way in, as `govcloud lab exec` and ``govcloud.cluster.access``: the engine's
        plugins inherit the namespace)."""
        argv = [str(self.bin_dir / "pulumi"), *args]
        return netns.command(self.workspace.netns, argv) if self.workspace.netns else argv

    def run(self, *args: str, log: IO[str] | None = None, stdin: str | None = None,
            check: bool = False, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """One pulumi command in the workspace's project. With ``log`` its output goes there
        (after a ``$ pulumi ...`` line); otherwise it is captured."""
        argv = self.argv(*args)
        if log is not None:
            log.write("$ pulumi " + " ".join(args) + "\n")
            log.flush()
            done = subprocess.run(argv, cwd=cwd or self.workspace.project_dir, env=self.environment(),
                                  stdout=log, stderr=subprocess.STDOUT, text=True,
                                  input=stdin if stdin is not None else "", check=False)
        else:
            done = subprocess.run(argv, cwd=cwd or self.workspace.project_dir, env=self.environment(),
                                  capture_output=True, text=True, input=stdin if stdin is not None else "", check=False)
        if check and done.returncode != 0:
            detail = (done.stderr or done.stdout or "").strip().splitlines() if log is None else []
            raise EngineError(f"pulumi {' '.join(a for a in args[:2])} failed (exit {done.returncode})"
                              + (f": {detail[-1]}" if detail else ""))
        return done

    # -- setting the workspace up ------------------------------------------------------------
    def prepare(self) -> None:
        """The workspace's directories and project, and the provider govcloud built installed
        into its plugin cache (from the binary, no download)."""
        self.workspace.prepare()
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        for source in (self.binaries.pulumi, *sorted(p for p in self.binaries.language_host.iterdir() if p.is_file())):
            _link(source, self.bin_dir / source.name)
        installed = self.workspace.home / "plugins" / f"resource-kubernetes-v{self.binaries.provider_version}"
        if not (installed / PROVIDER).is_file() or _differs(installed / PROVIDER, self.binaries.provider):
            self.run("plugin", "install", "resource", "kubernetes", self.binaries.provider_version,
                     "--file", str(self.binaries.provider), "--reinstall", check=True)

    # -- stacks ------------------------------------------------------------------------------
    def stacks(self) -> dict[str, dict]:
        """The stacks the backend holds for the project, by name (``pulumi stack ls --json``)."""
        done = self.run("stack", "ls", "--json", check=True)
        return {entry["name"]: entry for entry in json.loads(done.stdout or "[]")}

    def ensure_stack(self, stack: str, known: Mapping[str, dict] | None = None, log: IO[str] | None = None) -> bool:
        """Create the stack if the backend does not hold it; True when it was created."""
        if stack in (known if known is not None else self.stacks()):
            return False
        self.run("stack", "init", stack, "--non-interactive", "--secrets-provider", "passphrase", log=log, check=True)
        return True

    def config(self, stack: str) -> dict[str, dict]:
        """The stack's configuration as the engine reads it, secrets decrypted (kept in memory)."""
        done = self.run("config", "--json", "--show-secrets", "--stack", stack, check=True)
        return json.loads(done.stdout or "{}")

    def set_config(self, stack: str, plain: Mapping[str, str], secret: Mapping[str, str], log: IO[str] | None = None) -> bool:
        """Make the stack's configuration exactly ``plain`` + ``secret``; True when it changed.
        Plain values go on the command line, secrets through stdin."""
        current = self.config(stack)
        wanted = {**{k: (v, False) for k, v in plain.items()}, **{k: (v, True) for k, v in secret.items()}}
        have = {k: (str(v.get("value")), bool(v.get("secret"))) for k, v in current.items()}
        if have == wanted:
            return False
        extra = sorted(set(have) - set(wanted))
        if extra:
            self.run("config", "rm-all", *extra, "--stack", stack, log=log, check=True)
        changed_plain = [f"{k}={v}" for k, (v, s) in sorted(wanted.items()) if not s and have.get(k) != (v, s)]
        if changed_plain:
            args = ["config", "set-all", "--stack", stack]
            for item in changed_plain:
                args += ["--plaintext", item]
            self.run(*args, log=log, check=True)
        for key, (value, is_secret) in sorted(wanted.items()):
            if is_secret and have.get(key) != (value, True):
                self.run("config", "set", "--secret", key, "--stack", stack, stdin=value, log=log, check=True)
        return True


def _link(source: Path, target: Path) -> None:
    """``target`` becomes a hard link to ``source`` (a copy across file systems), once per build."""
    if target.exists() and target.stat().st_ino == source.stat().st_ino:
        return
    temporary = target.with_name(f".{target.name}.new")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:
        import shutil

        shutil.copy2(source, temporary)
    temporary.replace(target)


def _differs(a: Path, b: Path) -> bool:
    sa, sb = a.stat(), b.stat()
    return sa.st_size != sb.st_size or int(sa.st_mtime) < int(sb.st_mtime)
