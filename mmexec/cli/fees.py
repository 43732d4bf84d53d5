"""``mmexec fees``: the VIP fee tiers, the effective fee configuration, and fee reports over a fills file.

- ``mmexec fees --tier VIP2`` / ``--all`` / ``--profiles FILE``: the schedules (a table, or ``--json``).
- ``mmexec fees --fills FILE [--tier T | --profiles F] [--fee-maker-bps X ...]``: fees and rebates of the
  fills, per symbol and in total -- the ``--json`` output is exactly a run report's ``fees`` section.

Imports only typer and the stdlib at module level; rich, pydantic and the fee engine load inside the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mmexec.cli.common import emit, new_app, print_tables

if TYPE_CHECKING:
    from decimal import Decimal

    from rich.table import Table

    from mmexec.fees.calc import FeeReport, FeeTotals
    from mmexec.fees.resolve import FeeConfig
    from mmexec.fees.schedule import FeeSchedule

app = new_app(
    name="fees",
    help="Show VIP fee tiers and fee profiles, or price a fills file (JSON Lines) under a tier or profiles.",
)

_BPS_FLAGS = {
    "fee_maker_bps": "--fee-maker-bps",
    "fee_taker_bps": "--fee-taker-bps",
    "rebate_maker_bps": "--rebate-maker-bps",
}


@app.command(
    epilog="Without --fills: the schedules in effect. Precedence: flag > MMEXEC_FEES__* > [fees] in the "
    "config file > default (fallback VIP0 for every symbol)."
)
def fees(
    *,
    tier: Annotated[
        str | None,
        typer.Option("--tier", help="VIP tier for every symbol: VIP0, VIP1, VIP2, VIP3, MM_Tier_A.",
                     show_default=False),
    ] = None,
    all_tiers: Annotated[bool, typer.Option("--all", help="List every VIP tier.")] = False,
    profiles: Annotated[
        str | None,
        typer.Option("--profiles", help="Per-symbol fee profiles file (.json or .toml).", show_default=False),
    ] = None,
    fills: Annotated[
        str | None,
        typer.Option("--fills", help="Fills file (JSON Lines, as written by --fills-out; - for stdin): "
                     "print its fees and rebates.", show_default=False),
    ] = None,
    fee_maker_bps: Annotated[
        str | None,
        typer.Option("--fee-maker-bps", help="Maker fee of the fallback schedule, bps.", show_default=False),
    ] = None,
    fee_taker_bps: Annotated[
        str | None,
        typer.Option("--fee-taker-bps", help="Taker fee of the fallback schedule, bps.", show_default=False),
    ] = None,
    rebate_maker_bps: Annotated[
        str | None,
        typer.Option(
            "--rebate-maker-bps", help="Maker rebate of the fallback schedule, bps.", show_default=False
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print canonical JSON, not a table.")] = False,
    limit: Annotated[
        int,
        typer.Option("--limit", min=0, metavar="N",
                     help="Symbol rows of the --fills table, 0 = all (--json lists all)."),
    ] = 200,
    config: Annotated[
        str | None,
        typer.Option("--config", help="TOML config file (default: $MMEXEC_CONFIG, else ./mmexec.toml).",
                     show_default=False),
    ] = None,
) -> None:
    """Show fee tiers and profiles, or the fees and rebates of a fills file."""
    from mmexec.canonical import dumps
    from mmexec.errors import ConfigError

    if all_tiers:
        given = [flag for flag, value in (("--tier", tier), ("--profiles", profiles), ("--fills", fills))
                 if value is not None]
        if given:
            raise ConfigError(f"--all lists every tier; it excludes {given[0]}", source="flag --all")
        if json_out:
            emit(dumps(_tiers_dict()))
        else:
            _print_table(_tiers_table())
        return

    flags = {
        "tier": tier,
        "profiles": profiles,
        "fee_maker_bps": fee_maker_bps,
        "fee_taker_bps": fee_taker_bps,
        "rebate_maker_bps": rebate_maker_bps,
    }
    fee_config = _resolve(flags, config)
    if fills is None:
        if json_out:
            emit(dumps(fee_config.description))
        else:
            _print_table(_config_table(fee_config))
        return

    report = _price_fills(fills, fee_config)
    if json_out:
        emit(dumps(report.to_dict()))
    else:
        _print_table(_report_table(report, limit))


def _resolve(flags: dict[str, str | None], config: str | None) -> FeeConfig:
    """[fees] settings (flags > env > file) through the same resolver the run commands use."""
    from mmexec.config.base import load_settings
    from mmexec.config.fees import FeesSettings
    from mmexec.config.files import resolve_config_file
    from mmexec.fees.resolve import resolve_fee_config

    loaded = load_settings(FeesSettings, flags, resolve_config_file(config))
    s, origins = loaded.settings, loaded.origins
    return resolve_fee_config(
        s.tier,
        s.profiles,
        s.fee_maker_bps,
        s.fee_taker_bps,
        s.rebate_maker_bps,
        sources={
            "fee_tier": origins["tier"],
            "fee_profiles": origins["profiles"],
            **{key: origins[key] for key in _BPS_FLAGS},
        },
    )


def _price_fills(path: str, fee_config: FeeConfig) -> FeeReport:
    from mmexec.fees.calc import calc_fees_and_rebates
    from mmexec.fees.fills_io import read_fills

    fills = read_fills(path)
    return calc_fees_and_rebates(
        fills, fee_config.fee_schedule, fee_config.profile_map, tier=fee_config.tier, setup=fee_config.description
    )


# ---- rendering ------------------------------------------------------------------------------------------


def _tiers_dict() -> dict[str, Any]:
    from mmexec.fees.profiles import TIER_USE_CASES, TIERS

    return {"tiers": {name: {**s.to_dict(), "use_case": TIER_USE_CASES[name]} for name, s in TIERS.items()}}


def _amount(value: Decimal) -> str:
    """Exact plain notation without trailing zeros: ``Decimal('0.02500')`` -> ``'0.025'``."""
    from mmexec.fees.calc import FEE_CONTEXT

    return "0" if value == 0 else format(FEE_CONTEXT.normalize(value), "f")


def _bps(value: Decimal) -> str:
    return str(value)


def _new_table(*columns: str, numeric_from: int = 1) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, title in enumerate(columns):
        table.add_column(title, justify="right" if i >= numeric_from else "left", no_wrap=True)
    return table


def _schedule_row(schedule: FeeSchedule) -> list[str]:
    return [schedule.name or "custom", _bps(schedule.maker_bps), _bps(schedule.taker_bps),
            _bps(schedule.maker_rebate_bps)]


def _tiers_table() -> Table:
    from mmexec.fees.profiles import TIER_USE_CASES, TIERS

    table = _new_table("Tier", "Maker bps", "Taker bps", "Rebate bps", "Use case")
    table.columns[-1].justify = "left"
    for name, schedule in TIERS.items():
        table.add_row(*_schedule_row(schedule), TIER_USE_CASES[name])
    return table


def _config_table(fee_config: FeeConfig) -> Table:
    from mmexec.fees.profiles import WILDCARD

    table = _new_table("Symbol", "Schedule", "Maker bps", "Taker bps", "Rebate bps", numeric_from=2)
    profile_map = fee_config.profile_map
    for key in sorted(k for k in profile_map if k != WILDCARD):
        table.add_row(key, *_schedule_row(profile_map[key]))
    if WILDCARD in profile_map:
        table.add_row("* (all others)", *_schedule_row(profile_map[WILDCARD]))
    else:
        table.add_row("(fallback)", *_schedule_row(fee_config.fee_schedule))
    return table


def _report_table(report: FeeReport, limit: int = 0) -> Table:
    """Symbols in the report's order, the first ``limit`` of them (0 = all), then the total."""
    from itertools import islice

    table = _new_table(
        "Symbol", "Schedule", "Fills", "Maker notional", "Taker notional", "Maker fees", "Taker fees",
        "Rebates", "Net cost", numeric_from=2,
    )
    count = len(report.by_symbol)
    shown = count if limit == 0 else min(limit, count)
    for sym, entry in islice(report.by_symbol.items(), shown):
        schedule = f"{entry.schedule.name or 'custom'} ({entry.source.value})"
        table.add_row(sym, schedule, *_totals_cells(entry.totals))
    if shown < count:
        table.caption = f"… and {count - shown} more symbols (--limit 0 shows all, --json lists all)"
        table.caption_justify = "left"
    table.add_section()
    table.add_row("TOTAL", report.tier or "", *_totals_cells(report.total))
    return table


def _totals_cells(t: FeeTotals) -> list[str]:
    amounts = (t.maker_notional, t.taker_notional, t.maker_fees, t.taker_fees, t.maker_rebates, t.net_cost)
    return [str(t.fills), *(_amount(a) for a in amounts)]


def _print_table(table: Table) -> None:
    """Colour only on a terminal; otherwise plain text, never wrapped (see :func:`print_tables`)."""
    print_tables([table])
