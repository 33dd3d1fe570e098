"""What every command shares: global options, loading the environment, printing results.

The command line follows one convention (README, "Command-line conventions"); the options every
command shares are defined here once, and so are the renamed spellings that keep working for a
release with a deprecation line (``renamed``).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, NoReturn

import typer
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from ..files import output_problem
from ..text import plain_console, plural, styled  # noqa: F401 (re-exported for the commands)

if TYPE_CHECKING:
    from ..model import Environment, InputError

# Piped output (CI logs, files) is read by people too: do not squeeze tables to 80 columns.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
# Strings print as they are (no markup, no emoji codes): user and file text cannot turn into
# styles or raise MarkupError, in a line or a table cell. Styling is explicit: ``styled``.
console = plain_console(width=_WIDTH)
err_console = plain_console(stderr=True, width=_WIDTH)

DEFAULT_ENV = "lab"


class Output(str, Enum):
    table = "table"
    json = "json"


@dataclass
class Settings:
    env: str = DEFAULT_ENV
    inventories: Path = Path("inventories")
    output: Output = Output.table
    verbosity: int = 0  # -1 with -q/--quiet, 1 with -v/--verbose


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def env_name(ctx: typer.Context, env: str | None) -> str:
    """A command's own ``--env`` wins over the global one (``--env ""`` too: it is refused, not
    taken for "not given")."""
    return settings(ctx).env if env is None else env


def output_of(ctx: typer.Context, output: Output | None) -> Output:
    return output or settings(ctx).output


def cache_dir() -> Path | None:
    """Where parsed inventory documents and check verdicts are cached (GOVCLOUD_CACHE_DIR; "off" disables)."""
    value = os.environ.get("GOVCLOUD_CACHE_DIR", "build/cache")
    return None if value == "off" else Path(value)


def load(ctx: typer.Context, env: str | None = None) -> Environment:
    import time

    from ..model import load_environment

    started = time.perf_counter()
    environment = load_environment(env_name(ctx, env), settings(ctx).inventories, cache_dir=cache_dir())
    detail(f"loaded environment {environment.name} from {environment.root}: {plural(len(environment.sources), 'file')}, "
           f"{plural(len(environment.tenants), 'tenant')}, {plural(len(environment.stacks), 'stack')} "
           f"in {time.perf_counter() - started:.2f}s")
    return environment


EnvOption = typer.Option(None, "--env", "-e", metavar="ENV", help="Environment under the inventories directory (default: lab).")
OutputOption = typer.Option(None, "--output", "-o", help="table for people, json for machines.")
StacksOption = typer.Option(None, "--stack", "-s", metavar="NAME",
                            help="Only this stack (lab.t-430100-health or t-430100-health); repeat for several.")
RenderDirOption = typer.Option(None, "--render-dir", envvar="GOVCLOUD_RENDER_DIR", metavar="DIR",
                               help="The render tree: <stack>/state.json and manifests.yaml (default: build/render/<env>).")
# Old spelling of --render-dir on the commands that read a render: the build directory above render/<env>.
BuildOption = typer.Option(None, "--build", envvar="GOVCLOUD_BUILD", hidden=True)
BUILD = Path("build")


def render_dir_of(render_dir: Path | None, build: Path | None, env: str) -> Path:
    """The render tree a command reads or writes: --render-dir, else (deprecated) --build DIR's
    render/<env>, else build/render/<env>."""
    from ..state import render_dir as default_render_dir

    if render_dir is not None:
        return render_dir
    if build is not None:
        deprecated("--build DIR", "--render-dir DIR/render/<env>")
        return default_render_dir(build, env)
    return default_render_dir(BUILD, env)


# --- output for people: quiet, verbose, plurals -----------------------------------------------
_verbosity = 0  # set by the root callback for the command being run


def set_verbosity(level: int) -> None:
    global _verbosity
    _verbosity = level


def verbosity() -> int:
    return _verbosity


def info(message: str) -> None:
    """A note on stderr about what the command did (files written, entries recorded); -q hides it."""
    if verbosity() >= 0:
        err_console.print(message, soft_wrap=True)


def detail(message: str) -> None:
    """What only -v/--verbose shows: what was read, how long each step took."""
    if verbosity() > 0:
        err_console.print(Text(message, style="dim"), soft_wrap=True)


def progress_disabled() -> bool:
    return verbosity() < 0




# --- renamed options: the old spelling works for a release, with one line on stderr -------------
def deprecated(old: str, new: str) -> None:
    err_console.print(styled("[yellow]deprecated:[/] {} is now {}; the old spelling goes away in the next release", old, new),
                      soft_wrap=True)


def _rename(args: list[str], renames: dict[str, str]) -> list[str]:
    out: list[str] = []
    told: set[str] = set()
    for index, arg in enumerate(args):
        if arg == "--":
            return out + args[index:]
        new = arg
        for old, replacement in renames.items():
            if arg == old:
                new = replacement
            elif old.startswith("--") and arg.startswith(old + "="):
                new = replacement + arg[len(old):]
            elif not old.startswith("--") and not replacement.startswith("--") and arg.startswith(old) and not arg.startswith("--"):
                new = replacement + arg[len(old):]  # -fjson -> -ojson
            else:
                continue
            if old not in told:
                deprecated(old, replacement)
                told.add(old)
            break
        out.append(new)
    return out


def renamed(**renames: str) -> type[TyperCommand]:
    """A command class accepting old option spellings: ``renamed(__format="--output", _f="-o")``
    (underscores stand for dashes in the keyword names)."""
    table = {key.replace("_", "-"): value for key, value in renames.items()}

    class Renamed(TyperCommand):
        def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]  # typer's own Context
            return super().parse_args(ctx, _rename(list(args), table))

    return Renamed


def renamed_group(**renames: str) -> type[TyperGroup]:
    """``renamed`` for a command group whose callback takes options (``govcloud review``)."""
    table = {key.replace("_", "-"): value for key, value in renames.items()}

    class Renamed(TyperGroup):
        def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]  # typer's own Context
            return super().parse_args(ctx, _rename(list(args), table))

    return Renamed


def stack_list(values: Iterable[str] | None) -> list[str] | None:
    """-s/--stack given zero or more times: None for "every stack"."""
    names = list(values or [])
    if any(not name for name in names):
        fail("--stack takes a stack name, not an empty value")
    return names or None


def selected_stacks(environment: Environment, values: Iterable[str] | None) -> list[str]:
    """The stacks -s/--stack names (every stack without it); unknown names end the command with one line each."""
    from ..check.run import stack_names
    from ..model import InputError

    try:
        return stack_names(environment, stack_list(values))
    except InputError as error:
        fail("; ".join(p.message for p in error.problems))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and a non-zero exit; no traceback. Asked for JSON (-o json), the
    command also says it on standard output, in the form its bad-input errors take."""
    err_console.print(styled("[bold red]error:[/] {}", message), soft_wrap=True)
    if wants_json_from_argv(sys.argv[1:]) and sys.argv and Path(sys.argv[0]).name == "govcloud":
        print_json({"ok": False, "problems": [{"file": "", "line": 0, "field": "", "message": message}]})
    raise typer.Exit(code)


def prepare_output(path: Path | None, option: str = "--out", directory: bool = False) -> None:
    """Before any work: stop with one line (exit 2) if an output could not be written there, so a
    long run never ends in a traceback over a path. Nothing is created yet: the folders are made
    when the output is written, so a command that stops on bad input leaves nothing behind."""
    if path is None:
        return
    if not directory:
        problem = output_problem(path)  # a link, a directory, a FIFO: never written through
        if problem is not None:
            fail(f"{option} {path}: {problem}")
    elif path.is_symlink():
        fail(f"{option} {path}: is a symbolic link; govcloud does not write through links (remove it or give another name)")
    if directory and path.exists() and not path.is_dir():
        fail(f"{option} {path}: is a file; give a directory")
    folder = path if directory else path.parent
    existing = folder
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        fail(f"{option} {path}: cannot create {folder}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        fail(f"{option} {path}: {existing} is not writable")


def report_input_error(error: InputError, as_json: bool = False) -> None:
    if as_json:
        print_json({"ok": False, "problems": [p.as_dict() for p in error.problems]})
        return
    count = len(error.problems)
    err_console.print(styled("[bold red]{} found:[/]", plural(count, "problem")))
    for problem in error.problems:
        where = f"{problem.file}:{problem.line}" if problem.line else problem.file
        err_console.print(styled("  [cyan]{}[/] [bold]{}[/]: {}", where, problem.field or "(file)", problem.message), soft_wrap=True)


def wants_json_from_argv(argv: list[str]) -> bool:
    for i, arg in enumerate(argv):
        if arg in ("--output", "-o") and i + 1 < len(argv) and argv[i + 1] == "json":
            return True
        if arg == "--output=json":
            return True
    return False


def is_interactive() -> bool:
    """Questions are asked on a terminal (GOVCLOUD_NONINTERACTIVE=1 never asks; GOVCLOUD_INTERACTIVE=1
    asks on any standard input, for scripted answers)."""
    if os.environ.get("GOVCLOUD_INTERACTIVE") == "1":
        return True
    return sys.stdin.isatty() and os.environ.get("GOVCLOUD_NONINTERACTIVE") != "1"
