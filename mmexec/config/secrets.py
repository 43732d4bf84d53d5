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

from pydantic import ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from mmexec.config.base import TableSettings

# Operators choose among the persistent backends; "memory" exists for tests and embedding only.
SecretsBackendName = Literal["file", "aws", "env"]
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$")
_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s]*)?$")
_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "aws_region": (_REGION, "expected an AWS region like us-east-1"),
    "aws_endpoint_url": (_URL, "expected an http:// or https:// URL like http://127.0.0.1:5000"),
}


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

    @field_validator("file", "aws_region", "aws_endpoint_url", mode="before")
    @classmethod
    def _optional_text(cls, value: Any, info: ValidationInfo) -> Any:
        """Blank means "not set"; ``~`` expands in the path; region and URL must look like one."""
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        pattern, expected = _PATTERNS.get(info.field_name or "", (None, ""))
        if pattern is not None and not pattern.match(value):
            raise ValueError(expected)
        return Path(value).expanduser() if info.field_name == "file" else value
