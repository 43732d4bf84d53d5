"""Helpers shared by the command modules: the app factory, output writing, config-file resolution."""

from __future__ import annotations

import os
import sys
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


def new_app(**kwargs: Any) -> typer.Typer:
    """A Typer app configured like every other mmexec command."""
    return typer.Typer(**{**APP_DEFAULTS, **kwargs})


def emit(data: bytes) -> None:
    """Write a command's result (bytes) to stdout and nothing else.

    A reader that goes away early (``mmexec shadow | head -c 100``) is not an error: stop quietly.
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
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # keep the interpreter's final flush from failing again
        raise typer.Exit(0) from None
