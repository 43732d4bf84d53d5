"""The body of the run commands, imported only when a run starts (keeps `--help` fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmexec.canonical import dumps
from mmexec.cli.run_checks import check_outputs, refuse_foreign_keys, stdout_dash, warn_cannot_trade
from mmexec.cli.run_outputs import (
    JournalOptions,
    print_freeze_notice,
    progress_bar,
    run_outputs,
    show_progress,
    show_run_config,
)
from mmexec.cli.signals import exit_cleanly_on_termination
from mmexec.config.base import Loaded, load_settings
from mmexec.config.files import resolve_config_file
from mmexec.config.run import RUN_TABLES, RunSettings
from mmexec.config.runtime import frozen_utc
from mmexec.errors import ConfigError
from mmexec.run.builder import run_session, utc_now_iso
from mmexec.run.spec import RunSpec


def load_run_settings(table: str, flags: dict[str, Any], config: Path | None) -> Loaded[RunSettings]:
    """Flags > env > TOML > defaults, validated and checked as a whole; errors name the value and its origin."""
    loaded: Loaded[RunSettings] = load_settings(RUN_TABLES[table], flags, resolve_config_file(config))
    refuse_foreign_keys(loaded)
    return loaded


def execute_run(table: str, flags: dict[str, Any], *, config: Path | None, out: Path | None,
                fills_out: Path | None, progress: bool | None, show_config: bool = False,
                html: Path | None = None, journal: JournalOptions | None = None) -> None:
    out, fills_out = stdout_dash(out, fills_out)  # `-` names stdout
    journal = journal or JournalOptions()
    if journal.resume is not None:  # the configuration comes from the journal
        from mmexec.cli.journal_run import execute_resume

        execute_resume(table, flags, journal, config=config, out=out, fills_out=fills_out, progress=progress,
                       show_config=show_config, html=html)
        return
    if journal.force:
        raise ConfigError("--force goes with --resume (it re-emits the report of a complete journal)",
                          source="--force")
    loaded = load_run_settings(table, flags, config)
    frozen = frozen_utc()  # validated before anything runs
    if show_config:
        show_run_config(table, loaded)
        return
    state = loaded.settings.state
    if journal.checkpoint_every is not None and state is None:
        raise ConfigError("--checkpoint-every goes with --state or --resume (a run without a journal has no "
                          "checkpoints)", source="--checkpoint-every")
    check_outputs(out, fills_out, state, html)
    if html is not None:  # the page needs the mmexec[html] extra: refused before the run when it is missing
        from mmexec.reporting.html import require_html_extra

        require_html_extra(source="flag --html")
    warn_cannot_trade(loaded)
    run_config, origins = RunSpec.from_settings(loaded.settings.model_dump()), dict(loaded.origins)
    utc = frozen or utc_now_iso()
    iterations = run_config.market.iterations
    if state is not None and not run_config.market.live:  # a live session journals itself (cli/live_run.py)
        from mmexec.cli.journal_run import execute_journaled

        execute_journaled(table, run_config, origins, utc=utc, out=out, fills_out=fills_out, html=html,
                          progress=show_progress(progress, iterations), checkpoint_every=journal.checkpoint_every)
        return
    if run_config.market.live:
        from mmexec.cli.live_run import execute_live

        execute_live(run_config, origins, utc=utc, out=out, fills_out=fills_out, html=html, command=table,
                     checkpoint_every=journal.checkpoint_every)
        return
    secret_provider = None
    if run_config.venue.exchange == "bybit" and not run_config.venue.network:
        secret_provider = _secret_provider(config)
    # Output targets are opened (temp files created) before the run: a bad --out or --fills-out fails up front.
    # SIGTERM / SIGHUP end the run like Ctrl-C: temp files are deleted, exit 143 / 129.
    with exit_cleanly_on_termination(), run_outputs(out, fills_out, html) as outputs:
        with progress_bar(show_progress(progress, iterations), iterations) as on_progress:
            report = run_session(run_config, utc=utc, secret_provider=secret_provider, progress=on_progress,
                                 fill_listeners=outputs.fill_listeners(), config_sources=origins,
                                 risk_listeners=[print_freeze_notice])
        outputs.commit(dumps(report))


def _secret_provider(config: Path | None) -> Any:
    try:
        from mmexec.secrets.settings_provider import provider_from_config
    except ImportError:  # pragma: no cover - secrets package not installed in this build
        return None
    return provider_from_config(config)
