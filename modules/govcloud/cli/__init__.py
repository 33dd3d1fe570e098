"""The ``govcloud`` command.

Each command group lives in its own module and is registered here; ``main`` is the only place
that turns exceptions into exit statuses: bad input is exit 2 with every problem listed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..model import InputError
from . import baseline, diff, inventory, keys, lab, ledger, policy, report, review, stacks, tools
from .common import DEFAULT_ENV, Output, Settings, err_console, report_input_error, wants_json_from_argv

app = typer.Typer(
    name="govcloud",
    help="Infrastructure as code for a province's unified government cloud.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _global(
    ctx: typer.Context,
    env: str = typer.Option(DEFAULT_ENV, "--env", "-e", help="Environment under the inventories directory."),
    inventories: Path = typer.Option(
        Path("inventories"), "--inventories", envvar="GOVCLOUD_INVENTORIES", help="Directory holding one folder per environment."
    ),
    output: Output = typer.Option(Output.table, "--output", "-o", help="table for people, json for machines."),
) -> None:
    ctx.obj = Settings(env=env, inventories=inventories, output=output)


inventory.register(app)
keys.register(app)
ledger.register(app)
stacks.register(app)
policy.register(app)
review.register(app)
lab.register(app)
baseline.register(app)
diff.register(app)
report.register(app)
tools.register(app)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Standalone mode lets typer turn usage errors into exit 2 and Exit(n) into n; our own
    # input errors come through as exceptions and are reported here.
    try:
        app(args=argv, prog_name="govcloud")
    except InputError as error:
        report_input_error(error, as_json=wants_json_from_argv(argv))
        sys.exit(2)
    except OSError as error:
        # A path given on the command line that cannot be read or written: one line, no traceback.
        where = f"{error.filename}: " if error.filename else ""
        err_console.print(f"[bold red]error:[/] {where}{error.strerror or error}", soft_wrap=True)
        sys.exit(2)
