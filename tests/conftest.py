"""Shared fixtures: a byte-exact snapshot extension, a CLI runner, a frozen clock for reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from typer.testing import CliRunner

FROZEN_UTC = "2025-01-01T00:00:00Z"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--engine", choices=("any", "compiled", "pure"), default="any",
                     help="fail at once unless the imported engine is that build (nox -s compiled: compiled)")


def pytest_report_header() -> str:
    from mmexec._build import engine_build

    return f"mmexec engine: {engine_build()}"


def pytest_sessionstart(session: pytest.Session) -> None:
    from mmexec._build import engine_compiled

    wanted = session.config.getoption("--engine")
    if wanted != "any" and engine_compiled() != (wanted == "compiled"):
        raise pytest.UsageError(f"--engine={wanted}, but the imported mmexec engine is not that build")


class JSONBytesSnapshot(SingleFileSnapshotExtension):
    """Stores the exact bytes (one ``.json`` file per snapshot): no re-serialisation, no newline games."""

    _write_mode = WriteMode.BINARY
    file_extension = "json"


@pytest.fixture
def snapshot_json(snapshot):  # type: ignore[no-untyped-def]
    return snapshot.use_extension(JSONBytesSnapshot)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's config, env overrides or credentials; reports use a frozen time."""
    import os

    for key in list(os.environ):
        if key.startswith(("MMEXEC_", "BYBIT_", "AWS_")) or key == "MM_FREEZE_UTC_ISO":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MM_FREEZE_UTC_ISO", FROZEN_UTC)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """In-process CLI runs configure the ``mmexec`` logger (JSON lines on stderr); undo that after each test."""
    import logging

    logger = logging.getLogger("mmexec")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    logger.handlers[:] = saved[0]
    logger.propagate, logger.level = saved[1], saved[2]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner):  # type: ignore[no-untyped-def]
    """Invoke the mmexec app in-process: ``cli("shadow", "--iterations", "5")``."""
    from mmexec.cli import app

    def invoke(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input, env=env, prog_name="mmexec")

    return invoke
