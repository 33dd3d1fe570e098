"""The control catalogue and the roles stay in step: tags, toggles, documentation, checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from govcloud.baseline import checks
from govcloud.baseline.controls import CONTROLS, ROLES

ROLES_DIR = Path(__file__).resolve().parents[2] / "playbooks" / "roles"


def _tasks(role: str):
    for path in sorted((ROLES_DIR / role / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            yield path.name, task


def _is_import(task: dict) -> bool:
    return any(k in task for k in ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks"))


@pytest.mark.parametrize("role", ROLES)
def test_every_task_carries_the_tag_of_a_control_of_its_role(role):
    ids = {c.id for c in CONTROLS if c.role == role} | {"always"}
    for file, task in _tasks(role):
        if _is_import(task):
            continue
        tags = set(task.get("tags", []))
        assert tags, f"{role}/{file}: task '{task.get('name')}' has no control tag"
        assert tags <= ids, f"{role}/{file}: '{task.get('name')}' has unknown tags {sorted(tags - ids)}"


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_every_control_has_tasks_a_toggle_documentation_and_a_check(control):
    tagged = [t for _, t in _tasks(control.role) if control.id in t.get("tags", [])]
    assert tagged, f"no task implements {control.id}"
    defaults = yaml.safe_load((ROLES_DIR / control.role / "defaults" / "main.yml").read_text())
    assert defaults.get(control.toggle) is True, f"{control.toggle} missing from {control.role}/defaults"
    specs = yaml.safe_load((ROLES_DIR / control.role / "meta" / "argument_specs.yml").read_text())
    assert control.toggle in specs["argument_specs"]["main"]["options"]
    assert callable(checks.check_for(control.id))


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_documented(role):
    defaults = yaml.safe_load((ROLES_DIR / role / "defaults" / "main.yml").read_text())
    options = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert set(defaults) <= set(options), sorted(set(defaults) - set(options))
    for name, spec in options.items():
        assert spec.get("description"), f"{role}: {name} has no description"


@pytest.mark.parametrize("role", ROLES)
def test_per_os_vars_cover_debian_and_redhat_alike(role):
    debian = yaml.safe_load((ROLES_DIR / role / "vars" / "Debian.yml").read_text())
    redhat = yaml.safe_load((ROLES_DIR / role / "vars" / "RedHat.yml").read_text())
    assert set(debian) == set(redhat)


def test_only_builtin_modules():
    for role in ROLES:
        for file, task in _tasks(role):
            modules = [k for k in task if "." in k and k not in {"ansible.builtin.import_tasks"}]
            assert all(m.startswith("ansible.builtin.") for m in modules), f"{role}/{file}: {modules}"
