"""The one place where errors become messages and exit codes.

Library code raises :class:`mmexec.errors.MmexecError` subclasses; :class:`MmexecGroup` (the root command
group) catches them around every command and prints ``error: <what> (<where>)`` on stderr. Click's own usage
errors (unknown option, missing argument, a bad ``--out``/``--limit`` value...) get the same one-line form, for
every command, in :meth:`MmexecGroup.main`. Anything unexpected becomes a short internal-error line; tracebacks
appear only with ``--debug``.
"""

from __future__ import annotations

import difflib
import sys
import traceback
from collections.abc import Sequence
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


def _did_you_mean(option: str, ctx: Any) -> str:
    """Close long options of the failing command (difflib on the names without dashes), or nothing."""
    command = getattr(ctx, "command", None)
    names = [o for p in getattr(command, "params", ()) for o in (*p.opts, *p.secondary_opts) if o.startswith("--")]
    close = difflib.get_close_matches(option.lstrip("-"), [n[2:] for n in names], n=3, cutoff=0.7)
    return f"; did you mean {' or '.join('--' + c for c in close)}?" if close else ""


def usage_line(exc: click_exceptions.ClickException) -> str:
    """One line for a click error: what is wrong, with its source (a flag, or the command line)."""
    ctx = getattr(exc, "ctx", None)
    where = f"command line: {ctx.command_path}" if ctx is not None else "command line"
    if isinstance(exc, click_exceptions.NoSuchOption):
        what = f"unknown option {exc.option_name}{_did_you_mean(exc.option_name, ctx) or '; see --help'}"
    elif ctx is not None and exc.format_message().startswith("No such command"):
        name = exc.format_message().split("'")[1] if "'" in exc.format_message() else ""
        close = difflib.get_close_matches(name, ctx.command.list_commands(ctx), n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else "; see mmexec --help"
        what = f"unknown command {name!r}{hint}"
    else:
        what = " ".join(exc.format_message().split()).rstrip(".")
        what = what[:1].lower() + what[1:]
    param = getattr(exc, "param", None)
    if isinstance(exc, click_exceptions.BadParameter) and param is not None and getattr(param, "opts", None):
        where = f"flag {param.opts[0]}" if param.opts[0].startswith("-") else where
    return f"{what} ({where})"


class MmexecGroup(TyperGroup):
    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Like click's standalone mode, but usage errors are one ``error: ...`` line, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_exceptions.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click_exceptions.ClickException as exc:
            typer.echo(f"error: {usage_line(exc)}", err=True)
            sys.exit(exc.exit_code if exc.exit_code != 1 else ExitCode.BAD_INPUT)
        except (typer.Abort, EOFError):
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

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
