"""How ansible-playbook is started: the repository's ansible.cfg, this Python, Mitogen switchable."""

from __future__ import annotations

from pathlib import Path

from govcloud.hosts.playbook import MITOGEN_SWITCH, ansible_environment

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def test_mitogen_strategy_is_on_by_default(monkeypatch):
    monkeypatch.delenv(MITOGEN_SWITCH, raising=False)
    monkeypatch.delenv("ANSIBLE_STRATEGY", raising=False)
    env = ansible_environment(PLAYBOOKS)
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert (Path(env["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()
    assert env["ANSIBLE_CONFIG"] == str((PLAYBOOKS.parent / "ansible.cfg").resolve())


def test_mitogen_can_be_switched_off(monkeypatch):
    monkeypatch.delenv("ANSIBLE_STRATEGY", raising=False)
    for off in ("0", "false", "off"):
        monkeypatch.setenv(MITOGEN_SWITCH, off)
        env = ansible_environment(PLAYBOOKS)
        assert "ANSIBLE_STRATEGY" not in env and "ANSIBLE_STRATEGY_PLUGINS" not in env


def test_an_explicit_strategy_wins(monkeypatch):
    monkeypatch.delenv(MITOGEN_SWITCH, raising=False)
    monkeypatch.setenv("ANSIBLE_STRATEGY", "mitogen_free")
    assert ansible_environment(PLAYBOOKS)["ANSIBLE_STRATEGY"] == "mitogen_free"
