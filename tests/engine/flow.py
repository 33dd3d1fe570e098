"""The engine path as an operator and a security reviewer walk it, on a lab of its own: the lab's
control planes, a copy of the inventory, a reviewer's key and trust store, the `govcloud`
commands. Shared by tests/engine and benchmarks/engine.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOVCLOUD = Path(sys.executable).parent / "govcloud"
PACK = REPO / "policies"
REVIEWER = "sec-liwei"


def missing() -> str | None:
    """Why the engine path cannot run here (None: it can)."""
    from govcloud import toolchain

    if os.geteuid() != 0:
        return "the lab's control planes need root (network namespaces)"
    for name in ("etcd", "kube-apiserver-1.37", "kube-apiserver-1.36", "kube-controller-manager-1.37",
                 "kube-controller-manager-1.36", "pulumi", "pulumi-language-python", "pulumi-resource-kubernetes"):
        if toolchain.find(name) is None:
            return f"{name} is not built (make binaries)"
    return None


@dataclass
class Site:
    base: Path
    inventories: Path
    env_name: str = "lab"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def work(self) -> Path:
        return self.base / "work"

    @property
    def lab_root(self) -> Path:
        return self.base / self.env_name

    @property
    def trust(self) -> Path:
        return self.base / "trust"

    @property
    def key(self) -> Path:
        return self.base / "keys" / f"{REVIEWER}.key"

    def env(self):
        from govcloud.model import load_environment

        return load_environment(self.env_name, self.inventories)

    def govcloud(self, *args: str | Path, check: bool = False, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "GOVCLOUD_LAB_DIR": str(self.base), "COLUMNS": "250", **(extra_env or {})}
        done = subprocess.run([str(GOVCLOUD), "--inventories", str(self.inventories), *map(str, args)], cwd=self.work,
                              env=env, capture_output=True, text=True, timeout=1800)
        if check:
            assert done.returncode == 0, f"govcloud {' '.join(map(str, args))}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def timed(self, label: str, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        started = time.perf_counter()
        done = self.govcloud(*args, check=check)
        self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - started
        return done

    # -- the steps --------------------------------------------------------------------------
    def preview(self, *stacks: str, label: str = "preview") -> subprocess.CompletedProcess:
        return self.timed(label, "deploy", "--env", self.env_name, *self._which(stacks), "--preview")

    def review(self, *stacks: str, label: str = "review") -> subprocess.CompletedProcess:
        self.timed(f"{label} (render)", "render", "--env", self.env_name)
        return self.timed(label, "review", "--env", self.env_name, *[a for s in stacks for a in ("-s", s)],
                          "--reviewer", REVIEWER, "--key", self.key, "--trust-store", self.trust, "--pack", PACK)

    def deploy(self, *stacks: str, label: str = "deploy", check: bool = True, expect_no_changes: bool = False) -> subprocess.CompletedProcess:
        return self.timed(label, "deploy", "--env", self.env_name, *self._which(stacks), "--trust-store", self.trust,
                          *(["--expect-no-changes"] if expect_no_changes else []), check=check)

    def _which(self, stacks: tuple[str, ...]) -> list[str]:
        return [a for s in stacks for a in ("-s", s)] if stacks else ["--all"]

    def stack_names(self, kind: str) -> list[str]:
        return [s.short_name for s in self.env().stacks if s.kind == kind]

    def deploy_everything(self) -> None:
        """From an empty backend: the foundations (preview, review, up), then the tenants."""
        foundations, tenants = self.stack_names("foundation"), self.stack_names("tenant")
        self.preview(label="preview: foundations")
        self.review(*foundations, label="review: foundations")
        self.deploy(label="deploy: foundations")
        self.preview(label="preview: tenants")
        self.review(*tenants, label="review: tenants")
        self.deploy(label="deploy: tenants")

    def engine(self):
        """The engine `govcloud deploy` uses for this lab (for what the commands do not show)."""
        from govcloud.engine.pulumi import Binaries, Engine
        from govcloud.engine.workspace import Workspace
        from govcloud.lab.lab import Lab

        lab = Lab(self.env(), self.lab_root, log=lambda message: None)
        return Engine(Workspace.for_lab(self.env_name, lab.paths.root, lab.plan.namespace), Binaries.built())


def prepare(base: Path, inventories_from: Path, env_name: str = "lab") -> Site:
    """A copy of the inventory, the reviewer's key and trust store, the data pool's secret store,
    the working directory (its build/ holds renders, plans, reviews and logs)."""
    from govcloud.hosts.datapool import access_plan
    from govcloud.lab import keys
    from govcloud.model import load_environment

    site = Site(base, base / "inventories", env_name)
    shutil.copytree(inventories_from / env_name, site.inventories / env_name)
    site.work.mkdir(parents=True)
    (base / "keys").mkdir()
    site.govcloud("keys", "generate", base / "keys" / REVIEWER, check=True)
    site.trust.mkdir()
    shutil.copy(base / "keys" / f"{REVIEWER}.pub.pem", site.trust)
    keys.datapool_credentials(site.lab_root / "secrets" / "datapool-passwords.json", access_plan(load_environment(env_name, site.inventories)))
    return site


def outcomes(done: subprocess.CompletedProcess) -> dict[str, str]:
    """stack -> ok | failed | skipped | refused, from `govcloud deploy`'s report."""
    found = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("ok", "failed", "skipped", "refused") and "." in parts[1]:
            found[parts[1]] = parts[0]
    return found


def set_pods(site: Site, tenant: str, pods: int) -> None:
    """A tenant's changed request: its pods quota (a line of its inventory file)."""
    path = site.inventories / site.env_name / "tenants" / f"{tenant}.yaml"
    lines = [line for line in path.read_text().splitlines() if not line.startswith("quotas:")]
    at = next(i for i, line in enumerate(lines) if line.startswith("cluster:"))
    lines.insert(at, f"quotas: {{pods: {pods}}}")
    path.write_text("\n".join(lines) + "\n")


def plan_document(site: Site, stack: str) -> dict:
    return json.loads((site.work / "build" / "plans" / site.env_name / f"{site.env_name}.{stack}.plan.json").read_text())
