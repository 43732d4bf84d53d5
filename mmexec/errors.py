"""The project's error types and exit codes.

Library code raises these; the CLI turns them into one ``error: ...`` line and an exit code in a single place
(:mod:`mmexec.cli.errors`). Messages name the offending value and where it came from, never a secret.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (see the README, "Exit codes, streams, errors")."""

    OK = 0
    NEGATIVE_RESULT = 1  # report diff found differences, reconciliation found mismatches
    BAD_INPUT = 2  # bad flag / file / configuration, refused operation
    INTERNAL = 1  # unexpected error; re-run with --debug for the traceback


class MmexecError(Exception):
    """Base for every error the operator can fix; carries its own exit code."""

    exit_code: int = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        if self.source:
            return f"{self.message} ({self.source})"
        return self.message


class ConfigError(MmexecError):
    """An invalid flag, environment variable or configuration file value."""


class InputError(MmexecError):
    """A malformed or missing input file (reports, fills, profiles)."""


class RefusedError(MmexecError):
    """An operation that mmexec refuses on purpose (e.g. network mode)."""


class SecretsError(MmexecError):
    """Credentials missing, unreadable or stored unsafely. Never includes the secret itself."""
