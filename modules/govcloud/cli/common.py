"""What every command shares: global options, loading the environment, printing results."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from ..model import Environment, InputError, load_environment

# Piped output (CI logs, files) is read by people too: do not squeeze tables to 80 columns.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)

DEFAULT_ENV = "lab"


class Output(str, Enum):
    table = "table"
    json = "json"


@dataclass
class Settings:
    env: str = DEFAULT_ENV
    inventories: Path = Path("inventories")
    output: Output = Output.table


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def env_name(ctx: typer.Context, env: str | None) -> str:
    """A command's own ``--env`` wins over the global one."""
    return env or settings(ctx).env


def output_of(ctx: typer.Context, output: Output | None) -> Output:
    return output or settings(ctx).output


def cache_dir() -> Path | None:
    """Where parsed inventory documents are cached (GOVCLOUD_CACHE_DIR; "off" disables)."""
    value = os.environ.get("GOVCLOUD_CACHE_DIR", "build/cache")
    return None if value == "off" else Path(value)


def load(ctx: typer.Context, env: str | None = None) -> Environment:
    return load_environment(env_name(ctx, env), settings(ctx).inventories, cache_dir=cache_dir())


EnvOption = typer.Option(None, "--env", "-e", help="Environment under the inventories directory (default: lab).")
OutputOption = typer.Option(None, "--output", "-o", help="table for people, json for machines.")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and a non-zero exit; no traceback."""
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def prepare_output(path: Path | None, option: str = "--out", directory: bool = False) -> None:
    """Before any work: make the folder an output goes to, or stop with one line (exit 2), so a
    long run never ends in a traceback over a path that could not be written."""
    if path is None:
        return
    if not directory and path.is_dir():
        fail(f"{option} {path}: is a directory; give a file name")
    if directory and path.exists() and not path.is_dir():
        fail(f"{option} {path}: is a file; give a directory")
    folder = path if directory else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"{option} {path}: cannot create {folder}: {error.strerror or error}")
    if not os.access(folder, os.W_OK | os.X_OK):
        fail(f"{option} {path}: {folder} is not writable")


def report_input_error(error: InputError, as_json: bool = False) -> None:
    if as_json:
        print_json({"ok": False, "problems": [p.as_dict() for p in error.problems]})
        return
    count = len(error.problems)
    err_console.print(f"[bold red]{count} problem{'s' if count != 1 else ''} found:[/]")
    for problem in error.problems:
        where = f"{problem.file}:{problem.line}" if problem.line else problem.file
        err_console.print(f"  [cyan]{where}[/] [bold]{problem.field or '(file)'}[/]: {problem.message}", soft_wrap=True, markup=True)


def wants_json_from_argv(argv: list[str]) -> bool:
    for i, arg in enumerate(argv):
        if arg in ("--output", "-o") and i + 1 < len(argv) and argv[i + 1] == "json":
            return True
        if arg == "--output=json":
            return True
    return False


def is_interactive() -> bool:
    return sys.stdin.isatty() and os.environ.get("GOVCLOUD_NONINTERACTIVE") != "1"
