"""The one place where errors become messages and exit codes.

Library code raises :class:`mmexec.errors.MmexecError` subclasses; :class:`MmexecGroup` (the root command
group) catches them around every command and prints ``error: <what> (<where>)`` on stderr. Anything
unexpected becomes a short internal-error line; tracebacks appear only with ``--debug``.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, NoReturn

import typer
from typer._click import exceptions as click_exceptions
from typer.core import TyperGroup

from mmexec.errors import ExitCode, MmexecError

# Typer's own control flow (exit codes, usage errors, aborts) passes through untouched.
_PASS_THROUGH = (typer.Exit, typer.Abort, click_exceptions.ClickException)


def _debug_requested(ctx: Any) -> bool:
    return bool(ctx.params.get("debug")) or "--debug" in sys.argv[1:2]


def fail(message: str, code: int = ExitCode.BAD_INPUT) -> NoReturn:
    """Print ``error: message`` on stderr and leave with ``code`` (for CLI-level checks)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


class MmexecGroup(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MmexecError as exc:
            if _debug_requested(ctx):
                traceback.print_exc(file=sys.stderr)
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None
        except _PASS_THROUGH:
            raise
        except BrokenPipeError:  # the reader of stdout went away (`| head`): not an error
            from mmexec.cli.common import silence_stdout

            silence_stdout()
            raise typer.Exit(0) from None
        except Exception as exc:
            if _debug_requested(ctx):
                traceback.print_exc(file=sys.stderr)
                fail(f"unexpected internal error ({type(exc).__name__})", ExitCode.INTERNAL)
            fail(
                f"unexpected internal error ({type(exc).__name__}); re-run with --debug for the traceback",
                ExitCode.INTERNAL,
            )
