"""The body of the run commands, imported only when a run starts (keeps `--help` fast)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mmexec.canonical import dumps, loads
from mmexec.cli.common import emit
from mmexec.config.base import load_settings
from mmexec.config.files import resolve_config_file
from mmexec.config.run import BybitDryrunSettings, RunSettings, ShadowSettings
from mmexec.config.runtime import frozen_utc
from mmexec.engine.report import utc_now_iso
from mmexec.fees.fills_io import FillsWriter
from mmexec.fsio import write_atomic
from mmexec.session import RunConfig, run_session

SETTINGS: dict[str, type[RunSettings]] = {"shadow": ShadowSettings, "bybit_dryrun": BybitDryrunSettings}
PROGRESS_MIN_ITERATIONS = 20_000


def load_run_config(table: str, flags: dict[str, Any], config: Path | None) -> tuple[RunConfig, dict[str, str]]:
    """Flags > env > TOML > defaults, validated; errors name the value and its origin."""
    loaded = load_settings(SETTINGS[table], flags, resolve_config_file(config))
    return RunConfig.from_mapping(loaded.settings.model_dump()), dict(loaded.origins)


def execute_run(table: str, flags: dict[str, Any], *, config: Path | None, out: Path | None,
                fills_out: Path | None, progress: bool | None, html: Path | None = None) -> None:
    run_config, origins = load_run_config(table, flags, config)
    if html is not None:  # timeline / HTML (#13): refuse before the run when the extra is missing
        from mmexec.reporting.html import check_output_path, require_html_extra

        require_html_extra(source="flag --html")
        check_output_path(html, source="flag --html")
    utc = frozen_utc() or utc_now_iso()
    secret_provider = None
    if run_config.exchange == "bybit" and not run_config.network:
        secret_provider = _secret_provider(config)
    show_progress = progress if progress is not None else (
        sys.stderr.isatty() and run_config.iterations >= PROGRESS_MIN_ITERATIONS
    )
    writer = FillsWriter(fills_out) if fills_out is not None else None
    try:
        with _progress_bar(show_progress, run_config.iterations) as on_progress:
            report = run_session(run_config, utc=utc, secret_provider=secret_provider, progress=on_progress,
                                 fill_listeners=[writer.write] if writer else (), config_sources=origins)
        data = dumps(report)
        if html is not None:  # timeline / HTML (#13)
            from mmexec.reporting.html import write_html_report

            write_html_report(html, [(str(out or "stdout"), loads(data))])
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
