"""``mmexec secrets save|show|list|delete``: the operator's credential store (output is always masked).

Imports only typer and the stdlib at module level; the provider, pydantic and boto3 load inside commands.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mmexec.cli.common import emit, new_app

if TYPE_CHECKING:
    from mmexec.secrets.credentials import ApiCredentials
    from mmexec.secrets.provider import SecretProvider

app = new_app(
    name="secrets",
    help="Save, show, list and delete exchange API credentials. Output is masked: keys as abc...***, "
    "secrets as ***.",
    no_args_is_help=True,
)

ExchangeOpt = Annotated[str, typer.Option("--exchange", help="Exchange: bybit.", show_default=False)]
EnvOpt = Annotated[str, typer.Option("--env", help="API environment: dev, shadow, soak or prod.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print canonical JSON (values masked).")]

# Options every subcommand shares: where the credentials live. Keys of the [secrets] table.
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="file (default), aws, or env (read-only). [secrets] backend, MMEXEC_SECRETS__BACKEND.",
        show_default=False,
    ),
]
FileOpt = Annotated[
    str | None,
    typer.Option(
        "--file",
        help="Secrets file of the file backend (default $MMEXEC_SECRETS_FILE, else "
        "$XDG_CONFIG_HOME/mmexec/secrets.json). [secrets] file.",
        show_default=False,
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--aws-region",
        help="AWS region of the aws backend (default: AWS_REGION, else AWS_DEFAULT_REGION). "
        "[secrets] aws_region.",
        show_default=False,
    ),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--aws-endpoint-url",
        help="Secrets Manager endpoint URL (tests, VPC endpoints). [secrets] aws_endpoint_url.",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config", help="TOML config file (default: $MMEXEC_CONFIG, else ./mmexec.toml).", show_default=False
    ),
]

_STORE_PARAMS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
    for name, annotation in (
        ("backend", BackendOpt),
        ("file", FileOpt),
        ("aws_region", RegionOpt),
        ("aws_endpoint_url", EndpointOpt),
        ("config", ConfigOpt),
    )
]
StoreFlags = dict[str, str | None]


def _store_options(func: Callable[..., None]) -> Callable[..., None]:
    """Give a command the shared --backend/--file/--aws-region/--aws-endpoint-url/--config options.

    The wrapped function receives them as one ``store`` dict (flag values, ``None`` = not given).
    """
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "store"]
    names = [p.name for p in _STORE_PARAMS]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> None:
        store = {name: kwargs.pop(name, None) for name in names}
        func(*args, store=store, **kwargs)

    command.__signature__ = signature.replace(parameters=[*own, *_STORE_PARAMS])  # type: ignore[attr-defined]
    return command


def _provider(store: StoreFlags) -> SecretProvider:
    from mmexec.secrets.settings_provider import provider_from_config

    flags = dict(store)
    return provider_from_config(flags.pop("config", None), flags)


def _entry(exchange: str, env: str) -> tuple[str, str]:
    from mmexec.secrets.credentials import check_api_env, check_exchange

    return check_exchange(exchange, source="flag --exchange"), check_api_env(env, source="flag --env")


def _stdin_is_terminal() -> bool:
    """Whether an operator can answer a prompt (a function of its own so tests can stand in a terminal)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # no stdin, or a closed one
        return False


def _read_value(given: str | None, what: str, flag: str, label: str) -> str:
    """The flag's value; ``-`` reads one line from stdin; missing means a hidden prompt (on stderr).

    Without a terminal on stdin there is no hidden prompt: input could be echoed where the operator types it
    (``ssh host mmexec ...`` without ``-t``), so the value must come from the flag or from ``-``.
    """
    from mmexec.errors import SecretsError
    from mmexec.secrets.credentials import check_value

    if given is not None and given != "-":
        return check_value(given, what, source=f"flag {flag}")
    terminal = _stdin_is_terminal()
    if given == "-" and not terminal:
        line = sys.stdin.readline()
        if not line:
            raise SecretsError(f"no {what} on stdin (input ended)", source=f"flag {flag} -")
        return check_value(line.rstrip("\r\n"), what, source=f"stdin ({flag} -)")
    if not terminal:
        raise SecretsError(
            f"stdin is not a terminal, so the {what} cannot be asked for with hidden input: "
            f"pass {flag} - to read it from stdin",
            source=f"flag {flag} not given",
        )
    try:
        value: str = typer.prompt(f"{label} (input hidden)", hide_input=True, err=True)
    except typer.Abort:
        raise SecretsError(f"no {what} given (input ended)", source="prompt") from None
    return check_value(value, what, source="prompt")


def _confirm(question: str) -> bool:
    """Ask on stderr, read the answer from stdin (click's confirm writes to stdout, which carries results)."""
    typer.echo(question, err=True, nl=False)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _print_masked(creds: ApiCredentials, json_out: bool, extra: dict[str, str]) -> None:
    from mmexec.canonical import dumps

    record = {**creds.masked(), **extra}
    if json_out:
        emit(dumps(record))
        return
    width = max(len(k) for k in record)
    for key in (*extra, "exchange", "api_env", "api_key", "api_secret", "source"):
        if key in record:
            typer.echo(f"{key.ljust(width)}  {record[key]}")


def _note_env_override(provider: SecretProvider, exchange: str) -> None:
    if exchange in provider.env_overrides():
        from mmexec.secrets.credentials import env_var_names

        key_var, secret_var = env_var_names(exchange)
        typer.echo(f"note: {key_var} and {secret_var} are set and take precedence over stored credentials", err=True)


@app.command("save", context_settings={"allow_extra_args": True})
@_store_options
def save(
    ctx: typer.Context,
    *,
    exchange: ExchangeOpt,
    env: EnvOpt,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help="API key; omit to be prompted (hidden; needs a terminal), '-' reads a line from stdin.",
            show_default=False,
        ),
    ] = None,
    api_secret: Annotated[
        str | None,
        typer.Option(
            "--api-secret",
            help="API secret; omit to be prompted (hidden; needs a terminal), '-' reads a line from stdin.",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
    store: StoreFlags,
) -> None:
    """Save the API key and secret of one exchange and api env; confirms with masked values."""
    from mmexec.errors import SecretsError

    exchange, env = _entry(exchange, env)
    if ctx.args:
        raise SecretsError(
            f"unexpected extra argument(s): {len(ctx.args)} given (not shown: they may be secrets)",
            source="command line",
        )
    provider = _provider(store)
    provider.ensure_writable(exchange)
    if api_secret not in (None, "-"):
        typer.echo(
            "warning: --api-secret on the command line is kept in shell history and visible to other "
            "users (ps); prefer the prompt or '--api-secret -'",
            err=True,
        )
    key = _read_value(api_key, "api key", "--api-key", f"API key for {exchange}/{env}")
    secret = _read_value(api_secret, "api secret", "--api-secret", f"API secret for {exchange}/{env}")
    creds = provider.save(exchange, env, api_key=key, api_secret=secret)
    _print_masked(creds, json_out, {"action": "saved", "backend": provider.backend_name})
    _note_env_override(provider, exchange)


@app.command("show")
@_store_options
def show(exchange: ExchangeOpt, env: EnvOpt, json_out: JsonOpt = False, *, store: StoreFlags) -> None:
    """Show the credentials mmexec would use for one exchange and api env (masked), and their source."""
    exchange, env = _entry(exchange, env)
    provider = _provider(store)
    creds = provider.get_credentials(exchange, env)
    _print_masked(creds, json_out, {"backend": provider.backend_name})


@app.command("list")
@_store_options
def list_(json_out: JsonOpt = False, *, store: StoreFlags) -> None:
    """List stored credentials (masked) and the <EXCHANGE>_API_KEY/_SECRET variables overriding them."""
    from mmexec.canonical import dumps
    from mmexec.secrets.credentials import API_ENVS

    provider = _provider(store)
    entries = []
    for entry in provider.list():
        creds = provider.find(*entry, use_env=False)
        if creds is not None:
            entries.append(creds.masked())
    overrides = []
    for exchange in provider.env_overrides():
        creds = provider.find(exchange, API_ENVS[0])
        if creds is not None:
            overrides.append({**creds.masked(), "api_env": "*"})
    if json_out:
        emit(
            dumps(
                {
                    "backend": provider.backend_name,
                    "location": provider.location(),
                    "entries": entries,
                    "env_overrides": overrides,
                }
            )
        )
        return
    rows = [*entries, *overrides]
    if not rows:
        typer.echo(f"no credentials stored ({provider.location()})")
        return
    header = {
        "exchange": "EXCHANGE",
        "api_env": "ENV",
        "api_key": "API_KEY",
        "api_secret": "API_SECRET",
        "source": "SOURCE",
    }
    columns = list(header)
    widths = {c: max(len(r[c]) for r in [header, *rows]) for c in columns}
    for row in [header, *rows]:
        typer.echo("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())


@app.command("delete")
@_store_options
def delete(
    exchange: ExchangeOpt,
    env: EnvOpt,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Delete without asking (required when stdin is not a terminal).")
    ] = False,
    json_out: JsonOpt = False,
    *,
    store: StoreFlags,
) -> None:
    """Delete the stored credentials of one exchange and api env (exit 1 when there were none).

    Asks for confirmation on a terminal; without one, --yes is required (exit 2 otherwise).
    """
    from mmexec.canonical import dumps
    from mmexec.errors import SecretsError

    exchange, env = _entry(exchange, env)
    if not yes and not _stdin_is_terminal():
        raise SecretsError(
            "refusing to delete without confirmation: stdin is not a terminal to ask on; pass --yes to delete",
            source="flag --yes not given",
        )
    provider = _provider(store)
    provider.ensure_writable(exchange)
    where = provider.location()
    if not yes and not _confirm(f"Delete the credentials of {exchange}/{env} from {where}? [y/N]: "):
        typer.echo("not deleted", err=True)
        raise typer.Exit(1)
    deleted = provider.delete(exchange, env)
    if json_out:
        emit(
            dumps(
                {
                    "action": "deleted" if deleted else "not_found",
                    "exchange": exchange,
                    "api_env": env,
                    "backend": provider.backend_name,
                    "location": where,
                }
            )
        )
    elif deleted:
        suffix = " (recoverable for 7 days; saving it again restores it)" if provider.backend_name == "aws" else ""
        typer.echo(f"deleted {exchange}/{env} from {where}{suffix}")
    else:
        typer.echo(f"nothing to delete: no credentials for {exchange}/{env} in {where}")
    _note_env_override(provider, exchange)
    if not deleted:
        raise typer.Exit(1)
