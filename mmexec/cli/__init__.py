"""The ``mmexec`` command line: a thin Typer adapter over the library.

Each command lives in its own module and is imported only when it runs (or when ``--help`` lists it); every
module imports its heavy dependencies (pydantic, orjson, the engine) inside the command function, so
``mmexec --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mmexec._version import __version__
from mmexec.cli.common import APP_DEFAULTS
from mmexec.cli.errors import MmexecGroup

# name -> (module, attribute, one-line summary). The attribute is a Typer app (one command or a group). The
# summary lets `mmexec --help` list the commands without importing and building any of them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "shadow": ("mmexec.cli.shadow", "app", "Run a deterministic shadow session (JSON report on stdout)."),
    "bybit-dryrun": ("mmexec.cli.bybit_dryrun", "app", "Run the session through the Bybit V5 dry-run client."),
    "fees": ("mmexec.cli.fees", "app", "Show VIP fee tiers and profiles, or price a fills file."),
    "secrets": ("mmexec.cli.secrets", "app", "Save, show, list and delete exchange API credentials."),
    "report": ("mmexec.cli.report", "app", "Diff two reports (exit 1 when they differ), show one, or draw as HTML."),
    "config": ("mmexec.cli.config_cmd", "app", "Show the effective configuration and value origins."),
    "record": ("mmexec.cli.record", "app", "Record Bybit's live public order books and trades to a file."),
    "sweep": ("mmexec.cli.sweep", "app", "Parameter sweep: grid x seeds x data files, local or on Dask."),
    "orders": ("mmexec.cli.orders", "app", "List the orders of a run journal (--state)."),
    "fills": ("mmexec.cli.fills", "app", "List the fills of a run journal (--state)."),
}


class LazyGroup(MmexecGroup):
    """Resolves subcommands from :data:`COMMANDS` on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        import importlib

        sub = getattr(importlib.import_module(spec[0]), spec[1])
        command = typer.main.get_command(sub)
        command.name = cmd_name
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx) if name in COMMANDS]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _version(value: bool) -> None:
    if value:
        from mmexec._build import engine_build

        typer.echo(f"mmexec {__version__}, engine: {engine_build()}")
        raise typer.Exit()


app = typer.Typer(
    name="mmexec",
    cls=LazyGroup,
    help="Deterministic shadow-trading execution engine for crypto market makers.",
    epilog="Exit codes: 0 ok, 1 differences/mismatches (or internal error), 2 bad input or refused operation.",
    no_args_is_help=True,
    **APP_DEFAULTS,
)


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show Python tracebacks for errors (never shows secrets).")
    ] = False,
) -> None:
    """Deterministic shadow-trading execution engine for crypto market makers."""
    ctx.obj = {"debug": debug}


def main() -> None:
    """Console-script entry point."""
    from mmexec.cli.common import exit_quietly_on_closed_stdout

    with exit_quietly_on_closed_stdout():
        app(prog_name="mmexec")
