"""API credentials for the exchanges: :class:`~mmexec.secrets.provider.SecretProvider` and its backends.

- :mod:`mmexec.secrets.credentials` -- :class:`ApiCredentials` (masks itself), :func:`mask_secret`, the known
  exchanges and api envs;
- :mod:`mmexec.secrets.provider` -- :class:`SecretProvider` and the lookup order;
- backends: :mod:`~mmexec.secrets.memory`, :mod:`~mmexec.secrets.env`, :mod:`~mmexec.secrets.file`,
  :mod:`~mmexec.secrets.aws` (boto3, imported only when used).
"""

from __future__ import annotations

from mmexec.secrets.credentials import API_ENVS, KNOWN_EXCHANGES, ApiCredentials, SecretEntry, mask_secret
from mmexec.secrets.provider import SecretProvider

__all__ = ["API_ENVS", "KNOWN_EXCHANGES", "ApiCredentials", "SecretEntry", "SecretProvider", "mask_secret"]
