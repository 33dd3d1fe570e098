"""Fixtures for the policy tests: the lab model, compliant desired states, and one running pack.

The pack is started once per session exactly as ``govcloud check`` (and the engine) start it,
and configured with the lab's generated configuration; every rule test goes through the
analyzer protocol, so what is tested is what runs.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from builders import all_states
from govcloud.check.run import CheckSession
from govcloud.model import load_environment

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = REPO / "inventories"
PACK = REPO / "policies"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def lab():
    return load_environment("lab", INVENTORIES)


@pytest.fixture(scope="session")
def lab_states(lab):
    return {s.stack: s for s in all_states(lab)}


@pytest.fixture(scope="session")
def lab_session(lab):
    with CheckSession(lab, PACK) as session:
        yield session


@pytest.fixture
def verdicts(lab_session):
    """Check states with the lab session; returns the results as a list."""

    def run(*states, today: dt.date = TODAY):
        return lab_session.check(list(states), today).results

    return run


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
