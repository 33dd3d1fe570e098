"""The ``govcloud`` command.

Each command group lives in its own module and is registered here; ``main`` is the only place
that turns exceptions into exit statuses: bad input is exit 2 with every problem listed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperOption

from . import baseline, cluster, diff, drift, inventory, keys, lab, ledger, policy, report, review, stacks, tenant, tools
from .common import DEFAULT_ENV, Output, Settings, console, err_console, report_input_error, set_verbosity, styled, wants_json_from_argv

app = typer.Typer(
    name="govcloud",
    help="Infrastructure as code for a province's unified government cloud.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode="rich",
)


def version() -> str:
    from importlib import metadata  # here: a tenth of a second, and only --version asks

    try:
        return metadata.version("govcloud")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        console.print(f"govcloud {version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    env: str = typer.Option(DEFAULT_ENV, "--env", "-e", help="Environment under the inventories directory."),
    inventories: Path = typer.Option(
        Path("inventories"), "--inventories", envvar="GOVCLOUD_INVENTORIES", help="Directory holding one folder per environment."
    ),
    output: Output = typer.Option(Output.table, "--output", "-o", help="table for people, json for machines."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the result itself: no progress, no notes."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also say what was read and how long each step took."),
    _version: Optional[bool] = typer.Option(None, "--version", callback=_print_version, is_eager=True,
                                            help="Print the version and exit."),
) -> None:
    if quiet and verbose:
        from .common import fail

        fail("give --quiet or --verbose, not both")
    ctx.obj = Settings(env=env, inventories=inventories, output=output, verbosity=-1 if quiet else 1 if verbose else 0)
    set_verbosity(ctx.obj.verbosity)


inventory.register(app)
tenant.register(app)
keys.register(app)
ledger.register(app)
stacks.register(app)
policy.register(app)
review.register(app)
lab.register(app)
cluster.register(app)
baseline.register(app)
diff.register(app)
drift.register(app)
report.register(app)
tools.register(app)


# A flag takes no value: help shows none (typer would print <bool> after every flag).
_display_type = TyperOption.display_type_rich


def _flag_type(self: TyperOption, ctx) -> str | None:
    return None if self.is_flag else _display_type(self, ctx)


TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Standalone mode lets typer turn usage errors into exit 2 and Exit(n) into n; our own
    # input errors come through as exceptions and are reported here. The model (InputError's
    # home) is imported by the commands that read it, not by every command.
    try:
        app(args=argv, prog_name="govcloud")
    except OSError as error:
        # A path given on the command line that cannot be read or written: one line, no traceback.
        where = f"{error.filename}: " if error.filename else ""
        err_console.print(styled("[bold red]error:[/] {}{}", where, error.strerror or error), soft_wrap=True)
        sys.exit(2)
    except Exception as error:
        from ..model.errors import InputError  # already imported by the command that raised one

        if not isinstance(error, InputError):
            raise
        report_input_error(error, as_json=wants_json_from_argv(argv))
        sys.exit(2)
