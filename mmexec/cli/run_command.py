"""The run commands (`shadow`, `bybit-dryrun`): one option set, one implementation, two config tables.

The options are generated from the settings model (:class:`mmexec.config.run.RunSettings`): its fields declare
each key's default, help text, ``--help`` panel and metavar, so a new run key is a new field there and nothing
here. Every generated option defaults to ``None`` ("not given") so that env vars and the TOML table can fill it;
values are passed to the settings model as text and validated there, so errors name the flag, variable or file.
Only the output, diagnostics and journal-action options below are flag-only (not settings keys).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from mmexec.cli.common import new_app
from mmexec.config.run import OUTPUT, RUN_TABLES, STATE, RunSettings

_FLAG_ONLY_BOOLEANS = frozenset({"show_config", "force"})


def _flag_only_options() -> dict[str, Any]:
    """Output and diagnostics options: command-line only, never a TOML key or an environment variable."""

    def path_opt(flag: str, help: str, shown: str = "") -> Any:
        help = f"{help} \\[default: {shown}]" if shown else help
        return Annotated[Path | None, typer.Option(flag, help=help, rich_help_panel=OUTPUT, show_default=False,
                                                   dir_okay=False, metavar="FILE")]

    return {
        "out": path_opt("--out", "Write the report to this file (atomically) instead of stdout", "stdout"),
        "fills_out": path_opt("--fills-out", "Also write the run's fills (JSON Lines) for `mmexec fees --fills`"),
        "html": path_opt("--html", "Also write the report as a self-contained HTML page (needs mmexec\\[html])"),
        "config": path_opt("--config", "TOML config file", "$MMEXEC_CONFIG or ./mmexec.toml"),
        "progress": Annotated[bool | None, typer.Option(
            "--progress/--no-progress", rich_help_panel=OUTPUT, show_default=False,
            help="Progress on stderr (a bar on a terminal, plain lines otherwise) "
                 "\\[default: on a terminal for runs of 20,000+ iterations]")],
        "log_level": Annotated[str | None, typer.Option(
            "--log-level", rich_help_panel=OUTPUT, show_default=False, metavar="LEVEL",
            help="JSON log lines on stderr from this level: debug, info, warning, error \\[default: warning]")],
        "show_config": Annotated[bool, typer.Option(
            "--show-config", rich_help_panel=OUTPUT, show_default=False,
            help="Print the effective configuration of this command line with each value's origin, and exit")],
        # The journal's actions: which journal to continue is not a setting, nor is how often to checkpoint
        # (a resumed run may checkpoint at another interval and still end in the same bytes).
        "resume": Annotated[Path | None, typer.Option(
            "--resume", rich_help_panel=STATE, show_default=False, dir_okay=False, metavar="FILE",
            help="Continue the interrupted run journaled in this file (its configuration comes from the journal)")],
        "force": Annotated[bool, typer.Option(
            "--force", rich_help_panel=STATE, show_default=False,
            help="With --resume of a complete run: write its stored report (and fills) again")],
        "checkpoint_every": Annotated[int | None, typer.Option(
            "--checkpoint-every", rich_help_panel=STATE, show_default=False, min=1, max=1_000_000_000,
            metavar="STEPS",
            help="Steps between checkpoints of the journal (a crash recomputes at most this many) "
                 "\\[default: 25000]")],
    }


def _setting_option(cls: type[RunSettings], name: str) -> Any:
    """The Typer option of one settings field, from the field's own declaration."""
    info = cls.model_fields[name]
    extra: dict[str, Any] = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    shown = extra.get("shown")
    if shown is None:
        default = info.get_default(call_default_factory=True)
        shown = ",".join(default) if isinstance(default, list) else str(default)
    # The default goes into the help text: the option's own default is None ("not given", so env and file apply).
    help = f"{info.description} \\[default: {shown}]" if shown else info.description
    common: dict[str, Any] = {"help": help, "rich_help_panel": extra.get("panel"), "show_default": False}
    if info.annotation is bool:
        return Annotated[bool | None, typer.Option(extra.get("flag", cls.flag_name(name)), **common)]
    if extra.get("multiple"):
        return Annotated[list[str] | None, typer.Option(cls.flag_name(name), metavar=extra["metavar"], **common)]
    return Annotated[str | None, typer.Option(cls.flag_name(name), metavar=extra["metavar"], **common)]


def build_run_app(table: str, command: str, summary: str) -> typer.Typer:
    """A Typer app with the run command for settings table ``table`` (``shadow`` or ``bybit_dryrun``)."""
    cls = RUN_TABLES[table]
    app = new_app(help=summary, rich_markup_mode="rich")  # rich help: options grouped in panels by topic
    annotations = {name: _setting_option(cls, name) for name in cls.model_fields}
    flag_only = _flag_only_options()
    annotations.update(flag_only)

    def run(**params: Any) -> None:
        flags = {k: v for k, v in params.items() if k in cls.model_fields}
        for name, value in flags.items():
            if value == []:  # a repeatable option not given
                flags[name] = None
        from mmexec.cli.run_impl import execute_run
        from mmexec.cli.run_outputs import JournalOptions
        from mmexec.logs import configure_logging

        configure_logging(params["log_level"])
        journal = JournalOptions(params["resume"], params["force"], params["checkpoint_every"])
        execute_run(table, flags, config=params["config"], out=params["out"], fills_out=params["fills_out"],
                    progress=params["progress"], show_config=params["show_config"], html=params["html"], journal=journal)

    run.__annotations__ = dict(annotations)
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                           default=False if name in _FLAG_ONLY_BOOLEANS else None)
         for name, annotation in annotations.items()]
    )
    app.command(name=command, help=summary)(run)
    return app
