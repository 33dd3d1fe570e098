"""The command line's conventions (README, "Command-line conventions"), checked over every command:
one name for one thing, old spellings kept for a release with a deprecation line, --version,
completion, -q/-v, plurals and help without a type after flags."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from govcloud.cli import app

from forkserver import Result, govcloud, real

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None, console_script: bool = False) -> Result:
    """A command in its own process (tests/forkserver.py); ``console_script``: the installed script itself."""
    return (real if console_script else govcloud)(*args, cwd=cwd, env={"PATH": "/usr/bin:/bin", "GOVCLOUD_NONINTERACTIVE": "1", "COLUMNS": "200",
                                                                       **(env or {})})


def commands() -> list[tuple[str, object]]:
    """Every command and group of ``govcloud``, by its full name."""
    root = typer.main.get_command(app)
    found = []

    def walk(name: str, command) -> None:
        found.append((name, command))
        if hasattr(command, "commands"):
            for sub, child in sorted(command.commands.items()):
                walk(f"{name} {sub}", child)

    walk("govcloud", root)
    return found


def options(command) -> list:
    return [p for p in command.params if p.param_type_name == "option" and not p.hidden]


def test_one_name_for_one_thing_on_every_command() -> None:
    seen = 0
    for name, command in commands():
        for option in options(command):
            seen += 1
            names = set(option.opts) | set(option.secondary_opts)
            assert "--format" not in names and "-f" not in names, f"{name}: the output format is -o/--output"
            assert "--build" not in names, f"{name}: the render tree is --render-dir"
            assert "--trusted-keys" not in names and "--within-days" not in names, name
            if "--out" in names:
                assert option.metavar == "FILE", f"{name}: --out is always a file; directories have their own names"
            if "--stack" in names and name != "govcloud ledger append":
                assert "-s" in names and option.multiple, f"{name}: -s/--stack is repeatable"
            if "--ledger-key" in names:
                assert option.metavar == "KEY", name
            if "--check" in names:
                assert option.is_flag, f"{name}: --check is the change-nothing mode; check results are --check-report FILE"
            if "--output" in names:
                assert "-o" in names, name
    assert seen > 100


def test_help_shows_no_type_after_flags_and_short_summaries(monkeypatch) -> None:
    from typer.testing import CliRunner

    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    for name, _ in commands():
        done = runner.invoke(app, name.split()[1:] + ["--help"], prog_name="govcloud")
        assert done.exit_code == 0, (name, done.output)
        assert "--help" in done.output and "<bool>" not in done.output, f"{name} --help shows <bool> after a flag"
    listing = runner.invoke(app, ["--help"], prog_name="govcloud").output
    # One line per command in the listing: the first paragraph of a docstring is a summary.
    assert "fails\n" not in listing and "unwaived, 0 otherwise" not in listing


def test_version_and_completion() -> None:
    from importlib.metadata import version

    done = run("--version", console_script=True)
    assert done.returncode == 0 and done.stdout.strip() == f"govcloud {version('govcloud')}"
    completed = run(env={"_GOVCLOUD_COMPLETE": "complete_bash", "COMP_WORDS": "govcloud che", "COMP_CWORD": "1"}, console_script=True)
    assert completed.stdout.split() == ["check"], completed.stdout + completed.stderr
    assert "--show-completion" in run("--help").stdout


def test_deprecated_spellings_work_with_one_line_on_stderr(tmp_path: Path) -> None:
    done = run("schema", "export", "--check", "--out", REPO / "schemas")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("deprecated:") == 1 and "--out is now --schema-dir" in done.stderr
    done = run("scale-gen", "--out", tmp_path, "--cities", "1", "--counties", "0", "--tenants", "3")
    assert done.returncode == 0 and (tmp_path / "province" / "platform.yaml").is_file() and "--out is now --inventories" in done.stderr
    done = run("check", "--format=pdf")
    assert done.returncode == 2 and "--format is now --output" in done.stderr and "pdf" in done.stderr
    done = run("check", "-f", "pdf")
    assert done.returncode == 2 and "-f is now -o" in done.stderr


def test_quiet_and_verbose(tmp_path: Path) -> None:
    assert run("keys", "generate", tmp_path / "ledger").returncode == 0
    ledger = tmp_path / "log"
    evidence = REPO / "inventories" / "lab" / "platform.yaml"
    done = run("ledger", "append", "--ledger", ledger, "--ledger-key", tmp_path / "ledger.key", "--kind", "tenant-request",
               "--env", "lab", "--evidence", evidence, "--summary", "x", "--actor", "t")
    assert done.returncode == 0, done.stderr
    loud = run("ledger", "head", "--ledger", ledger, "--out", tmp_path / "head.json")
    assert "wrote" in loud.stderr
    quiet = run("-q", "ledger", "head", "--ledger", ledger, "--out", tmp_path / "head2.json")
    assert quiet.returncode == 0 and quiet.stderr == "" and (tmp_path / "head2.json").is_file()
    verbose = run("-v", "validate")
    assert verbose.returncode == 0 and "loaded environment lab" in verbose.stderr and "8 tenants" in verbose.stderr
    assert "loaded environment" not in run("validate").stderr
    both = run("-q", "-v", "validate")
    assert both.returncode == 2 and "not both" in both.stderr


def test_global_json_output_reaches_commands_with_their_own_formats(tmp_path: Path) -> None:
    # -o json before the command: check and diff give JSON too (here: their bad-input errors as JSON).
    done = run("-o", "json", "check", "--render-dir", tmp_path / "nothing")
    assert done.returncode == 2 and '"ok": false' in done.stdout


def test_no_parenthesised_plurals_in_messages() -> None:
    """``1 stacks`` and ``finding(s)`` read badly: counts go through govcloud.text.plural.
    Docstrings may say "(s)" about code; strings that reach people may not."""
    offenders = []
    for path in sorted((REPO / "modules" / "govcloud").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module))
                      and ast.get_docstring(node, clean=False) is not None}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ("(s)" in node.value or "(es)" in node.value) and id(node) not in docstrings:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value.strip()[:60]}")
    assert offenders == []


@pytest.mark.parametrize("count,word,expected", [(0, "stack", "0 stacks"), (1, "stack", "1 stack"), (2, "entry", "2 entrys")])
def test_plural(count: int, word: str, expected: str) -> None:
    from govcloud.text import plural

    assert plural(count, word) == expected
    assert plural(2, "entry", "entries") == "2 entries"


def test_the_command_line_starts_without_the_heavy_modules() -> None:
    """``govcloud --help`` and every command start by importing the command line only: the model
    (pydantic), the Pulumi SDK and gRPC, JSON Schema and the Kubernetes client are imported by
    the commands that use them, inside the command (a user waits for none of them otherwise)."""
    heavy = ["govcloud.model", "pydantic", "pulumi", "grpc", "jsonschema", "kubernetes", "govcloud.check", "govcloud.render", "yaml"]
    probe = f"import sys, govcloud.cli; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"imported by the command line itself: {done.stdout}"
