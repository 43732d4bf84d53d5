"""The file backend on hostile or odd paths: planted symlinks, FIFOs, directories, foreign owners, bad JSON.

Every refusal is a :class:`SecretsError` (exit 2 in the CLI) raised before anything is created or written.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from secrets_support import KEY, SECRET, assert_not_leaked

from mmexec.errors import SecretsError
from mmexec.secrets.provider import SecretProvider


@pytest.fixture
def store(tmp_path: Path) -> Path:
    directory = tmp_path / "private"
    directory.mkdir(mode=0o700)
    return directory / "secrets.json"


def provider(path: Path) -> SecretProvider:
    return SecretProvider(backend="file", path=path, env_override=False)


def save(path: Path) -> None:
    provider(path).save("bybit", "dev", api_key=KEY, api_secret=SECRET)


# --- the lock file --------------------------------------------------------------------------------------
def test_a_symlink_planted_as_the_lock_file_creates_nothing(store: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    store.with_name("secrets.json.lock").symlink_to(victim)
    with pytest.raises(SecretsError, match="lock file is a symbolic link") as err:
        save(store)
    assert err.value.exit_code == 2
    assert not victim.exists()
    assert not store.exists()


def test_a_lock_file_that_is_not_a_regular_file_is_refused(store: Path) -> None:
    os.mkfifo(store.with_name("secrets.json.lock"), 0o600)
    with pytest.raises(SecretsError, match=r"lock file is not a regular file \(a FIFO;"):
        save(store)
    assert not store.exists()


# --- the directory --------------------------------------------------------------------------------------
def test_a_directory_owned_by_someone_else_is_refused_even_for_root(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = store.parent.stat().st_uid + 1
    monkeypatch.setattr(os, "geteuid", lambda: other)
    for call in (lambda: save(store), provider(store).list):
        with pytest.raises(SecretsError, match=f"secrets directory belongs to uid {other - 1}, not to you"):
            call()
    assert list(store.parent.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory away needs root")
def test_root_refuses_a_0755_directory_owned_by_another_uid(store: Path) -> None:
    os.chmod(store.parent, 0o755)
    os.chown(store.parent, 4242, 4242)
    with pytest.raises(SecretsError, match="the secrets directory belongs to uid 4242, not to you \\(uid 0\\)"):
        save(store)
    assert list(store.parent.iterdir()) == []


@pytest.mark.parametrize("bad_mode", [0o770, 0o757, 0o720])
def test_a_directory_group_or_others_can_write_is_refused(store: Path, bad_mode: int) -> None:
    os.chmod(store.parent, bad_mode)
    with pytest.raises(SecretsError, match=f"writable by group or others \\(mode {bad_mode:04o}\\)"):
        save(store)
    assert list(store.parent.iterdir()) == []


# --- the secrets file itself ----------------------------------------------------------------------------
def test_a_symlinked_secrets_file_is_refused_and_left_alone(store: Path, tmp_path: Path) -> None:
    real = tmp_path / "real" / "secrets.json"
    save(real)
    before = real.read_bytes()
    store.symlink_to(real)
    calls = (
        lambda: provider(store).get_credentials("bybit", "dev"),
        provider(store).list,
        lambda: provider(store).save("bybit", "prod", api_key="k1234", api_secret="s1234"),
        lambda: provider(store).delete("bybit", "dev"),
    )
    for call in calls:
        with pytest.raises(SecretsError) as err:
            call()
        message = str(err.value)
        assert f"the secrets file is a symbolic link (to {real})" in message
        assert "saving would replace the link" in message
        assert_not_leaked(message)
    assert store.is_symlink()  # not replaced by a regular file
    assert real.read_bytes() == before
    assert not store.with_name("secrets.json.lock").exists()


def test_a_dangling_symlink_is_refused_too(store: Path, tmp_path: Path) -> None:
    store.symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(SecretsError, match="symbolic link"):
        save(store)
    assert not (tmp_path / "nowhere.json").exists()


def test_a_fifo_at_the_secrets_path_is_refused_without_blocking(store: Path) -> None:
    os.mkfifo(store, 0o600)  # nobody writes to it: opening it for reading the ordinary way would block forever
    for call in (lambda: provider(store).get_credentials("bybit", "dev"), provider(store).list, lambda: save(store)):
        with pytest.raises(SecretsError, match=r"the secrets file is not a regular file \(a FIFO\)"):
            call()
    assert stat.S_ISFIFO(os.lstat(store).st_mode)
    assert not store.with_name("secrets.json.lock").exists()


@pytest.mark.parametrize("path", ["/", "/tmp/..", "."])
def test_a_path_without_a_file_name_is_refused(path: str) -> None:
    with pytest.raises(SecretsError, match="the secrets file path names a directory"):
        SecretProvider(backend="file", path=path)


def test_a_directory_at_the_secrets_path_leaves_no_lock_file_behind(store: Path) -> None:
    store.mkdir(mode=0o700)
    for call in (lambda: save(store), lambda: provider(store).delete("bybit", "dev")):
        with pytest.raises(SecretsError, match=r"the secrets file is not a regular file \(a directory\)"):
            call()
    assert sorted(p.name for p in store.parent.iterdir()) == ["secrets.json"]


# --- contents no JSON reader should accept ---------------------------------------------------------------
def entries_with(value: str) -> bytes:
    return ('{"format": "mmexec-secrets", "version": 1, "entries": {}, "extra": ' + value + "}").encode()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (entries_with("NaN"), "not valid JSON: NaN and Infinity are not JSON numbers"),
        (entries_with("Infinity"), "not valid JSON: NaN and Infinity are not JSON numbers"),
        (entries_with("-Infinity"), "not valid JSON: NaN and Infinity are not JSON numbers"),
        (entries_with("[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (entries_with("{\"a\":" * 100_000 + "1" + "}" * 100_000), "nested too deeply"),
        (entries_with("9" * 5000), "holds a number out of range"),
        (entries_with("1e999999999"), "holds a number out of range"),
        (entries_with(str(2**64)), "holds a number out of range"),
        (b"[" * 100_000, "nested too deeply"),
    ],
    ids=[
        "nan",
        "infinity",
        "minus-infinity",
        "deep-arrays",
        "deep-objects",
        "huge-int",
        "huge-float",
        "beyond-64-bit",
        "deep-open",
    ],
)
def test_non_json_numbers_and_deep_nesting_are_clean_errors_naming_the_file(
    store: Path, content: bytes, match: str
) -> None:
    store.write_bytes(content)
    os.chmod(store, 0o600)
    for call in (
        provider(store).list,
        lambda: provider(store).save("bybit", "dev", api_key=KEY, api_secret=SECRET),
    ):
        with pytest.raises(SecretsError, match=match) as err:
            call()
        assert str(err.value).endswith(f"(file {store})")
    assert store.read_bytes() == content


def test_an_oversized_file_is_refused_before_it_is_parsed(store: Path) -> None:
    store.write_bytes(entries_with('"' + "x" * (1 << 20) + '"'))
    os.chmod(store, 0o600)
    with pytest.raises(SecretsError, match="larger than 1 MiB"):
        provider(store).list()


def test_unknown_top_level_values_are_kept(store: Path) -> None:
    store.write_bytes(entries_with('{"note": "kept", "n": 1.5}'))
    os.chmod(store, 0o600)
    save(store)
    assert json.loads(store.read_text())["extra"] == {"note": "kept", "n": 1.5}
