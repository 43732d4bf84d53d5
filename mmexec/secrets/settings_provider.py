"""The configured provider: ``[secrets]`` of the config file, ``MMEXEC_SECRETS__*`` and flags.

What ``mmexec secrets`` and the run commands (``bybit-dryrun``) use, so both read credentials from the same
place. ``config`` is an explicit ``--config`` path (``None``: ``$MMEXEC_CONFIG``, else ``./mmexec.toml``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mmexec.secrets.provider import SecretProvider


def provider_from_config(
    config: str | os.PathLike[str] | None = None,
    flags: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> SecretProvider:
    """A :class:`SecretProvider` from flags > ``MMEXEC_SECRETS__*`` > ``[secrets]`` > defaults (file backend)."""
    from mmexec.config.files import resolve_config_file

    return SecretProvider.from_config(resolve_config_file(config), flags, **kwargs)
