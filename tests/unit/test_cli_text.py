"""User and file text prints as written: Rich never reads it as markup, emoji or terminal control.

Keys, slugs, paths, key ids and ledger summaries come from people and files. Printed as Rich
markup, ``[/x]`` raised MarkupError (a ledger summary made ``ledger show`` unusable for everyone)
and ``[a-z]`` vanished from messages (a pattern showed as ``'^{1,31}$'``).
"""

from __future__ import annotations

import ast
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.control import strip_control_codes
from rich.table import Table

from govcloud.text import plain_console, printable, styled

from forkserver import Result, govcloud

REPO = Path(__file__).resolve().parents[2]
HOSTILE = ["[/x]", "[a-z]", "^[a-z][a-z0-9_.-]{1,31}$", "[bold]loud", "[link=https://evil.example]x[/link]", ":warning:", "a\\", "\\[/x]", "{}"]


def run(*args: str, cwd: Path) -> Result:
    return govcloud(*args, cwd=cwd, timeout=120,
                    env={"PATH": "/usr/bin:/bin", "GOVCLOUD_NONINTERACTIVE": "1", "COLUMNS": "300", "GOVCLOUD_CACHE_DIR": "off"})


@given(st.text(), st.text())
def test_styled_fills_any_value_in_as_text(first: str, second: str) -> None:
    # Rich itself drops the controls it cannot print (CR, BEL, BS, VT, FF); nothing else changes.
    expected = f"error: {strip_control_codes(first)} ({strip_control_codes(second)})"
    assert styled("[bold red]error:[/] {} [dim]({})[/]", first, second).plain == expected


@pytest.mark.parametrize("value", HOSTILE)
def test_the_console_prints_hostile_text_as_written(value: str) -> None:
    console = plain_console(file=io.StringIO(), width=200, force_terminal=False)
    table = Table("cell")
    table.add_row(value)
    console.print(value)
    console.print(table)
    console.print(styled("[green]ok[/] {}", value))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert out.count(value) == 3, out


def test_terminal_control_sequences_are_shown_not_obeyed() -> None:
    console = plain_console(file=io.StringIO(), width=200, force_terminal=True)
    console.print("summary \x1b]0;owned\x07\x1b[2J\u202eevil\x9b", style="bold")
    console.print(styled("[red]e:[/] {}", "\x1b[31mred"))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b]0" not in out and "\x1b[2J" not in out and "\x1b[31mred" not in out and "\u202e" not in out and "\x9b" not in out
    assert "␛]0;owned" in out and "␛[2J" in out
    assert printable("湖南省财政厅\tline\n") == "湖南省财政厅\tline\n"


def test_every_console_is_a_plain_console() -> None:
    """The next command cannot forget: Rich consoles are made in one place (govcloud.text), and
    nothing parses markup or progress descriptions from strings elsewhere."""
    offenders = []
    for path in sorted((REPO / "modules" / "govcloud").rglob("*.py")):
        if path.name == "text.py" and path.parent.name == "govcloud":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            keywords = {k.arg: k.value for k in node.keywords}
            if name in ("Console", "from_markup", "render_markup"):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {name}(")
            if "markup" in keywords and isinstance(keywords["markup"], ast.Constant) and keywords["markup"].value is True:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} markup=True")
            if name == "TextColumn" and node.args and isinstance(node.args[0], ast.Constant) and "{task" in str(node.args[0].value) \
                    and not ("markup" in keywords and isinstance(keywords["markup"], ast.Constant) and keywords["markup"].value is False):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} TextColumn without markup=False")
            if name == "print" and node.args and isinstance(node.args[0], ast.JoinedStr) and any(
                    isinstance(v, ast.Constant) and "[/" in str(v.value) for v in node.args[0].values):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} markup in an f-string (use styled)")
    assert offenders == []


# --- end to end -----------------------------------------------------------------------------------
@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "inventories" / "lab", tmp_path / "inventories" / "lab")
    return tmp_path


def _edit(workdir: Path, old: str, new: str, file: str = "tenants/t-430100-health.yaml") -> None:
    path = workdir / "inventories" / "lab" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_patterns_show_in_full(workdir: Path) -> None:
    _edit(workdir, "requested_by: zhang-wei", "requested_by: Zhang Wei")
    result = run("validate", cwd=workdir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "^[a-z][a-z0-9_.-]{1,31}$" in result.stderr, result.stderr


@pytest.mark.parametrize("old, new, shown", [
    ("department:\n", "'[/x]': 1\ndepartment:\n", "unknown key '[/x]'"),
    ("slug: health", "slug: '[/x]'", "'[/x]' is not a DNS label"),
    ("reason: 全民健康信息平台迁移上云（长卫发〔2026〕12号）", 'reason: "[bold]全民健康\\n"', "U+000A"),
    ("slug: health", "slug: ':warning:[a-z]'", "':warning:[a-z]'"),
])
def test_markup_in_keys_and_values_prints_as_written(workdir: Path, old: str, new: str, shown: str) -> None:
    _edit(workdir, old, new)
    result = run("validate", cwd=workdir)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "MarkupError" not in result.stderr
    assert shown in result.stderr, result.stderr


def test_a_ledger_summary_with_markup_and_controls_keeps_the_ledger_readable(tmp_path: Path) -> None:
    assert run("keys", "generate", "signer", cwd=tmp_path).returncode == 0
    (tmp_path / "evidence.json").write_text('{"a": 1}\n', encoding="utf-8")
    summary = "[/x] [bold]loud[a-z] :warning:"
    appended = run("ledger", "append", "--ledger", "ledger", "--ledger-key", "signer.key", "--kind", "check", "--env", "lab",
                   "--evidence", "evidence.json", "--summary", summary, cwd=tmp_path)
    assert appended.returncode == 0, appended.stderr
    shown = run("ledger", "show", "--ledger", "ledger", cwd=tmp_path)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert summary in shown.stdout
