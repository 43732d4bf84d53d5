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

# name -> (module, attribute). The attribute is a Typer app (one command or a group of subcommands).
COMMANDS: dict[str, tuple[str, str]] = {
    "shadow": ("mmexec.cli.shadow", "app"),
    "bybit-dryrun": ("mmexec.cli.bybit_dryrun", "app"),
    "fees": ("mmexec.cli.fees", "app"),
    "secrets": ("mmexec.cli.secrets", "app"),
    "report": ("mmexec.cli.report", "app"),
    "config": ("mmexec.cli.config_cmd", "app"),
}


class LazyGroup(MmexecGroup):
    """Resolves subcommands from :data:`COMMANDS` on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(self.commands) | {n for n, spec in COMMANDS.items() if _available(spec[0])})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = COMMANDS.get(cmd_name)
        if spec is None or not _available(spec[0]):
            return None
        import importlib

        sub = getattr(importlib.import_module(spec[0]), spec[1])
        command = typer.main.get_command(sub)
        command.name = cmd_name
        self.commands[cmd_name] = command
        return command


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mmexec {__version__}")
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
    app(prog_name="mmexec")
