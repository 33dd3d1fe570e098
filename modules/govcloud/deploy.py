"""``govcloud deploy``: the real Pulumi CLI, stack by stack, with the policy pack.

Foundation stacks go first (tenants read their outputs), then the tenant stacks, independent
of one another, in parallel. Each stack is one ``pulumi preview`` or ``pulumi up`` run with
``--policy-pack policies/``; its output goes to ``build/deploy/<env>/<stack>.log`` so that
parallel runs do not interleave. A tenant whose foundation failed is not attempted.

``deploy_stack`` is the one place a stack is deployed; ``pulumi up`` runs only after the
review gate (``govcloud.review.ReviewGate``) let the stack through: a valid, unexpired review
certificate from a trusted key for exactly its current desired state. Previews change nothing
and need no certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .components.program import PROJECT_DIR, foundations_needed
from .model import Environment, Stack

POLICY_PACK = "policies"
PULUMI = "pulumi"


class DeployError(Exception):
    """Deploying cannot start (no CLI, no policy pack, unknown stack); the message says why."""


@dataclass
class Outcome:
    stack: str
    status: str  # "ok" | "failed" | "skipped" | "refused"
    detail: str = ""
    log: Path | None = None
    certificate: dict | None = None  # what the gate let through: state digest, reviewer, expiry

    def record(self, env: str, operation: str) -> dict:
        """The deployment record of this stack: what an evidence ledger entry points at."""
        log = None
        if self.log is not None and self.log.is_file():
            log = {"path": str(self.log), "sha256": hashlib.sha256(self.log.read_bytes()).hexdigest()}
        return {"format": RECORD_FORMAT, "env": env, "stack": self.stack, "operation": operation, "status": self.status,
                "detail": self.detail, "log": log, "certificate": self.certificate}


RECORD_FORMAT = "govcloud.deploy-outcome/v1"


def write_record(outcome: Outcome, env: str, operation: str, logs: Path) -> Path:
    """``<logs>/records/<stack>.<operation>.<UTC time>.json``: the deployment record, a new file
    every time (evidence a ledger points at is never overwritten; the log is, so the record
    keeps its digest)."""
    moment = dt.datetime.now(dt.timezone.utc)
    record = {**outcome.record(env, operation), "finished_at": moment.isoformat(timespec="seconds").replace("+00:00", "Z")}
    directory = logs / "records"
    directory.mkdir(parents=True, exist_ok=True)
    stamp = moment.strftime("%Y%m%dT%H%M%S.%fZ")
    for attempt in range(100):
        path = directory / f"{outcome.stack}.{operation}.{stamp}{f'-{attempt}' if attempt else ''}.json"
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
            return path
        except FileExistsError:
            continue
    raise DeployError(f"cannot write a deployment record in {directory}")


def pulumi_cli() -> str:
    found = shutil.which(PULUMI)
    if found is None:
        raise DeployError("the pulumi CLI is not installed or not on PATH (see https://www.pulumi.com/docs/install/); "
                          "`govcloud render` works without it")
    return found


def pulumi_args(cli: str, stack: str, *, preview: bool, policy_pack: Path, policy_config: Path | None = None) -> list[str]:
    common = ["--stack", stack, "--policy-pack", str(policy_pack), "--non-interactive"]
    if policy_config is not None:
        # The pack's rules read the model's facts from their configuration (govcloud policy config).
        common[4:4] = ["--policy-pack-config", str(policy_config)]
    if preview:
        return [cli, "preview", *common, "--diff"]
    return [cli, "up", *common, "--yes", "--skip-preview"]


@dataclass
class Deployment:
    env: Environment
    preview: bool
    logs: Path
    project_dir: Path = PROJECT_DIR
    cli: str = PULUMI
    # Called with each stack before `pulumi up`; raises GateRefused to stop it. Required for up.
    gate: Callable[[Stack], object] | None = None
    # The pack configuration generated from the model (govcloud policy config).
    policy_config: Path | None = None

    @property
    def policy_pack(self) -> Path:
        return self.project_dir / POLICY_PACK

    def deploy_stack(self, stack: Stack) -> Outcome:
        """One stack through the Pulumi CLI."""
        if not self.preview:
            from .review import GateRefused

            if self.gate is None:
                return Outcome(stack.name, "refused", "no review gate: pulumi up runs only behind the review gate")
            try:
                certificate = self.gate(stack)
            except GateRefused as refused:
                return Outcome(stack.name, "refused", "; ".join(refused.reasons))
        else:
            certificate = None
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{stack.name}.log"
        args = pulumi_args(self.cli, stack.name, preview=self.preview, policy_pack=self.policy_pack, policy_config=self.policy_config)
        with log.open("w", encoding="utf-8") as out:
            out.write("$ " + " ".join(args) + "\n")
            out.flush()
            done = subprocess.run(args, cwd=self.project_dir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        bound = _certificate_summary(certificate)
        if done.returncode != 0:
            return Outcome(stack.name, "failed", f"pulumi exited {done.returncode}", log, bound)
        return Outcome(stack.name, "ok", "", log, bound)


def _certificate_summary(document: object) -> dict | None:
    if not isinstance(document, dict):
        return None
    return {"state_digest": document.get("state_digest"), "reviewer": (document.get("reviewer") or {}).get("account"),
            "expires_at": document.get("expires_at"), "key_id": (document.get("signature") or {}).get("key_id")}


def plan(env: Environment, only: list[str] | str | None) -> tuple[list[Stack], list[Stack]]:
    """(foundation stacks, tenant stacks) to deploy: the named stacks, or all of them."""
    if only is not None:
        chosen = []
        for name in [only] if isinstance(only, str) else only:
            full = name if name.startswith(f"{env.name}.") else f"{env.name}.{name}"
            try:
                chosen.append(env.stack(full))
            except KeyError:
                raise DeployError(f"stack {name} is not implied by environment {env.name}; `govcloud stacks list` lists them") from None
        order = {s.name: i for i, s in enumerate(env.stacks)}
        chosen = sorted(set(chosen), key=lambda s: order[s.name])
        return [s for s in chosen if s.kind == "foundation"], [s for s in chosen if s.kind == "tenant"]
    return [s for s in env.stacks if s.kind == "foundation"], [s for s in env.stacks if s.kind == "tenant"]


def run(deployment: Deployment, foundations: list[Stack], tenants: list[Stack], *, jobs: int,
        report: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    if not deployment.policy_pack.is_dir():
        raise DeployError(f"policy pack {deployment.policy_pack} is missing; deploys run only with the policy pack")
    outcomes: list[Outcome] = []

    def wave(stacks: list[Stack]) -> None:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for outcome in pool.map(deployment.deploy_stack, stacks):
                outcomes.append(outcome)
                report(outcome)

    wave(foundations)
    failed = {o.stack for o in outcomes if o.status != "ok"}
    ready: list[Stack] = []
    for stack in tenants:
        blocked = sorted(f.name for f in foundations_needed(deployment.env, [stack]) if f.name in failed)
        if blocked:
            outcome = Outcome(stack.name, "skipped", f"foundation {', '.join(blocked)} failed")
            outcomes.append(outcome)
            report(outcome)
        else:
            ready.append(stack)
    wave(ready)
    return outcomes
