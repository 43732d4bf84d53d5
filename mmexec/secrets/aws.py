"""The ``aws`` backend: AWS Secrets Manager through boto3 (``pip install 'mmexec[aws]'``).

Naming scheme: one secret per (exchange, api_env), named ``mmexec/<exchange>/<api_env>`` (for example
``mmexec/bybit/shadow``), whose ``SecretString`` is the JSON object
``{"api_key": "...", "api_secret": "..."}`` and which is tagged ``mmexec:exchange`` / ``mmexec:api_env``.
Deleting schedules the secret for deletion with a 7-day recovery window (AWS's undo); saving the same name
again restores it.

boto3 is imported only when this backend is built. AWS credentials come from the standard AWS chain
(``AWS_ACCESS_KEY_ID`` ..., ``AWS_PROFILE``, SSO, instance roles); the region from the provider's ``region``,
else ``AWS_REGION``, else ``AWS_DEFAULT_REGION`` (read here: boto3 itself reads only the latter), else the
AWS config file. Error messages carry the AWS error code and the
endpoint, never request parameters (botocore's own messages can echo them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from mmexec.errors import SecretsError
from mmexec.secrets.credentials import API_ENVS, KNOWN_EXCHANGES, ApiCredentials, SecretEntry
from mmexec.secrets.records import StoredJsonError, credential_record, credentials_from_record, parse_stored_json

NAME_PREFIX = "mmexec/"
RECOVERY_WINDOW_DAYS = 7
# Kept short so an unreachable endpoint fails in seconds, not minutes; retries follow botocore's defaults
# (``AWS_MAX_ATTEMPTS`` / ``AWS_RETRY_MODE``) unless ``client_config`` sets ``retries``.
DEFAULT_CLIENT_CONFIG: Mapping[str, Any] = {"connect_timeout": 5, "read_timeout": 10}
INSTALL_HINT = "pip install 'mmexec[aws]'"
# The region variables, in the order the AWS SDKs and CLI v2 read them.
REGION_ENV_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")


def region_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``AWS_REGION``, else ``AWS_DEFAULT_REGION`` (blank counts as unset), else ``None``."""
    env = os.environ if environ is None else environ
    for name in REGION_ENV_VARS:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def secret_name(entry: SecretEntry, prefix: str = NAME_PREFIX) -> str:
    """``mmexec/bybit/shadow``: the Secrets Manager name of one credential."""
    return f"{prefix}{entry.exchange}/{entry.api_env}"


def _parse_name(name: str, prefix: str) -> SecretEntry | None:
    if not name.startswith(prefix):
        return None
    exchange, sep, api_env = name[len(prefix) :].partition("/")
    if sep and exchange in KNOWN_EXCHANGES and api_env in API_ENVS:
        return SecretEntry(exchange, api_env)
    return None


class AwsBackend:
    name = "aws"
    writable = True

    def __init__(
        self,
        region: str | None = None,
        endpoint_url: str | None = None,
        *,
        prefix: str = NAME_PREFIX,
        client_config: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        try:
            import boto3
            import botocore.exceptions
        except ImportError:
            raise SecretsError(
                f"the aws backend needs boto3, which is not installed: {INSTALL_HINT}", source="backend aws"
            ) from None
        self._boto3: Any = boto3
        self._errors: Any = botocore.exceptions
        self.region = region or region_from_env(environ)
        self.endpoint_url = endpoint_url or None
        self.prefix = prefix
        self._client_config = {**DEFAULT_CLIENT_CONFIG, **(client_config or {})}
        self._client: Any = None

    def location(self) -> str:
        region = self.region
        if region is None and self._client is not None:
            region = self._client.meta.region_name
        where = f"aws secretsmanager region {region or '(AWS default)'}"
        return f"{where} endpoint {self.endpoint_url}" if self.endpoint_url else where

    # --- the client and error mapping -----------------------------------------------------------
    def _get_client(self) -> Any:
        if self._client is None:
            from botocore.config import Config

            try:
                session = self._boto3.session.Session()
                self._client = session.client(
                    "secretsmanager",
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=Config(**self._client_config),
                )
            except self._errors.NoRegionError:
                raise SecretsError(
                    "AWS region is not set: use --aws-region, [secrets] aws_region, "
                    "MMEXEC_SECRETS__AWS_REGION, AWS_REGION or AWS_DEFAULT_REGION",
                    source=self.location(),
                ) from None
            except (self._errors.BotoCoreError, ValueError) as exc:
                raise SecretsError(
                    f"cannot create the AWS Secrets Manager client ({type(exc).__name__})",
                    source=self.location(),
                ) from None
        return self._client

    def _call(
        self, operation: str, allow: frozenset[str] = frozenset(), **params: Any
    ) -> dict[str, Any] | None:
        """Run one API call; ``None`` when it fails with an error code in ``allow``."""
        client = self._get_client()
        errors = self._errors
        try:
            result: dict[str, Any] = getattr(client, operation)(**params)
        except errors.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            if code in allow:
                return None
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise SecretsError(
                f"AWS Secrets Manager {operation} failed: {code} (HTTP {status})", source=self.location()
            ) from None
        except (errors.NoCredentialsError, errors.PartialCredentialsError):
            raise SecretsError(
                "no AWS credentials found (standard AWS chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE, SSO or an instance role)",
                source=self.location(),
            ) from None
        except (errors.EndpointConnectionError, errors.ConnectTimeoutError, errors.ConnectionClosedError):
            raise SecretsError(
                f"cannot reach AWS Secrets Manager ({operation}): connection failed", source=self.location()
            ) from None
        except errors.ReadTimeoutError:
            raise SecretsError(
                f"AWS Secrets Manager did not answer in time ({operation})", source=self.location()
            ) from None
        except errors.BotoCoreError as exc:
            # Other botocore errors (e.g. ParamValidationError) may quote parameters: name the type only.
            raise SecretsError(
                f"AWS Secrets Manager {operation} failed ({type(exc).__name__})", source=self.location()
            ) from None
        return result

    # --- the backend interface --------------------------------------------------------------------
    def load(self, entry: SecretEntry) -> ApiCredentials | None:
        name = secret_name(entry, self.prefix)
        # InvalidRequestException on GetSecretValue means "scheduled for deletion": treated as absent.
        found = self._call(
            "get_secret_value",
            frozenset({"ResourceNotFoundException", "InvalidRequestException"}),
            SecretId=name,
        )
        if found is None:
            return None
        try:
            value = parse_stored_json(found.get("SecretString") or "")
        except StoredJsonError:
            value = None
        creds = credentials_from_record(value, entry, source=f"aws secret {name} ({self.location()})")
        if creds is None:
            raise SecretsError(
                f"secret {name} is not an mmexec credential (expected a JSON SecretString with api_key and "
                "api_secret)",
                source=self.location(),
            )
        return creds

    def save(self, entry: SecretEntry, api_key: str, api_secret: str) -> None:
        name = secret_name(entry, self.prefix)
        payload = json.dumps(credential_record(api_key, api_secret), sort_keys=True)
        created = self._call(
            "create_secret",
            frozenset({"ResourceExistsException"}),
            Name=name,
            SecretString=payload,
            Description=f"mmexec API credentials for {entry.exchange} ({entry.api_env})",
            Tags=[
                {"Key": "mmexec:exchange", "Value": entry.exchange},
                {"Key": "mmexec:api_env", "Value": entry.api_env},
            ],
        )
        if created is not None:
            return
        described = self._call("describe_secret", SecretId=name) or {}
        if described.get("DeletedDate"):
            self._call("restore_secret", SecretId=name)
        self._call("put_secret_value", SecretId=name, SecretString=payload)

    def entries(self) -> list[SecretEntry]:
        found: list[SecretEntry] = []
        params: dict[str, Any] = {"Filters": [{"Key": "name", "Values": [self.prefix]}], "MaxResults": 100}
        while True:
            page = self._call("list_secrets", **params) or {}
            for item in page.get("SecretList", []):
                entry = _parse_name(str(item.get("Name", "")), self.prefix)
                if entry is not None and not item.get("DeletedDate"):
                    found.append(entry)
            token = page.get("NextToken")
            if not token:
                return found
            params["NextToken"] = token

    def delete(self, entry: SecretEntry) -> bool:
        deleted = self._call(
            "delete_secret",
            frozenset({"ResourceNotFoundException", "InvalidRequestException"}),
            SecretId=secret_name(entry, self.prefix),
            RecoveryWindowInDays=RECOVERY_WINDOW_DAYS,
        )
        return deleted is not None
