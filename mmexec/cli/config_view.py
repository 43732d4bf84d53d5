"""Effective configuration with origins, for `mmexec config show`."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from mmexec.config.base import TableSettings, load_settings
from mmexec.config.files import resolve_config_file
from mmexec.errors import ConfigError


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def effective_config(
    config: Path | None, tables: dict[str, tuple[str, str]], only: str | None = None
) -> dict[str, Any]:
    if only is not None and only not in tables:
        raise ConfigError(f"unknown table {only!r} (expected one of {', '.join(tables)})", source="--table")
    config_file = resolve_config_file(config)
    out: dict[str, Any] = {
        "config_file": None
        if config_file is None
        else {"path": str(config_file.path), "chosen_by": config_file.chosen_by},
        "tables": {},
    }
    for name, (module, attr) in tables.items():
        if only is not None and name != only:
            continue
        cls: type[TableSettings] = getattr(importlib.import_module(module), attr)
        loaded = load_settings(cls, {}, config_file)
        values = loaded.settings.model_dump()
        out["tables"][name] = {
            key: {"value": _plain(values[key]), "origin": loaded.origins.get(key, "default"), "env": cls.env_name(key)}
            for key in cls.model_fields
        }
    return out


def render_table(data: dict[str, Any]) -> None:
    from rich.table import Table

    from mmexec.cli.common import print_tables

    tables = []
    source = data["config_file"]
    caption = f"config file: {source['path']} (chosen by {source['chosen_by']})" if source else "config file: none"
    for name, keys in data["tables"].items():
        prefix = next(iter(keys.values()))["env"].rsplit("__", 1)[0] + "__<KEY>" if keys else ""
        table = Table(title=f"[{name}]  env: {prefix}", caption=caption, title_justify="left")
        table.add_column("key", no_wrap=True)
        table.add_column("value")
        table.add_column("origin")
        for key, info in keys.items():
            table.add_row(key, "" if info["value"] is None else str(info["value"]), info["origin"])
        tables.append(table)
    print_tables(tables)
