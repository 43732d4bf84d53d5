"""Checks of a run's settings as a whole, made before the run starts (each field is already valid on its own)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import typer

from mmexec.config.base import Loaded
from mmexec.config.run import RunSettings
from mmexec.errors import ConfigError


def refuse_foreign_keys(loaded: Loaded[RunSettings]) -> None:
    """A key given for the other exchange (``--api-env`` on the fake exchange...) is an error, never ignored."""
    settings, origins = loaded.settings, loaded.origins
    given = [key for key, origin in origins.items() if origin != "default"]
    for key in settings.foreign_keys(given):
        other = "bybit" if settings.exchange == "fake" else "fake"
        raise ConfigError(
            f"{key} applies to the {other} exchange only, and this run uses the {settings.exchange} exchange",
            source=origins[key],
        )


STDOUT_ARG = Path("-")


def stdout_dash(out: Path | None, fills_out: Path | None) -> tuple[Path | None, Path | None]:
    """``-`` names stdout: ``--out -`` is the default (the report on stdout), ``--fills-out -`` writes the fills
    there, which needs the report in a file (``--out FILE``) so the two never mix."""
    if out == STDOUT_ARG:
        out = None
    if fills_out == STDOUT_ARG:
        if out is None:
            raise ConfigError("--fills-out - and the report would both go to stdout; give --out FILE for the report",
                              source="flags --out, --fills-out")
        fills_out = Path("/dev/stdout")
    return out, fills_out


def check_outputs(out: Path | None, fills_out: Path | None) -> None:
    """``--out`` and ``--fills-out`` must be two files (also through symlinks and relative paths).

    Devices and FIFOs (``/dev/null`` for both) may be shared: they are written in place, nothing is lost.
    """
    if out is None or fills_out is None:
        return
    same = os.path.realpath(out) == os.path.realpath(fills_out)
    if not same and out.exists() and fills_out.exists():
        same = os.path.samefile(out, fills_out)
    if same and out.exists() and not stat.S_ISREG(os.stat(out).st_mode):
        return
    if same:
        raise ConfigError(f"--out and --fills-out name the same file {str(out)!r}", source="flags --out, --fills-out")


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def warn_cannot_trade(loaded: Loaded[RunSettings]) -> None:
    """One warning line each for a run that can never trade and for a reference price nobody uses."""
    settings, origins = loaded.settings, loaded.origins
    for limit in ("max_inv", "max_total"):
        value = getattr(settings, limit)
        if settings.order_notional > value:
            warn(
                f"order_notional {settings.order_notional} USD is above {limit} {value} USD: the risk limit blocks "
                f"every order, nothing can trade ({origins['order_notional']}; {origins[limit]})"
            )
            break
    unused = [symbol for symbol in settings.ref_price if symbol not in settings.symbols]
    if unused:
        warn(
            f"ref_price given for {', '.join(unused)}, which is not traded (symbols: {','.join(settings.symbols)}) "
            f"({origins['ref_price']})"
        )
