"""SecretProvider: the interface other modules use, the lookup order, the memory and env backends, settings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mmexec.errors import ConfigError, SecretsError
from mmexec.secrets.provider import ApiCredentials, SecretProvider


def test_memory_backend_round_trip_list_and_delete() -> None:
    p = SecretProvider(backend="memory")
    assert p.list() == []
    stored = p.save("bybit", "shadow", api_key="K_shadow", api_secret="S_shadow")
    p.save("bybit", "dev", api_key="K_dev", api_secret="S_dev")
    assert isinstance(stored, ApiCredentials)
    creds = p.get_credentials("bybit", "shadow")
    assert (creds.api_key, creds.reveal_secret()) == ("K_shadow", "S_shadow")
    assert (creds.exchange, creds.api_env, creds.source) == ("bybit", "shadow", "memory backend")
    assert p.list() == [("bybit", "dev"), ("bybit", "shadow")]
    assert p.delete("bybit", "dev") is True
    assert p.delete("bybit", "dev") is False
    assert p.list() == [("bybit", "shadow")]


def test_saving_again_replaces_the_entry() -> None:
    p = SecretProvider(backend="memory")
    p.save("bybit", "prod", api_key="old_key", api_secret="old_secret")
    p.save("bybit", "prod", api_key="new_key", api_secret="new_secret")
    assert p.get_credentials("bybit", "prod").reveal_secret() == "new_secret"
    assert p.list() == [("bybit", "prod")]


def test_memory_providers_do_not_share_state() -> None:
    SecretProvider(backend="memory").save("bybit", "dev", api_key="k1234", api_secret="s1234")
    assert SecretProvider(backend="memory").find("bybit", "dev") is None


def test_missing_credentials_name_the_env_vars_and_the_save_command() -> None:
    p = SecretProvider(backend="memory")
    with pytest.raises(SecretsError) as err:
        p.get_credentials("bybit", "dev")
    message = str(err.value)
    assert "BYBIT_API_KEY" in message
    assert "BYBIT_API_SECRET" in message
    assert "mmexec secrets save --exchange bybit --env dev" in message
    assert err.value.exit_code == 2


def test_half_set_env_vars_are_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYBIT_API_KEY", "test_key")
    with pytest.raises(SecretsError, match="BYBIT_API_KEY is set but BYBIT_API_SECRET is not"):
        SecretProvider(backend="memory").get_credentials("bybit", "dev")


def test_quick_start_env_vars_work_with_the_memory_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYBIT_API_KEY", "test_key")
    monkeypatch.setenv("BYBIT_API_SECRET", "test_secret")
    creds = SecretProvider(backend="memory").get_credentials("bybit", "dev")
    assert creds.api_key == "test_key"
    assert creds.masked_api_key == "tes...***"
    assert creds.reveal_secret() == "test_secret"
    assert creds.source == "env BYBIT_API_KEY, BYBIT_API_SECRET"
    assert "test_secret" not in repr(creds)


def test_env_vars_win_over_the_backend_for_every_api_env(monkeypatch: pytest.MonkeyPatch) -> None:
    p = SecretProvider(backend="memory")
    p.save("bybit", "soak", api_key="stored_key", api_secret="stored_secret")
    monkeypatch.setenv("BYBIT_API_KEY", "env_key")
    monkeypatch.setenv("BYBIT_API_SECRET", "env_secret")
    for api_env in ("dev", "shadow", "soak", "prod"):
        assert p.get_credentials("bybit", api_env).api_key == "env_key"
    assert p.find("bybit", "soak", use_env=False).api_key == "stored_key"  # type: ignore[union-attr]
    assert SecretProvider(backend="memory", env_override=False).find("bybit", "dev") is None
    assert p.env_overrides() == ["bybit"]


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_env_vars_count_as_unset(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    p = SecretProvider(backend="memory")
    p.save("bybit", "dev", api_key="stored_key", api_secret="stored_secret")
    monkeypatch.setenv("BYBIT_API_KEY", blank)
    monkeypatch.setenv("BYBIT_API_SECRET", "env_secret")
    assert p.get_credentials("bybit", "dev").api_key == "stored_key"


def test_an_explicit_environ_mapping_replaces_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYBIT_API_KEY", "os_key")
    monkeypatch.setenv("BYBIT_API_SECRET", "os_secret")
    p = SecretProvider(backend="env", environ={"BYBIT_API_KEY": "map_key", "BYBIT_API_SECRET": "map_secret"})
    assert p.get_credentials("bybit", "prod").api_key == "map_key"


def test_env_backend_reads_and_lists_but_is_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    p = SecretProvider(backend="env")
    assert p.list() == []
    monkeypatch.setenv("BYBIT_API_KEY", "env_key")
    monkeypatch.setenv("BYBIT_API_SECRET", "env_secret")
    assert p.list() == [("bybit", "dev"), ("bybit", "shadow"), ("bybit", "soak"), ("bybit", "prod")]
    assert p.find("bybit", "shadow", use_env=False).reveal_secret() == "env_secret"  # type: ignore[union-attr]
    with pytest.raises(SecretsError, match="read-only: set BYBIT_API_KEY and BYBIT_API_SECRET"):
        p.save("bybit", "dev", api_key="k1234", api_secret="s1234")
    with pytest.raises(SecretsError, match="read-only"):
        p.delete("bybit", "dev")
    with pytest.raises(SecretsError, match="read-only"):
        p.ensure_writable("bybit")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p: p.save("binance", "dev", api_key="k", api_secret="s"), "unknown exchange 'binance'"),
        (lambda p: p.save("bybit", "live", api_key="k", api_secret="s"), "unknown api env 'live'"),
        (lambda p: p.save("bybit", "dev", api_key="", api_secret="s"), "api key is empty"),
        (lambda p: p.save("bybit", "dev", api_key="k", api_secret=" "), "api secret is empty"),
        (lambda p: p.get_credentials("kraken", "dev"), "unknown exchange"),
        (lambda p: p.delete("bybit", "staging"), "unknown api env"),
        (lambda p: p.find("bybit", ""), "unknown api env"),
    ],
)
def test_bad_input_is_a_secrets_error(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SecretsError, match=match):
        call(SecretProvider(backend="memory"))


def test_unknown_backend_is_a_secrets_error() -> None:
    with pytest.raises(SecretsError, match=r"unknown secrets backend 'vault' \(expected one of: memory, env"):
        SecretProvider(backend="vault")


def test_missing_boto3_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(SecretsError, match=r"pip install 'mmexec\[aws\]'"):
        SecretProvider(backend="aws", region="us-east-1")


def test_non_aws_backends_do_not_import_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # any import attempt would fail
    for backend in ("memory", "env", "file"):
        SecretProvider(backend=backend).list()


def test_default_backend_is_the_file_in_xdg_config_home(tmp_path: Path) -> None:
    p = SecretProvider()
    assert p.backend_name == "file"
    assert p.location() == f"file {tmp_path / 'xdg' / 'mmexec' / 'secrets.json'}"
    assert "SecretProvider(backend='file'" in repr(p)


# --- settings: flags > MMEXEC_SECRETS__* > [secrets] > defaults -------------------------------------
def _config(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    from mmexec.config.files import resolve_config_file

    path = tmp_path / "mmexec.toml"
    path.write_text(text)
    return resolve_config_file(str(path))


def test_settings_precedence_and_origins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmexec.config.base import load_settings
    from mmexec.config.secrets import SecretsSettings

    cfg = _config(tmp_path, '[secrets]\nbackend = "aws"\naws_region = "eu-west-1"\nfile = "~/s.json"\n')
    monkeypatch.setenv("MMEXEC_SECRETS__AWS_REGION", "us-east-2")
    loaded = load_settings(SecretsSettings, {"backend": "file", "aws_endpoint_url": None}, cfg)
    s = loaded.settings
    assert (s.backend, s.aws_region, s.aws_endpoint_url) == ("file", "us-east-2", None)
    assert s.file == Path("~/s.json").expanduser()
    assert loaded.origins["backend"] == "flag --backend"
    assert loaded.origins["aws_region"] == "env MMEXEC_SECRETS__AWS_REGION"
    assert loaded.origins["file"].startswith("file ")
    assert loaded.origins["aws_endpoint_url"] == "default"


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        ({"backend": "memory"}, r"invalid backend 'memory'.*\(flag --backend\)"),
        ({"aws_region": "Mars"}, r"invalid aws_region 'Mars': expected an AWS region"),
        ({"aws_endpoint_url": "ftp://x"}, r"invalid aws_endpoint_url 'ftp://x'"),
    ],
)
def test_bad_settings_are_config_errors(flags: dict[str, str], match: str) -> None:
    from mmexec.config.base import load_settings
    from mmexec.config.secrets import SecretsSettings

    with pytest.raises(ConfigError, match=match):
        load_settings(SecretsSettings, flags)


def test_unknown_secrets_key_in_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key 'api_secret' in \\[secrets\\]"):
        SecretProvider.from_config(_config(tmp_path, '[secrets]\napi_secret = "x"\n'))


def test_from_config_builds_the_configured_backend(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f'[secrets]\nbackend = "file"\nfile = "{tmp_path / "store.json"}"\n')
    p = SecretProvider.from_config(cfg)
    assert p.location() == f"file {tmp_path / 'store.json'}"
    p = SecretProvider.from_config(None, {"backend": "env"})
    assert p.backend_name == "env"


def test_provider_from_config_finds_the_config_file_like_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmexec.secrets.settings_provider import provider_from_config

    (tmp_path / "mmexec.toml").write_text(f'[secrets]\nfile = "{tmp_path / "local.json"}"\n')
    assert provider_from_config().location() == f"file {tmp_path / 'local.json'}"  # ./mmexec.toml
    other = tmp_path / "other.toml"
    other.write_text('[secrets]\nbackend = "env"\n')
    monkeypatch.setenv("MMEXEC_CONFIG", str(other))
    assert provider_from_config().backend_name == "env"
    assert provider_from_config(None, {"backend": "file"}).backend_name == "file"
    with pytest.raises(ConfigError, match="does not exist"):
        provider_from_config(tmp_path / "missing.toml")
