"""Shared fixtures: the lab rendered once offline (the same program Pulumi runs), and helpers."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from govcloud.model import Environment, load_environment
from govcloud.render import pipeline
from govcloud.state import MANIFESTS_FILE, ResourceState, StackState

REPO = Path(__file__).resolve().parents[2]
LAB_INVENTORIES = REPO / "inventories"


@dataclass
class Rendered:
    env: Environment
    out: Path
    results: list[pipeline.StackResult]

    def state(self, stack: str) -> StackState:
        return StackState.load(self.out / stack / "state.json")

    def manifests(self, stack: str) -> list[dict]:
        return list(yaml.safe_load_all((self.out / stack / MANIFESTS_FILE).read_text(encoding="utf-8")))

    def objects(self, stack: str, kind: str) -> list[ResourceState]:
        return [r for r in self.state(stack).resources if r.kind == kind]

    def object(self, stack: str, kind: str, namespace: str | None, name: str) -> ResourceState:
        found = [r for r in self.objects(stack, kind)
                 if r.inputs["metadata"]["name"] == name and r.inputs["metadata"].get("namespace") == namespace]
        assert len(found) == 1, f"{kind} {namespace}/{name} in {stack}: {len(found)} found"
        return found[0]


def render_inventory(inventories: Path, out: Path, env_name: str = "lab", **kwargs) -> Rendered:
    env = load_environment(env_name, inventories)
    results = pipeline.render(env, inventories, out, **kwargs)
    return Rendered(env, out, results)


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Rendered:
    rendered = render_inventory(LAB_INVENTORIES, tmp_path_factory.mktemp("render") / "lab", jobs=1)
    failures = [e for r in rendered.results for e in r.errors]
    assert not failures, failures
    assert len(rendered.results) == len(rendered.env.stacks) == 11
    return rendered


@pytest.fixture
def lab_copy(tmp_path) -> Path:
    """A writable copy of the lab inventory (for negative cases)."""
    target = tmp_path / "inventories"
    shutil.copytree(LAB_INVENTORIES / "lab", target / "lab")
    return target
