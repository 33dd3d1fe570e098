"""Generated bad inventories, through every command that reads an inventory.

Hypothesis draws one breakage per example (wrong types, unknown keys, duplicate keys, alias
bombs, non-DNS names, path traversal, shell metacharacters, huge numbers, deep nesting, control
characters, Rich markup, non-UTF-8) and applies it to a tenant request, platform.yaml or
waivers.yaml of a fresh copy of the lab. ``validate`` and one other inventory command drawn
from the list must then: exit 2, name the broken file, print no traceback, finish within the
time limit (the fork server kills a hang and the test fails), and write nothing.
``GOVCLOUD_HOSTILE_EXAMPLES`` raises the number of examples (default 40).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govcloud.inventory_io import dump_document
from govcloud.model import codes

from .conftest import Unchanged, make_workspace, refused

EXAMPLES = int(os.environ.get("GOVCLOUD_HOSTILE_EXAMPLES") or examples(40))
TENANT = "tenants/t-430100-health.yaml"
PLATFORM = "platform.yaml"
WAIVERS = "waivers.yaml"
WAIVERS_TEXT = """waivers:
  - id: W-2026-001
    rule: GOV-SEC-001
    scope: {tenant: t-430100-health}
    reason: 迁移期间临时豁免
    approver: sec-liwei
    created: 2026-11-01
    expires: 2027-01-15
"""

# Every command that loads the environment before doing anything else, with what it needs to
# get that far. None of them may write, hang or crash on a broken inventory.
INVENTORY_COMMANDS: list[tuple[str, ...]] = [
    ("validate",),
    ("-o", "json", "validate"),
    ("tenant", "list"),
    ("tenant", "validate", "--no-check", f"inventories/lab/{TENANT}"),
    ("platform", "show"),
    ("stacks", "list"),
    ("render",),
    ("check", "-o", "json", "--out", "out/check.json"),
    ("review", "-s", "t-430100-health", "--reviewer", "sec-liwei", "--key", "env:GOVCLOUD_TEST_NO_KEY"),
    ("policy", "config"),
    ("report", "--report-dir", "out/report"),
    ("deploy", "--all", "--preview"),
    ("lab", "status"),
    ("baseline", "verify", "--out", "out/compliance.json"),
]
# deploy needs the Pulumi CLI before anything else: without it, that one line is its refusal.
NO_PULUMI = "the pulumi CLI is not installed"


def refused_by(result, *names: str) -> None:
    if result.argv[:1] == ("deploy",) and NO_PULUMI in result.stderr:
        names = ()
    refused(result, *names)

# Strings that are never DNS labels, traversal, shell metacharacters, Rich markup, controls.
TRAVERSAL = ["../../etc", "..", "../lab", "/etc/passwd", "a/../../b", "./.", "..\\..\\windows"]
SHELL = ["health;rm -rf /", "$(id)", "`id`", "a|b", "a&&b", "a>b", "$HOME", "a b", "*", "-rf"]
MARKUP = ["[/x]", "[bold]x[/bold]", "[a-z]", "[link=file:///etc/passwd]x[/link]", ":warning:", "\\[/x]"]
REFUSED_CONTROLS = [chr(c) for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]] + ["\u2028", "\u2029", "\u202e", "\u2066", "\u200f"]


@dataclass(frozen=True)
class Breakage:
    category: str
    file: str
    apply: Callable[[bytes], bytes]
    detail: str

    def __repr__(self) -> str:
        return f"Breakage({self.category} in {self.file}: {self.detail[:120]!r})"


def _data_edit(file: str, change: Callable[[dict], None]) -> Callable[[bytes], bytes]:
    def apply(raw: bytes) -> bytes:
        data = yaml.safe_load(raw.decode("utf-8"))
        change(data)
        kind = "platform" if file == PLATFORM else "waivers" if file == WAIVERS else "tenant"
        return dump_document(data, kind, depth=3 if kind != "tenant" else 4).encode("utf-8")
    return apply


def _set(path: tuple, value: Any) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return change


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, path + (k,))]
    if isinstance(node, list):
        return [path] + [leaf for i, v in enumerate(node) for leaf in _leaves(v, path + (i,))]
    return [path]


def _mappings(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [path] + [m for k, v in node.items() for m in _mappings(v, path + (k,))]
    if isinstance(node, list):
        return [m for i, v in enumerate(node) for m in _mappings(v, path + (i,))]
    return []


def _document(file: str) -> dict:
    text = WAIVERS_TEXT if file == WAIVERS else (Path(__file__).resolve().parents[2] / "inventories" / "lab" / file).read_text(encoding="utf-8")
    return yaml.safe_load(text)


FILES = st.sampled_from([TENANT, PLATFORM, WAIVERS])
NOT_DNS = st.one_of(st.sampled_from(TRAVERSAL + SHELL + MARKUP), st.text(min_size=1, max_size=40)).filter(
    lambda s: codes.dns_label_problem(s) is not None)
TEXT_WITH_CONTROL = st.builds(lambda a, c, b: a + c + b, st.text(max_size=20), st.sampled_from(REFUSED_CONTROLS), st.text(max_size=20))


@st.composite
def breakages(draw) -> Breakage:
    category = draw(st.sampled_from(["wrong type", "unknown key", "duplicate key", "alias bomb", "non-DNS name", "huge number",
                                     "deep nesting", "control character", "non-UTF-8"]))
    file = draw(FILES)
    document = _document(file)
    if category == "wrong type":
        path = draw(st.sampled_from([p for p in _leaves(document) if p]))
        value = draw(st.sampled_from([{"unexpected": "mapping"}, ["a", "list"], [[1, 2]], {"[/x]": "[bold]"}]))
        return Breakage(category, file, _data_edit(file, _set(path, value)), f"{path} = {value!r}")
    if category == "unknown key":
        path = draw(st.sampled_from(_mappings(document)))
        key = draw(st.one_of(st.sampled_from(MARKUP + SHELL + TRAVERSAL), st.text(min_size=1, max_size=30)))
        node = document
        for part in path:
            node = node[part]
        if key in node:
            key += "-unknown"
        return Breakage(category, file, _data_edit(file, _set(path + (key,), draw(st.sampled_from(["x", 1, None, [1], {"a": 1}])))), f"{path}.{key!r}")
    if category == "non-DNS name":
        target = {TENANT: ("department", "slug"), PLATFORM: ("clusters", 0, "id"), WAIVERS: ("waivers", 0, "scope", "tenant")}[file]
        name = draw(NOT_DNS)
        return Breakage(category, file, _data_edit(file, _set(target, name)), f"{target} = {name!r}")
    if category == "control character":
        target = {TENANT: draw(st.sampled_from([("department", "name"), ("change", "reason"), ("administrators", "audit", "name")])),
                  PLATFORM: ("regions", 0, "name"), WAIVERS: ("waivers", 0, "reason")}[file]
        text = draw(TEXT_WITH_CONTROL)
        return Breakage(category, file, _data_edit(file, _set(target, text)), f"{target} = {text!r}")
    if category == "duplicate key":
        key = draw(st.sampled_from(list(document)))
        return Breakage(category, file, lambda raw: raw + f"\n{key}: again\n".encode(), key)
    if category == "alias bomb":
        width = draw(st.integers(2, 9))
        lines = ["bomb0: &a0 [x, x]"] + [f"bomb{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(width))}]" for i in range(1, 9)]
        return Breakage(category, file, lambda raw: raw + ("\n" + "\n".join(lines) + "\n").encode(), f"width {width}")
    if category == "huge number":
        digits = draw(st.integers(101, 6000))
        sign = draw(st.sampled_from(["", "-", "+"]))
        literal = sign + "9" * digits + draw(st.sampled_from(["", ".5", "e5"]))
        return Breakage(category, file, lambda raw: raw + f"\nhuge: {literal}\n".encode(), f"{len(literal)} characters")
    if category == "deep nesting":
        depth = draw(st.integers(33, 3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        return Breakage(category, file, lambda raw: raw + f"\ndeep: {opener * depth}1{closer * depth}\n".encode(), f"depth {depth}")
    assert category == "non-UTF-8"
    bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe9\x95", b"\x80abc", b"\xf4\x90\x80\x80"]))
    return Breakage(category, file, lambda raw: raw.replace(b"\n", b"\n# " + bad + b"\n", 1) if raw.count(b"\n") > 1 else raw + bad, repr(bad))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("GOVCLOUD_CI") == "1",
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(breakage=breakages(), command=st.sampled_from(INVENTORY_COMMANDS[1:]))
def test_generated_bad_inventories_are_refused_by_every_command(govcloud, breakage: Breakage, command: tuple[str, ...]) -> None:
    with tempfile.TemporaryDirectory(prefix="govcloud-hostile-") as scratch:
        root = make_workspace(Path(scratch))
        path = root / "inventories" / "lab" / breakage.file
        if breakage.file == WAIVERS:
            path.write_text(WAIVERS_TEXT, encoding="utf-8")
        path.write_bytes(breakage.apply(path.read_bytes()))
        shown = f"inventories/lab/{breakage.file}"
        with Unchanged(root):
            refused(govcloud("validate", cwd=root), shown)
            refused_by(govcloud(*command, cwd=root, env={"GOVCLOUD_TEST_NO_KEY": ""}), shown)


# --- one broken inventory, every command -------------------------------------------------------
def _broken_everywhere(root: Path) -> list[str]:
    """Several independent problems at once; returns the files each command must name."""
    lab = root / "inventories" / "lab"
    fifo = lab / "tenants" / "t-430100-extra.yaml"
    os.mkfifo(fifo)
    tourism = lab / "tenants" / "t-430600-tourism.yaml"
    tourism.write_text(tourism.read_text(encoding="utf-8").replace("mlps_level: 1", "mlps_level: 1\n'[/x]': '[bold]'\n"), encoding="utf-8")
    (lab / WAIVERS).write_text(WAIVERS_TEXT.replace("reason: 迁移期间临时豁免", "reason: \"迁移\\n# APPROVED\"") + f"huge: {'9' * 5000}\n",
                               encoding="utf-8")
    return ["inventories/lab/tenants/t-430100-extra.yaml", "is a FIFO", "inventories/lab/tenants/t-430600-tourism.yaml", "unknown key '[/x]'",
            "inventories/lab/waivers.yaml", "out of range"]


@pytest.mark.parametrize("command", INVENTORY_COMMANDS, ids=[" ".join(c) for c in INVENTORY_COMMANDS])
def test_every_inventory_command_refuses_a_broken_inventory(govcloud, workspace: Path, command: tuple[str, ...]) -> None:
    names = _broken_everywhere(workspace)
    with Unchanged(workspace):
        refused_by(govcloud(*command, cwd=workspace, env={"GOVCLOUD_TEST_NO_KEY": ""}), *names)


@pytest.mark.parametrize("structure", ["tenants is a file", "tenants is a link", "environment is a link", "platform.yaml is a FIFO",
                                       "platform.yaml is a directory", "tenant file is a link", "tenant file is a directory"])
@pytest.mark.parametrize("command", [("validate",), ("render",), ("stacks", "list")])
def test_inventory_structure(govcloud, tmp_path: Path, structure: str, command: tuple[str, ...]) -> None:
    root = make_workspace(tmp_path / "work")
    outside = tmp_path / "outside"
    outside.mkdir()
    lab = root / "inventories" / "lab"
    if structure == "tenants is a file":
        named = "inventories/lab/tenants"
        os.rename(lab / "tenants", outside / "tenants")
        (lab / "tenants").write_text("t-430100-health\n", encoding="utf-8")
    elif structure == "tenants is a link":
        named = "inventories/lab/tenants"
        os.rename(lab / "tenants", outside / "tenants")
        (lab / "tenants").symlink_to(outside / "tenants")
    elif structure == "environment is a link":
        named = "inventories/lab"
        os.rename(lab, outside / "lab")
        lab.symlink_to(outside / "lab")
    elif structure == "platform.yaml is a FIFO":
        named = "inventories/lab/platform.yaml"
        (lab / PLATFORM).unlink()
        os.mkfifo(lab / PLATFORM)
    elif structure == "platform.yaml is a directory":
        named = "inventories/lab/platform.yaml"
        (lab / PLATFORM).unlink()
        (lab / PLATFORM).mkdir()
    elif structure == "tenant file is a link":
        named = "inventories/lab/tenants/t-430100-health.yaml"
        os.rename(lab / TENANT, outside / "health.yaml")
        (lab / TENANT).symlink_to(outside / "health.yaml")
    else:
        named = "inventories/lab/tenants/t-430100-health.yaml"
        (lab / TENANT).unlink()
        (lab / TENANT).mkdir()
    with Unchanged(tmp_path):
        refused(govcloud(*command, cwd=root), named)


def test_the_fork_server_answers_as_the_console_script(govcloud, workspace: Path) -> None:
    """The suite runs commands through a fork server for speed; the installed console script,
    in its own process, says exactly the same."""
    names = _broken_everywhere(workspace)
    for command in (("validate",), ("-o", "json", "validate"), ("tenant", "list")):
        forked, real = govcloud(*command, cwd=workspace), govcloud.real(*command, cwd=workspace)
        refused(real, *names)
        assert (forked.returncode, forked.stdout, forked.stderr) == (real.returncode, real.stdout, real.stderr)
