"""The aws backend against moto running as a real HTTP server on 127.0.0.1 (started and stopped here)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

from secrets_support import KEY, SECRET, assert_not_leaked, free_port, moto_server, reset_moto  # noqa: E402

from mmexec.errors import SecretsError  # noqa: E402
from mmexec.secrets.aws import secret_name  # noqa: E402
from mmexec.secrets.credentials import SecretEntry  # noqa: E402
from mmexec.secrets.provider import SecretProvider  # noqa: E402

FAST = {"retries": {"max_attempts": 1}, "connect_timeout": 1, "read_timeout": 2}


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A clean moto, dummy AWS credentials and region in the environment, no ~/.aws, no instance metadata."""
    reset_moto(moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return moto_endpoint


def provider(endpoint: str, **kwargs: Any) -> SecretProvider:
    return SecretProvider(backend="aws", endpoint_url=endpoint, aws_client_config=FAST, **kwargs)


def raw_client(endpoint: str) -> Any:
    return boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=endpoint)


def test_round_trip_through_secrets_manager(aws: str) -> None:
    p = provider(aws)
    p.save("bybit", "shadow", api_key=KEY, api_secret=SECRET)
    creds = provider(aws).get_credentials("bybit", "shadow")
    assert (creds.api_key, creds.reveal_secret()) == (KEY, SECRET)
    assert creds.source.startswith("aws secret mmexec/bybit/shadow (aws secretsmanager region us-east-1 endpoint")
    assert p.list() == [("bybit", "shadow")]


def test_naming_scheme_value_and_tags(aws: str) -> None:
    provider(aws).save("bybit", "prod", api_key=KEY, api_secret=SECRET)
    assert secret_name(SecretEntry("bybit", "prod")) == "mmexec/bybit/prod"
    client = raw_client(aws)
    value = client.get_secret_value(SecretId="mmexec/bybit/prod")["SecretString"]
    assert json.loads(value) == {"api_key": KEY, "api_secret": SECRET}
    tags = {t["Key"]: t["Value"] for t in client.describe_secret(SecretId="mmexec/bybit/prod")["Tags"]}
    assert tags == {"mmexec:exchange": "bybit", "mmexec:api_env": "prod"}


def test_saving_again_replaces_the_value(aws: str) -> None:
    p = provider(aws)
    p.save("bybit", "dev", api_key="old_key", api_secret="old_secret")
    p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    assert p.get_credentials("bybit", "dev").reveal_secret() == SECRET
    assert p.list() == [("bybit", "dev")]


def test_delete_schedules_deletion_and_saving_restores(aws: str) -> None:
    p = provider(aws)
    p.save("bybit", "soak", api_key=KEY, api_secret=SECRET)
    assert p.delete("bybit", "soak") is True
    assert p.delete("bybit", "soak") is False  # already scheduled
    assert p.delete("bybit", "prod") is False  # never existed
    assert p.list() == []
    with pytest.raises(SecretsError, match="mmexec secrets save --exchange bybit --env soak --backend aws"):
        p.get_credentials("bybit", "soak")
    deleted = raw_client(aws).describe_secret(SecretId="mmexec/bybit/soak")
    assert "DeletedDate" in deleted  # recoverable, not destroyed
    p.save("bybit", "soak", api_key="new_key", api_secret="new_secret")
    assert p.get_credentials("bybit", "soak").api_key == "new_key"
    assert p.list() == [("bybit", "soak")]


def test_list_ignores_secrets_that_are_not_mmexec_credentials(aws: str) -> None:
    client = raw_client(aws)
    for name in ("mmexec/okx/dev", "mmexec/bybit/staging", "other/bybit/dev", "mmexecx/bybit/dev"):
        client.create_secret(Name=name, SecretString="{}")
    p = provider(aws)
    p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    assert p.list() == [("bybit", "dev")]


def test_a_foreign_secret_value_is_refused_without_echo(aws: str) -> None:
    raw_client(aws).create_secret(Name="mmexec/bybit/dev", SecretString=f"plain {SECRET}")
    with pytest.raises(SecretsError, match="not an mmexec credential") as err:
        provider(aws).get_credentials("bybit", "dev")
    assert_not_leaked(str(err.value))


def test_region_parameter_wins_over_the_environment(aws: str) -> None:
    p = provider(aws, region="eu-west-1")
    p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    assert "region eu-west-1" in p.location()
    assert provider(aws).find("bybit", "dev") is None  # us-east-1 from the environment: another region


def test_missing_region_is_a_clear_error(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(SecretsError, match=r"AWS region is not set: .* AWS_REGION or AWS_DEFAULT_REGION"):
        provider(aws).list()


def test_aws_region_is_honoured_like_aws_default_region(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    p = provider(aws)
    assert "region eu-west-1" in p.location()
    p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    stored = boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=aws)
    assert json.loads(stored.get_secret_value(SecretId="mmexec/bybit/dev")["SecretString"])["api_key"] == KEY
    assert raw_client(aws).list_secrets()["SecretList"] == []  # nothing in us-east-1


def test_aws_region_wins_over_aws_default_region(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")  # AWS_DEFAULT_REGION is us-east-1
    provider(aws).save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    assert "region ap-southeast-2" in provider(aws).location()
    assert raw_client(aws).list_secrets()["SecretList"] == []
    assert provider(aws, region="us-east-1").find("bybit", "dev") is None  # an explicit region wins over both


def test_region_from_a_given_environment_mapping(aws: str) -> None:
    p = provider(aws, environ={"AWS_REGION": " ", "AWS_DEFAULT_REGION": "sa-east-1"})  # blank counts as unset
    assert "region sa-east-1" in p.location()


def test_a_secret_string_with_nan_or_deep_nesting_is_not_a_credential(aws: str) -> None:
    client = raw_client(aws)
    client.create_secret(Name="mmexec/bybit/dev", SecretString='{"api_key": NaN, "api_secret": "' + SECRET + '"}')
    client.create_secret(Name="mmexec/bybit/soak", SecretString="[" * 100_000)
    for api_env in ("dev", "soak"):
        with pytest.raises(SecretsError, match="not an mmexec credential") as err:
            provider(aws).get_credentials("bybit", api_env)
        assert_not_leaked(str(err.value))


def test_missing_aws_credentials_are_a_clear_error(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(SecretsError, match="no AWS credentials found"):
        provider(aws).list()


def test_endpoint_down_is_a_quick_secrets_error(aws: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(SecretsError, match="cannot reach AWS Secrets Manager") as err:
        provider(dead).save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    assert time.monotonic() - started < 10
    assert err.value.exit_code == 2
    assert dead in str(err.value)
    assert_not_leaked(str(err.value))


def test_env_vars_win_without_contacting_aws(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYBIT_API_KEY", KEY)
    monkeypatch.setenv("BYBIT_API_SECRET", SECRET)
    dead = f"http://127.0.0.1:{free_port()}"
    assert provider(dead).get_credentials("bybit", "prod").reveal_secret() == SECRET


def test_server_errors_name_the_aws_error_code_not_the_message(aws: str) -> None:
    from botocore.exceptions import ClientError

    p = provider(aws)
    client = p.backend._get_client()  # type: ignore[attr-defined]

    def denied(**params: Any) -> None:
        response = {
            "Error": {"Code": "AccessDeniedException", "Message": f"echo {SECRET}"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        raise ClientError(response, "PutSecretValue")  # type: ignore[arg-type]

    client.create_secret = denied
    with pytest.raises(SecretsError) as err:
        p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    assert str(err.value).startswith("AWS Secrets Manager create_secret failed: AccessDeniedException (HTTP 400)")
    assert_not_leaked(str(err.value))


def test_botocore_errors_that_quote_parameters_are_reduced_to_their_type(aws: str) -> None:
    from botocore.exceptions import ParamValidationError

    p = provider(aws)
    client = p.backend._get_client()  # type: ignore[attr-defined]

    def invalid(**params: Any) -> None:
        raise ParamValidationError(report=f"Invalid type for parameter SecretString, value: {SECRET}")

    client.create_secret = invalid
    with pytest.raises(SecretsError, match=r"create_secret failed \(ParamValidationError\)") as err:
        p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    assert_not_leaked(str(err.value))


# --- the CLI with --backend aws -----------------------------------------------------------------------
def test_cli_save_show_list_delete_with_aws(aws: str, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = ["--backend", "aws", "--aws-endpoint-url", aws, "--aws-region", "us-east-1"]
    saved = cli(
        "secrets",
        "save",
        "--exchange",
        "bybit",
        "--env",
        "shadow",
        "--api-key",
        KEY,
        "--api-secret",
        "-",
        *store,
        input=SECRET + "\n",
    )
    assert saved.exit_code == 0, saved.stderr
    assert "api_secret  ***\n" in saved.stdout
    shown = cli("secrets", "show", "--exchange", "bybit", "--env", "shadow", "--json", *store)
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["api_key"] == "AKm...***"
    listed = cli("secrets", "list", "--json", *store)
    assert [(e["exchange"], e["api_env"]) for e in json.loads(listed.stdout)["entries"]] == [("bybit", "shadow")]
    deleted = cli("secrets", "delete", "--exchange", "bybit", "--env", "shadow", "--yes", *store)
    assert deleted.exit_code == 0, deleted.stderr
    assert "recoverable for 7 days" in deleted.stdout
    for result in (saved, shown, listed, deleted):
        assert_not_leaked(result.stdout, result.stderr, root=tmp_path)


def test_cli_backend_configured_through_env_and_toml(aws: str, cli, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "mmexec.toml").write_text(f'[secrets]\nbackend = "aws"\naws_endpoint_url = "{aws}"\n')
    monkeypatch.setenv("MMEXEC_SECRETS__AWS_REGION", "eu-central-1")
    args = ["--exchange", "bybit", "--env", "dev", "--api-key", KEY, "--api-secret", "-"]
    saved = cli("secrets", "save", *args, input=SECRET)
    assert saved.exit_code == 0, saved.stderr
    assert "aws secretsmanager region eu-central-1" in saved.stdout
    client = boto3.client("secretsmanager", region_name="eu-central-1", endpoint_url=aws)
    assert json.loads(client.get_secret_value(SecretId="mmexec/bybit/dev")["SecretString"])["api_key"] == KEY


@pytest.mark.parametrize("debug", [[], ["--debug"]])
@pytest.mark.parametrize(
    "command",
    [
        ["save", "--exchange", "bybit", "--env", "dev", "--api-key", KEY, "--api-secret", "-"],
        ["show", "--exchange", "bybit", "--env", "dev"],
        ["list"],
        ["delete", "--exchange", "bybit", "--env", "dev", "--yes"],
    ],
)
def test_cli_endpoint_down_exits_2_without_leaking(
    aws: str,
    cli,
    tmp_path: Path,
    command: list[str],  # type: ignore[no-untyped-def]
    debug: list[str],
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = cli(*debug, "secrets", *command, "--backend", "aws", "--aws-endpoint-url", dead, input=SECRET + "\n")
    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    assert "error: cannot reach AWS Secrets Manager" in result.stderr
    assert result.stdout == ""
    assert_not_leaked(result.stdout, result.stderr, root=tmp_path)


def test_cli_without_boto3_says_how_to_install(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    monkeypatch.setitem(sys.modules, "boto3", None)
    result = cli("secrets", "list", "--backend", "aws")
    assert result.exit_code == 2
    assert "pip install 'mmexec[aws]'" in result.stderr
