"""``govcloud deploy``: the real Pulumi engine, stack by stack, with the policy pack inside it.

Two steps, with a security review between them:

1. ``deploy --preview``: each stack is created in the workspace's backend if it is new, its
   configuration is set from the model and the secret store (``stack_configuration``), and
   ``pulumi preview --save-plan`` runs with ``--policy-pack policies/`` and the pack's
   configuration; the plan goes to ``<plans>/<env>/<stack>.plan.json`` for review.
2. ``deploy`` (up): the review gate lets a stack through only with a valid certificate for
   its current desired state *and* for that very plan file; then ``pulumi up --plan`` runs the
   certified plan, the pack again inside the engine. The engine refuses any step or input the
   plan does not allow (see ``govcloud.review``: how the two guards fit together). A plan that
   changes nothing needs no review and runs with ``--expect-no-changes``.

Foundation stacks go first: tenants read their *deployed* outputs through StackReferences, so a
tenant whose foundation is not deployed yet is skipped with that reason (preview and up alike),
and one whose foundation failed now is skipped too. Independent tenants run in parallel. Each
stack's engine output goes to ``<logs>/<stack>.log`` and its engine events (policy verdicts
included) to ``<logs>/<stack>.<preview|up>.events.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from .canonical import utc
from .components import network
from .components.program import PROJECT_DIR, MissingSecret, foundations_needed, stack_configuration
from .engine.plan import Plan, PlanError, plan_path
from .engine.pulumi import Engine, EngineError
from .model import Environment, Stack

POLICY_PACK = "policies"
RECORD_FORMAT = "govcloud.deploy-outcome/v1"


class DeployError(Exception):
    """Deploying cannot start (no engine, no policy pack, unknown stack); the message says why."""


@dataclass
class Outcome:
    stack: str
    status: str  # "ok" | "failed" | "skipped" | "refused"
    detail: str = ""
    log: Path | None = None
    certificate: dict | None = None  # what the gate let through: state and plan digests, reviewer, expiry
    plan: str | None = None          # the plan written (preview) or applied (up), by digest

    def record(self, env: str, operation: str) -> dict:
        """The deployment record of this stack: what an evidence ledger entry points at."""
        log = None
        if self.log is not None and self.log.is_file():
            log = {"path": str(self.log), "sha256": hashlib.sha256(self.log.read_bytes()).hexdigest()}
        return {"format": RECORD_FORMAT, "env": env, "stack": self.stack, "operation": operation, "status": self.status,
                "detail": self.detail, "log": log, "certificate": self.certificate, "plan": self.plan}


def write_record(outcome: Outcome, env: str, operation: str, logs: Path) -> Path:
    """``<logs>/records/<stack>.<operation>.<UTC time>.json``: the deployment record, a new file
    every time (evidence a ledger points at is never overwritten; the log is, so the record
    keeps its digest)."""
    moment = dt.datetime.now(dt.timezone.utc)
    record = {**outcome.record(env, operation), "finished_at": utc(moment)}
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


def events_path(logs: Path, stack: str, operation: str) -> Path:
    return logs / f"{stack}.{operation}.events.jsonl"


@dataclass
class Deployment:
    env: Environment
    preview: bool
    logs: Path
    engine: Engine
    inventories: Path
    plans: Path
    # The pack configuration generated from the model (govcloud policy config).
    policy_config: Path
    project_dir: Path = PROJECT_DIR
    # Called with each stack before `pulumi up`; raises GateRefused to stop it. Required for up.
    gate: Callable[[Stack], object] | None = None
    expect_no_changes: bool = False
    _known: dict[str, dict] = field(default_factory=dict)
    _secrets: Mapping[str, str] | None = None

    @property
    def policy_pack(self) -> Path:
        return self.project_dir / POLICY_PACK

    @property
    def operation(self) -> str:
        return "preview" if self.preview else "up"

    def prepare(self) -> None:
        """The workspace, the stacks the backend holds and the secret store, once per deployment."""
        if not self.policy_pack.is_dir():
            raise DeployError(f"policy pack {self.policy_pack} is missing; deploys run only with the policy pack")
        try:
            self.engine.prepare()
            self._known = self.engine.stacks()
        except EngineError as error:
            raise DeployError(str(error)) from None
        self.logs.mkdir(parents=True, exist_ok=True)

    def deployed(self, stack: str) -> bool:
        """Whether the backend holds a deployment of ``stack`` (resources beyond the stack itself)."""
        return int((self._known.get(stack) or {}).get("resourceCount") or 0) > 1

    def refresh_known(self) -> None:
        self._known = self.engine.stacks()

    def secret_store(self) -> Mapping[str, str]:
        if self._secrets is None:
            self._secrets = self.engine.workspace.datapool_secret_store()
        return self._secrets

    def needs_secrets(self, stack: Stack) -> bool:
        return stack.tenant is not None and network.has_datapool_access(self.env, self.env.tenant(stack.tenant))

    def configuration(self, stack: Stack):
        """What the stack's configuration must be: the model's, secrets from the store."""
        return stack_configuration(self.env, stack, self.inventories, self.secret_store() if self.needs_secrets(stack) else {})

    def deploy_stack(self, stack: Stack) -> Outcome:
        """One stack through the engine: preview with a saved plan, or up with the certified plan."""
        plan_file = plan_path(self.plans, self.env.name, stack.name)
        certificate = None
        if not self.preview:
            from .review import GateRefused

            if not plan_file.is_file():
                return Outcome(stack.name, "skipped", f"no update plan yet ({plan_file}): `govcloud deploy --preview`, "
                                                      f"then `govcloud review`")
            if self.gate is None:
                return Outcome(stack.name, "refused", "no review gate: pulumi up runs only behind the review gate")
            try:
                certificate = self.gate(stack)
            except GateRefused as refused:
                return Outcome(stack.name, "refused", "; ".join(refused.reasons))
        log_path = self.logs / f"{stack.name}.log"
        events = events_path(self.logs, stack.name, self.operation)
        events.unlink(missing_ok=True)
        with log_path.open("w", encoding="utf-8") as log:
            try:
                config = self.configuration(stack)
                self.engine.ensure_stack(stack.name, self._known, log=log)
                self.engine.set_config(stack.name, config.plain, config.secret, log=log)
            except (EngineError, MissingSecret) as error:
                return Outcome(stack.name, "failed", str(error), log_path, _certificate_summary(certificate))
            common = ["--stack", stack.name, "--policy-pack", str(self.policy_pack),
                      "--policy-pack-config", str(self.policy_config), "--event-log", str(events), "--non-interactive"]
            if self.preview:
                plan_file.parent.mkdir(parents=True, exist_ok=True)
                plan_file.unlink(missing_ok=True)
                done = self.engine.run("preview", *common, "--diff", "--save-plan", str(plan_file), log=log)
            else:
                # A plan that changes nothing went through without a review: the engine must change nothing.
                unchanged = isinstance(certificate, dict) and certificate.get("no_changes")
                extra = ["--expect-no-changes"] if self.expect_no_changes or unchanged else []
                done = self.engine.run("up", *common, "--plan", str(plan_file), "--yes", "--skip-preview", *extra, log=log)
        digest = None
        if plan_file.is_file():
            try:
                digest = Plan.load(plan_file).digest
            except PlanError:
                digest = None
        bound = _certificate_summary(certificate)
        if done.returncode != 0:
            return Outcome(stack.name, "failed", f"pulumi {self.operation} exited {done.returncode}: {_last_error(log_path)}",
                           log_path, bound, digest)
        return Outcome(stack.name, "ok", "", log_path, bound, digest)


def _last_error(log: Path) -> str:
    """The engine's own words for a failure: its last error or policy violation line."""
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    for marker in ("mandatory", "error:", "violates plan", "is not allowed by the plan"):
        found = [line for line in lines if marker in line and not line.startswith("$ ")]
        if found:
            return found[-1][:300]
    return lines[-1][:300] if lines else "no output"


def _certificate_summary(document: object) -> dict | None:
    if not isinstance(document, dict):
        return None
    if document.get("no_changes"):
        return {"no_changes": True, "plan_digest": document["plan"]["digest"]}
    return {"state_digest": document.get("state_digest"), "plan_digest": (document.get("plan") or {}).get("digest"),
            "reviewer": (document.get("reviewer") or {}).get("account"), "expires_at": document.get("expires_at"),
            "key_id": (document.get("signature") or {}).get("key_id")}


def select(env: Environment, only: list[str] | str | None) -> tuple[list[Stack], list[Stack]]:
    """(foundation stacks, tenant stacks) to deploy: the named stacks (with or without the
    ``<env>.`` prefix), or all of them."""
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
    from .engine.workspace import WorkspaceError

    deployment.prepare()
    outcomes: list[Outcome] = []

    def wave(stacks: list[Stack]) -> None:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for outcome in pool.map(deployment.deploy_stack, stacks):
                outcomes.append(outcome)
                report(outcome)

    try:
        if any(deployment.needs_secrets(t) for t in tenants):
            deployment.secret_store()  # a missing or unsafe secret store stops before anything runs
    except WorkspaceError as error:
        raise DeployError(str(error)) from None
    wave(foundations)
    failed = {o.stack for o in outcomes if o.status != "ok"}
    if foundations and not deployment.preview:
        deployment.refresh_known()
    ready: list[Stack] = []
    for stack in tenants:
        needed = foundations_needed(deployment.env, [stack])
        blocked = sorted(f.name for f in needed if f.name in failed)
        missing = sorted(f.name for f in needed if f.name not in failed and not deployment.deployed(f.name))
        if blocked:
            outcome = Outcome(stack.name, "skipped", f"foundation {', '.join(blocked)} failed")
        elif missing:
            outcome = Outcome(stack.name, "skipped", f"foundation {', '.join(missing)} is not deployed yet "
                                                     f"(a tenant reads its foundation's deployed outputs): deploy it first")
        else:
            ready.append(stack)
            continue
        outcomes.append(outcome)
        report(outcome)
    wave(ready)
    return outcomes
