"""Checks of a run's settings as a whole, made before the run starts (each field is already valid on its own)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import typer

from mmexec.config.base import Loaded
from mmexec.config.run import FILES_ONLY, LIVE_ONLY, RunSettings
from mmexec.errors import ConfigError


def refuse_foreign_keys(loaded: Loaded[RunSettings]) -> None:
    """A key given for the other exchange (``--api-env`` on the fake exchange...) or the other market (``--data``
    on the synthetic market, ``--seed`` on a replay) is an error, never ignored."""
    settings, origins = loaded.settings, loaded.origins
    given = [key for key, origin in origins.items() if origin != "default"]
    for key in settings.foreign_keys(given):
        other = "bybit" if settings.exchange == "fake" else "fake"
        raise ConfigError(
            f"{key} applies to the {other} exchange only, and this run uses the {settings.exchange} exchange",
            source=origins[key],
        )
    for key in settings.foreign_market_keys(given):
        if key in LIVE_ONLY:
            raise ConfigError(f"{key} applies to the live market only: add --market bybit-live", source=origins[key])
        if settings.market == "bybit-live" and key in FILES_ONLY:
            raise ConfigError(f"{key} does not apply to the live market: it reads Bybit's WebSocket (--ws-url)",
                              source=origins[key])
        if settings.market == "bybit-live":
            raise ConfigError(f"{key} does not apply to the live market, which trades like a replay of its "
                              "recording (queue venue, queue fill model)", source=origins[key])
        if settings.market == "replay":
            why = ("replay matches orders on its own queue venue, by the queue fill model"
                   if key in ("exchange", "fill_model") else "replay reads its market from --data")
            raise ConfigError(f"{key} does not apply to a replay of recorded market data: {why}",
                              source=origins[key])
        raise ConfigError(f"{key} needs recorded market data: add --market replay --data FILE", source=origins[key])


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


def check_outputs(out: Path | None, fills_out: Path | None, state: Path | None = None,
                  html: Path | None = None) -> None:
    """``--out``, ``--fills-out``, ``--html`` and the journal (``--state`` / ``--resume``) must be different files
    (also through symlinks and relative paths).

    Devices and FIFOs (``/dev/null`` for several outputs) may be shared: they are written in place, nothing is lost.
    """
    named = [(flag, path) for flag, path in (("--out", out), ("--fills-out", fills_out), ("--html", html),
                                             ("--state", state)) if path is not None]
    for i, (flag_a, a) in enumerate(named):
        for flag_b, b in named[i + 1:]:
            if _same_file(a, b):
                raise ConfigError(f"{flag_a} and {flag_b} name the same file {str(a)!r}",
                                  source=f"flags {flag_a}, {flag_b}")


def _same_file(a: Path, b: Path) -> bool:
    same = os.path.realpath(a) == os.path.realpath(b)
    if not same and a.exists() and b.exists():
        same = os.path.samefile(a, b)
    return same and not (a.exists() and not stat.S_ISREG(os.stat(a).st_mode))


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
