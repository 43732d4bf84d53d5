"""The body of the run commands, imported only when a run starts (keeps `--help` fast)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmexec.canonical import dumps
from mmexec.cli.common import emit
from mmexec.config.base import load_settings
from mmexec.config.files import resolve_config_file
from mmexec.config.run import BybitDryrunSettings, RunSettings, ShadowSettings
from mmexec.config.runtime import frozen_utc
from mmexec.fees.fills_io import FillsWriter
from mmexec.fsio import write_atomic
from mmexec.run.builder import run_session, utc_now_iso
from mmexec.run.notices import freeze_notice_line
from mmexec.run.spec import RunSpec

if TYPE_CHECKING:
    from mmexec.engine.ports import RiskNotice

SETTINGS: dict[str, type[RunSettings]] = {"shadow": ShadowSettings, "bybit_dryrun": BybitDryrunSettings}
PROGRESS_MIN_ITERATIONS = 20_000


def load_run_config(table: str, flags: dict[str, Any], config: Path | None) -> tuple[RunSpec, dict[str, str]]:
    """Flags > env > TOML > defaults, validated; errors name the value and its origin."""
    loaded = load_settings(SETTINGS[table], flags, resolve_config_file(config))
    return RunSpec.from_settings(loaded.settings.model_dump()), dict(loaded.origins)


def execute_run(table: str, flags: dict[str, Any], *, config: Path | None, out: Path | None,
                fills_out: Path | None, progress: bool | None, checkpoint_every: int | None = None) -> None:
    run_config, origins = load_run_config(table, flags, config)
    utc = frozen_utc() or utc_now_iso()
    secret_provider = None
    if run_config.venue.exchange == "bybit" and not run_config.venue.network:
        secret_provider = _secret_provider(config)
    show_progress = progress if progress is not None else (
        sys.stderr.isatty() and run_config.market.iterations >= PROGRESS_MIN_ITERATIONS
    )
    if run_config.output.state is not None:
        from mmexec.cli.journal_run import execute_journaled

        execute_journaled(table, run_config, origins, utc=utc, out=out, fills_out=fills_out, progress=show_progress,
                          checkpoint_every=checkpoint_every)
        return
    writer = FillsWriter(fills_out) if fills_out is not None else None
    try:
        with _progress_bar(show_progress, run_config.market.iterations) as on_progress:
            report = run_session(run_config, utc=utc, secret_provider=secret_provider, progress=on_progress,
                                 fill_listeners=[writer.write] if writer else (), config_sources=origins,
                                 risk_listeners=[print_freeze_notice])
        data = dumps(report)
        if out is not None:
            write_atomic(out, data)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    if out is None:
        emit(data)


def print_freeze_notice(notice: RiskNotice) -> None:
    """One line on stderr when the kill switch trips (the engine only notifies; the CLI speaks)."""
    if notice.frozen:
        sys.stderr.write(freeze_notice_line(notice) + "\n")


def _secret_provider(config: Path | None) -> Any:
    try:
        from mmexec.secrets.settings_provider import provider_from_config
    except ImportError:  # pragma: no cover - secrets package not installed in this build
        return None
    return provider_from_config(config)


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress_bar(enabled: bool, total: int) -> Any:
    if not enabled or total <= 0:
        return _NoProgress()
    from mmexec.cli.progress import StderrProgress

    return StderrProgress(total)
