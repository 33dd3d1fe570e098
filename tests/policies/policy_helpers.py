"""Shared constants and helpers of the policy tests (imported by name: conftest modules collide)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = REPO / "inventories"
PACK = REPO / "policies"
TODAY = dt.date(2026, 11, 25)
# The lab's one known finding: tourism publishes a level-1 website, which the platform
# standard advises against (GOV-SVC-004 is advisory, so the lab still passes).
LAB_ADVISORIES = {("lab.t-430600-tourism", "GOV-SVC-004")}


def copy_lab(tmp_path: Path, name: str = "lab") -> Path:
    """A writable copy of the lab inventory under ``tmp_path/inventories/<name>``."""
    target = tmp_path / "inventories" / name
    shutil.copytree(INVENTORIES / "lab", target)
    return target


def patch_yaml(path: Path, ops: list[dict]) -> None:
    """Apply set/append operations to an inventory YAML file (for deliberately bad fixtures)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for op in ops:
        where = list(op.get("set") or op.get("append"))
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        if "set" in op:
            parent[where[-1]] = op["value"]
        else:
            parent[where[-1]].append(op["value"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def plan_for(state, *, steps: str = "create") -> dict:
    """The update plan the engine saves for ``state`` on an empty stack (`pulumi preview
    --save-plan`): every resource it manages created with its checked inputs (a Secret's
    stringData folded into data), secrets as ciphertext; StackReferences are read, not planned,
    through the default pulumi provider the engine creates."""
    from govcloud.state import SECRET_SIG, SECRET_SIG_KEY, checked_inputs

    def wire(value, path, secrets):
        if path in secrets:
            return {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "v1:AAAA:" + path}
        if isinstance(value, dict):
            return {k: wire(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
        if isinstance(value, list):
            return [wire(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
        return value

    plans = {}
    for resource in state.resources:
        if resource.type == "pulumi:pulumi:StackReference":
            default = f"urn:pulumi:{state.stack}::govcloud::pulumi:providers:pulumi::default"
            plans[default] = {"goal": {"type": "pulumi:providers:pulumi", "name": "default", "custom": True}, "steps": [steps]}
            continue
        inputs, secrets = checked_inputs(resource.type, resource.inputs, resource.secret_paths)
        goal = {"type": resource.type, "name": resource.name, "custom": resource.custom, "protect": False,
                "inputDiff": {"adds": wire(inputs, "", secrets)}, "outputDiff": {}}
        if resource.parent:
            goal["parent"] = resource.parent
        if resource.provider:
            goal["provider"] = f"{resource.provider}::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
        plans[resource.urn] = {"goal": goal, "steps": [steps], "state": {}}
    return {"manifest": {"time": "2026-11-25T09:00:00Z", "magic": "", "version": "v3.274.0"}, "resourcePlans": plans}
