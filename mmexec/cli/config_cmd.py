"""`mmexec config show`: the effective configuration of every table and where each value came from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmexec.cli.common import new_app

app = new_app(help="Show the effective configuration and value origins.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Inspect the layered configuration (flag > env > TOML > default)."""

# table -> (module, settings class). Imported only when `config show` runs.
TABLES: dict[str, tuple[str, str]] = {
    "shadow": ("mmexec.config.run", "ShadowSettings"),
    "bybit_dryrun": ("mmexec.config.run", "BybitDryrunSettings"),
    "fees": ("mmexec.config.fees", "FeesSettings"),
    "secrets": ("mmexec.config.secrets", "SecretsSettings"),
}


@app.command("show")
def show(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML config file [default: $MMEXEC_CONFIG or ./mmexec.toml]", dir_okay=False),
    ] = None,
    table: Annotated[
        str | None, typer.Option("--table", help="Only this table (shadow, bybit_dryrun, fees, secrets)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Canonical JSON instead of TOML")] = False,
) -> None:
    """Print the effective value of every key of every table as TOML, with its origin (env, file, default).

    The output can be pasted into mmexec.toml. For the values of one command line (with flag origins), use the
    run command's --show-config.
    """
    from mmexec.canonical import dumps
    from mmexec.cli.common import emit
    from mmexec.cli.config_view import effective_config, render_toml

    data = effective_config(config, TABLES, only=table)
    emit(dumps(data) if as_json else render_toml(data).encode("utf-8"))
