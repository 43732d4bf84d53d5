"""Structured logs: one JSON object per line on stderr (never stdout), through stdlib :mod:`logging`.

Every mmexec logger lives under ``mmexec``; until :func:`configure_logging` is called (the run commands do,
from ``--log-level``) they are silent. Callers log events with :func:`log_event` and pass only masked
credentials (:func:`mmexec.secrets.credentials.mask_secret`); this module never sees a raw secret.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from mmexec.errors import ConfigError

ROOT_LOGGER = "mmexec"
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
DEFAULT_LEVEL = "warning"
_FIELDS = "mmexec_fields"

logging.getLogger(ROOT_LOGGER).addHandler(logging.NullHandler())


class JsonLineFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "event", ...fields}`` as one compact, key-sorted JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, _FIELDS, None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        return json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class StderrJsonHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.setFormatter(JsonLineFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # pragma: no cover - a broken stderr must not stop a run
            self.handleError(record)


def parse_level(level: str | None, *, source: str = "--log-level") -> int:
    """The logging level of ``debug``/``info``/``warning``/``error`` (any case); ``None`` is the default."""
    name = (level or DEFAULT_LEVEL).strip().lower()
    if name not in LEVELS:
        raise ConfigError(f"invalid log level {level!r}: expected one of {', '.join(LEVELS)}", source=source)
    return LEVELS[name]


def configure_logging(level: str | None, *, source: str = "--log-level") -> None:
    """Send ``mmexec.*`` logs at ``level`` and above to stderr as JSON lines (replacing earlier setup)."""
    numeric = parse_level(level, source=source)
    root = logging.getLogger(ROOT_LOGGER)
    for handler in list(root.handlers):
        if isinstance(handler, StderrJsonHandler):
            root.removeHandler(handler)
    root.addHandler(StderrJsonHandler())
    root.setLevel(numeric)
    root.propagate = False


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log ``event`` with structured ``fields`` (values must already be masked where sensitive)."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={_FIELDS: fields})
