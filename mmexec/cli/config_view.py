"""Effective configuration with origins, for `mmexec config show` and the run commands' ``--show-config``.

The text form is TOML a user can paste into ``mmexec.toml``: numbers as numbers (exact decimals), booleans
``true``/``false``, strings quoted, unset keys commented out, and each value's origin as a trailing comment.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from mmexec.config.base import Loaded, TableSettings, load_settings
from mmexec.config.files import ConfigFile, resolve_config_file
from mmexec.errors import ConfigError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def table_view(loaded: Loaded[Any]) -> dict[str, Any]:
    """``{key: {"value", "origin", "env"}}`` of one loaded table, in field order."""
    cls: type[TableSettings] = type(loaded.settings)
    values = loaded.settings.model_dump()
    return {
        key: {"value": _plain(values[key]), "origin": loaded.origins.get(key, "default"), "env": cls.env_name(key)}
        for key in cls.model_fields
    }


def file_view(config_file: ConfigFile | None) -> dict[str, str] | None:
    return None if config_file is None else {"path": str(config_file.path), "chosen_by": config_file.chosen_by}


def effective_config(
    config: Path | None, tables: dict[str, tuple[str, str]], only: str | None = None
) -> dict[str, Any]:
    if only is not None and only not in tables:
        raise ConfigError(f"unknown table {only!r} (expected one of {', '.join(tables)})", source="--table")
    config_file = resolve_config_file(config)
    out: dict[str, Any] = {"config_file": file_view(config_file), "tables": {}}
    for name, (module, attr) in tables.items():
        if only is not None and name != only:
            continue
        cls: type[TableSettings] = getattr(importlib.import_module(module), attr)
        out["tables"][name] = table_view(load_settings(cls, {}, config_file))
    return out


def toml_value(value: Any) -> str:
    """One TOML value (inline form)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_value(key)


def render_toml(data: Mapping[str, Any]) -> str:
    """The effective configuration as TOML with origins as comments (``None`` values commented out)."""
    source = data["config_file"]
    lines = [
        "# mmexec effective configuration (precedence: flag > env > file > default)",
        f"# config file: {source['path']} (chosen by {source['chosen_by']})" if source else "# config file: none",
    ]
    for name, keys in data["tables"].items():
        lines += ["", f"[{name}]"]
        for key, info in keys.items():
            env = f"env {info['env']}"
            note = f"  # {info['origin']}" if info["origin"] == env else f"  # {info['origin']}; {env}"
            if info["value"] is None:
                lines.append(f"# {key} = (not set){note}")
            else:
                lines.append(f"{key} = {toml_value(info['value'])}{note}")
    return "\n".join(lines) + "\n"
