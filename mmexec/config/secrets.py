"""Settings of the secrets store: ``[secrets]`` / ``MMEXEC_SECRETS__*`` / ``--backend`` ``--file``
``--aws-region`` ``--aws-endpoint-url``.

``backend`` is where :class:`~mmexec.secrets.provider.SecretProvider` keeps credentials (``file``, ``aws``, or
the read-only ``env``); ``file`` is the secrets file of the ``file`` backend (default:
``$MMEXEC_SECRETS_FILE``, else ``$XDG_CONFIG_HOME/mmexec/secrets.json``); ``aws_region`` and
``aws_endpoint_url`` configure the ``aws`` backend (defaults: the standard AWS configuration).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from mmexec.config.base import TableSettings

# Operators choose among the persistent backends; "memory" exists for tests and embedding only.
SecretsBackendName = Literal["file", "aws", "env"]
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$")
_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s]*)?$")


class SecretsSettings(TableSettings):
    table: ClassVar[str] = "secrets"
    model_config = SettingsConfigDict(env_prefix="MMEXEC_SECRETS__")

    backend: SecretsBackendName = "file"
    file: Path | None = None
    aws_region: str | None = None
    aws_endpoint_url: str | None = None

    @field_validator("backend", mode="before")
    @classmethod
    def _backend(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("file", mode="before")
    @classmethod
    def _file(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            return Path(value).expanduser()
        return value

    @field_validator("aws_region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not _REGION.match(value):
                raise ValueError("expected an AWS region like us-east-1")
        return value

    @field_validator("aws_endpoint_url", mode="before")
    @classmethod
    def _endpoint(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not _URL.match(value):
                raise ValueError("expected an http:// or https:// URL like http://127.0.0.1:5000")
        return value
