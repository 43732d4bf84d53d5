"""Helpers shared by the command modules: the app factory, output writing, config-file resolution."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import typer

# Plain (click) help formatting: rich's help renderer costs ~150 ms of imports per `--help`.
APP_DEFAULTS: dict[str, Any] = {
    "rich_markup_mode": None,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    "pretty_exceptions_show_locals": False,
    "context_settings": {"help_option_names": ["-h", "--help"], "max_content_width": 100},
}


NATURAL_WIDTH = 100_000  # "no limit" for rich off a terminal: tables take their natural width


def new_app(**kwargs: Any) -> typer.Typer:
    """A Typer app configured like every other mmexec command."""
    return typer.Typer(**{**APP_DEFAULTS, **kwargs})


def emit(data: bytes, *, closed_exit: int = 0) -> None:
    """Write a command's result (bytes) to stdout and nothing else.

    A reader that goes away early (``mmexec report show r.json | head -1``) is not an error: stop quietly
    with ``closed_exit`` (0, or the verdict a command owes its caller: ``report diff`` keeps 1). Any other
    write error (stdout on a full disk, ``> /dev/full``) is exit 2 with one line.
    """
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    try:
        if out is None:  # pragma: no cover - exotic stdout replacements
            sys.stdout.write(data.decode("utf-8"))
            sys.stdout.flush()
            return
        out.write(data)
        out.flush()
    except BrokenPipeError:
        silence_stdout()
        raise typer.Exit(closed_exit) from None
    except OSError as exc:
        from mmexec.errors import InputError

        silence_stdout()
        raise InputError(f"cannot write the output: {exc.strerror or exc}", source="stdout") from None


@contextlib.contextmanager
def exit_quietly_on_closed_stdout() -> Iterator[None]:
    """Around the whole program: output still buffered when it ends is flushed here, so a reader that went
    away (``mmexec config show | head -1``) keeps the command's exit code (not Python's 120 and a warning),
    and a failed write (``> /dev/full``) is exit 2 with one line."""
    try:
        yield
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()
        except OSError as exc:
            silence_stdout()
            print(f"error: cannot write the output: {exc.strerror or exc} (stdout)", file=sys.stderr)
            sys.exit(2)


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail (and print) a second time."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stdout (tests): nothing to flush later
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def print_tables(tables: Iterable[Any], *, closed_exit: int = 0) -> None:
    """Rich tables on stdout, through :func:`emit`.

    On a terminal: colour, at the terminal's width. Otherwise (a pipe, a file, CI): plain text at the
    tables' natural width -- never wrapped or folded, whatever ``COLUMNS`` says -- with trailing spaces
    stripped. The text is rendered first and written once, so a closed pipe is handled by ``emit``
    (``closed_exit`` is the exit code then).
    """
    import io

    from rich.console import Console

    buffer = io.StringIO()
    tty = sys.stdout.isatty()
    if tty:
        console = Console(file=buffer, force_terminal=True, highlight=False,
                          width=shutil.get_terminal_size().columns)
    else:
        console = Console(file=buffer, force_terminal=False, no_color=True, highlight=False, width=NATURAL_WIDTH)
    for table in tables:
        console.print(table)
    text = buffer.getvalue()
    if not tty:
        text = "".join(line.rstrip() + "\n" for line in text.splitlines())
    emit(text.encode("utf-8"), closed_exit=closed_exit)
