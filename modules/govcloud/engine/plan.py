"""Update plans (``pulumi preview --save-plan``): what the engine will do, bound to the desired state.

A plan names, for every resource of the stack, the steps the engine may take (``create``,
``update``, ``replace``, ``delete``, ``same``, ``read``, ...) and the goal: type, name, parent,
provider, options and the checked inputs that change (adds, updates, deletes). ``pulumi up
--plan`` refuses any step the plan does not allow and any input that differs from it.

``problems`` checks that a plan came from a desired state: the same resources (URN, type,
name, parent, provider), every planned input change equal to the desired input (a secret on
either side must be a secret on the other; the plan holds only its ciphertext), deletions only
of resources the desired state no longer has. ``govcloud review`` certifies a plan only when it
has none, and the certificate binds the plan file's digest.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..state import REDACTED, RESOURCE_SIG, SECRET_SIG, SECRET_SIG_KEY, StackState, checked_inputs

PLAN_SUFFIX = ".plan.json"
# Steps that change nothing in the cluster.
UNCHANGED_STEPS = {"same", "read", "refresh"}
# Resources the engine makes on its own: the default provider a StackReference is read with.
ENGINE_OWN = ("pulumi:providers:pulumi::default",)
# What a program reads rather than manages: in the desired state, never in a plan.
READ_ONLY_TYPES = ("pulumi:pulumi:StackReference",)


class PlanError(Exception):
    """The plan file cannot be read; the message names the file."""


def plan_path(plans: Path, env: str, stack: str) -> Path:
    return plans / env / f"{stack}{PLAN_SUFFIX}"


def digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Plan:
    path: Path
    digest: str
    document: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> "Plan":
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise PlanError(f"{path}: cannot read the plan ({exc.strerror})") from None
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PlanError(f"{path}: not a Pulumi plan ({exc})") from None
        if not isinstance(document, dict) or not isinstance(document.get("resourcePlans", {}), dict) \
                or not isinstance(document.get("manifest"), dict):
            raise PlanError(f"{path}: not a Pulumi plan (no manifest or resourcePlans)")
        return cls(path, "sha256:" + hashlib.sha256(raw).hexdigest(), document)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document.get("resourcePlans") or {}

    def steps(self) -> dict[str, list[str]]:
        return {urn: list(entry.get("steps") or []) for urn, entry in self.resources.items()}

    def summary(self) -> dict[str, Any]:
        """Steps by kind and the resources that change: what the certificate records for people."""
        counts: Counter[str] = Counter()
        changes = []
        for urn, steps in sorted(self.steps().items()):
            for step in steps or ["same"]:
                counts[step] += 1
            if any(step not in UNCHANGED_STEPS for step in steps):
                changes.append({"urn": urn, "steps": steps})
        return {"steps": dict(sorted(counts.items())), "changes": changes}

    def has_changes(self) -> bool:
        return any(step not in UNCHANGED_STEPS for steps in self.steps().values() for step in steps)


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def _plain(value: Any) -> Any:
    """A plan's property value as plain JSON (resource references as their URN)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == RESOURCE_SIG:
            return value.get("urn")
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _compare(planned: Any, desired: Any, path: str, secret_paths: set[str], out: list[str]) -> None:
    if _is_secret(planned):
        if not (desired == REDACTED or _has_secret_below(path, secret_paths)):
            out.append(f"{path}: a secret in the plan, not in the desired state")
        return
    if desired == REDACTED and path in secret_paths:
        out.append(f"{path}: a secret in the desired state, in clear in the plan")
        return
    if isinstance(planned, dict) and isinstance(desired, dict):
        for key in sorted(set(planned) | set(desired)):
            where = f"{path}.{key}" if path else key
            if key not in planned:
                out.append(f"{where}: in the desired state, not in the plan")
            elif key not in desired:
                out.append(f"{where}: in the plan, not in the desired state")
            else:
                _compare(planned[key], desired[key], where, secret_paths, out)
        return
    if isinstance(planned, list) and isinstance(desired, list):
        if len(planned) != len(desired):
            out.append(f"{path}: {len(planned)} items in the plan, {len(desired)} in the desired state")
            return
        for index, (a, b) in enumerate(zip(planned, desired, strict=True)):
            _compare(a, b, f"{path}[{index}]", secret_paths, out)
        return
    if _plain(planned) != desired:
        out.append(f"{path}: {json.dumps(_plain(planned), ensure_ascii=False)} in the plan, "
                   f"{json.dumps(desired, ensure_ascii=False)} in the desired state")


def _has_secret_below(path: str, secret_paths: set[str]) -> bool:
    return any(p == path or p.startswith(path + ".") or p.startswith(path + "[") for p in secret_paths)


def problems(plan: Plan, state: StackState) -> list[str]:
    """Every way the plan departs from the desired state (empty: the plan came from it)."""
    found: list[str] = []
    desired = {r.urn: r for r in state.resources}
    planned = {urn: entry for urn, entry in plan.resources.items() if not urn.endswith(ENGINE_OWN)}
    for urn in sorted(set(desired) - set(planned)):
        if desired[urn].type not in READ_ONLY_TYPES:
            found.append(f"{urn}: in the desired state, not in the plan")
    for urn in sorted(planned):
        entry = planned[urn] or {}
        steps = list(entry.get("steps") or [])
        goal = entry.get("goal")
        resource = desired.get(urn)
        if resource is None:
            if goal is not None or any(s not in ("delete", "delete-replaced", "read-discard", "discard-replaced") for s in steps):
                found.append(f"{urn}: planned ({', '.join(steps) or 'no steps'}) but not in the desired state")
            continue
        if goal is None:
            found.append(f"{urn}: the plan deletes a resource of the desired state")
            continue
        for field, want in (("type", resource.type), ("name", resource.name), ("custom", resource.custom),
                            ("parent", resource.parent or "")):
            have = goal.get(field, "" if field == "parent" else None)
            if have != want:
                found.append(f"{urn}: {field} {have!r} in the plan, {want!r} in the desired state")
        provider = (goal.get("provider") or "").rsplit("::", 1)[0] or None
        if resource.custom and provider != resource.provider:
            found.append(f"{urn}: provider {provider} in the plan, {resource.provider} in the desired state")
        diff = goal.get("inputDiff") or {}
        inputs, secrets = checked_inputs(resource.type, resource.inputs, resource.secret_paths)
        for key, value in sorted({**(diff.get("adds") or {}), **(diff.get("updates") or {})}.items()):
            if key.startswith("_"):
                continue  # provider bookkeeping the engine itself ignores in plans
            if key not in inputs:
                found.append(f"{urn}: the plan sets {key}, which the desired state does not have")
            else:
                differences: list[str] = []
                _compare(value, inputs[key], key, secrets, differences)
                found += [f"{urn}: {d}" for d in differences]
        for key in diff.get("deletes") or []:
            if key in inputs and not key.startswith("_"):
                found.append(f"{urn}: the plan removes {key}, which the desired state has")
    return found
