"""The body of the run commands, imported only when a run starts (keeps `--help` fast)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmexec.artifacts import ArtifactWriter
from mmexec.canonical import dumps
from mmexec.cli.common import emit
from mmexec.cli.run_checks import check_outputs, refuse_foreign_keys, stdout_dash, warn_cannot_trade
from mmexec.cli.signals import exit_cleanly_on_termination
from mmexec.config.base import Loaded, load_settings
from mmexec.config.files import resolve_config_file
from mmexec.config.run import RUN_TABLES, RunSettings
from mmexec.config.runtime import frozen_utc
from mmexec.fees.fills_io import FillsWriter
from mmexec.run.builder import run_session, utc_now_iso
from mmexec.run.notices import freeze_notice_line
from mmexec.run.spec import RunSpec

if TYPE_CHECKING:
    from mmexec.engine.ports import RiskNotice

PROGRESS_MIN_ITERATIONS = 20_000


def load_run_settings(table: str, flags: dict[str, Any], config: Path | None) -> Loaded[RunSettings]:
    """Flags > env > TOML > defaults, validated and checked as a whole; errors name the value and its origin."""
    loaded: Loaded[RunSettings] = load_settings(RUN_TABLES[table], flags, resolve_config_file(config))
    refuse_foreign_keys(loaded)
    return loaded


def execute_run(table: str, flags: dict[str, Any], *, config: Path | None, out: Path | None,
                fills_out: Path | None, progress: bool | None, show_config: bool = False) -> None:
    loaded = load_run_settings(table, flags, config)
    frozen = frozen_utc()  # validated before anything runs
    if show_config:
        from mmexec.cli.config_view import file_view, render_toml, table_view

        emit(render_toml({"config_file": file_view(loaded.config_file), "tables": {table: table_view(loaded)}})
             .encode("utf-8"))
        return
    out, fills_out = stdout_dash(out, fills_out)
    check_outputs(out, fills_out)
    warn_cannot_trade(loaded)
    run_config, origins = RunSpec.from_settings(loaded.settings.model_dump()), dict(loaded.origins)
    utc = frozen or utc_now_iso()
    secret_provider = None
    if run_config.venue.exchange == "bybit" and not run_config.venue.network:
        secret_provider = _secret_provider(config)
    show_progress = progress if progress is not None else (
        sys.stderr.isatty() and run_config.market.iterations >= PROGRESS_MIN_ITERATIONS
    )
    # Output targets are opened (temp files created) before the run: a bad --out or --fills-out fails up front.
    # SIGTERM / SIGHUP end the run like Ctrl-C: temp files are deleted, exit 143 / 129.
    with exit_cleanly_on_termination():
        report_out: ArtifactWriter | None = None
        writer: FillsWriter | None = None
        try:
            report_out = ArtifactWriter(out, what="report file") if out is not None else None
            writer = FillsWriter(fills_out) if fills_out is not None else None
            with _progress_bar(show_progress, run_config.market.iterations) as on_progress:
                report = run_session(run_config, utc=utc, secret_provider=secret_provider, progress=on_progress,
                                     fill_listeners=[writer.write] if writer else (), config_sources=origins,
                                     risk_listeners=[print_freeze_notice])
            data = dumps(report)
            if writer is not None:
                writer.close()
            if report_out is not None:
                report_out.write(data)
                report_out.commit()
        except BaseException:
            if writer is not None:
                writer.abort()
            if report_out is not None:
                report_out.abort()
            raise
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
    from mmexec.cli.progress import PlainProgress, StderrProgress

    return StderrProgress(total) if sys.stderr.isatty() else PlainProgress(total)
