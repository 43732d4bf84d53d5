"""The file backend: location, permissions (0600 file, 0700 directories), refusals, atomicity, file lock."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from secrets_support import KEY, SECRET, assert_not_leaked

from mmexec.errors import SecretsError
from mmexec.secrets.file import FileBackend, default_secrets_path
from mmexec.secrets.provider import SecretProvider


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "private" / "nested" / "secrets.json"


def test_default_location_follows_xdg_and_the_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_secrets_path() == tmp_path / "xdg" / "mmexec" / "secrets.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # invalid per the XDG spec: ignored
    assert default_secrets_path() == Path.home() / ".config" / "mmexec" / "secrets.json"
    monkeypatch.setenv("MMEXEC_SECRETS_FILE", str(tmp_path / "elsewhere.json"))
    assert default_secrets_path() == tmp_path / "elsewhere.json"
    assert SecretProvider(backend="file").location() == f"file {tmp_path / 'elsewhere.json'}"


def test_created_file_is_0600_in_0700_directories_whatever_the_umask(store: Path) -> None:
    old = os.umask(0o022)
    try:
        SecretProvider(backend="file", path=store).save("bybit", "shadow", api_key=KEY, api_secret=SECRET)
    finally:
        os.umask(old)
    assert mode(store) == 0o600
    assert mode(store.parent) == 0o700
    assert mode(store.parent.parent) == 0o700
    assert mode(store.with_name("secrets.json.lock")) == 0o600
    assert sorted(p.name for p in store.parent.iterdir()) == ["secrets.json", "secrets.json.lock"]  # no temp


def test_default_location_is_created_private(tmp_path: Path) -> None:
    SecretProvider(backend="file").save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    path = tmp_path / "xdg" / "mmexec" / "secrets.json"
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_round_trip_and_file_format(store: Path) -> None:
    p = SecretProvider(backend="file", path=store)
    p.save("bybit", "shadow", api_key=KEY, api_secret=SECRET)
    p.save("bybit", "prod", api_key="prod_key", api_secret="prod_secret")
    doc = json.loads(store.read_text())
    assert doc == {
        "entries": {
            "bybit/prod": {"api_key": "prod_key", "api_secret": "prod_secret"},
            "bybit/shadow": {"api_key": KEY, "api_secret": SECRET},
        },
        "format": "mmexec-secrets",
        "version": 1,
    }
    creds = SecretProvider(backend="file", path=store).get_credentials("bybit", "shadow")
    assert creds.reveal_secret() == SECRET
    assert creds.source == f"file {store} [bybit/shadow]"
    assert p.list() == [("bybit", "shadow"), ("bybit", "prod")]
    assert p.delete("bybit", "prod") is True
    assert p.delete("bybit", "prod") is False
    assert p.list() == [("bybit", "shadow")]
    assert mode(store) == 0o600


def test_missing_file_is_an_empty_store_and_delete_creates_nothing(store: Path) -> None:
    p = SecretProvider(backend="file", path=store)
    assert p.list() == []
    assert p.find("bybit", "dev") is None
    assert p.delete("bybit", "dev") is False
    assert not store.parent.exists()


@pytest.mark.parametrize("bad_mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_a_file_group_or_others_can_access_is_refused(store: Path, bad_mode: int) -> None:
    p = SecretProvider(backend="file", path=store)
    p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    os.chmod(store, bad_mode)
    for call in (
        lambda: p.get_credentials("bybit", "dev"),
        p.list,
        lambda: p.save("bybit", "soak", api_key="k1234", api_secret="s1234"),
    ):
        with pytest.raises(SecretsError) as err:
            call()
        message = str(err.value)
        assert f"mode {bad_mode:04o}" in message
        assert f"chmod 600 {store}" in message
        assert err.value.exit_code == 2
        assert_not_leaked(message)
    assert mode(store) == bad_mode  # refused, not silently "fixed"
    assert "bybit/soak" not in store.read_text()


def test_a_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(SecretsError, match="writable by group or others"):
        SecretProvider(backend="file", path=shared / "s.json").save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    assert list(shared.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"entries": {}}', "not an mmexec secrets file"),
        (b'{"format": "mmexec-secrets", "version": 9, "entries": {}}', "unsupported secrets file version"),
        (b'{"format": "mmexec-secrets", "version": 1, "entries": []}', 'no "entries" object'),
        (
            b'{"format": "mmexec-secrets", "version": 1, "entries": {"bybit/dev": {"api_key": "'
            + SECRET.encode()
            + b'"}}}',
            "needs api_key and api_secret",
        ),
    ],
)
def test_malformed_files_are_described_without_their_content(store: Path, content: bytes, match: str) -> None:
    store.parent.mkdir(parents=True, mode=0o700)
    store.write_bytes(content)
    os.chmod(store, 0o600)
    with pytest.raises(SecretsError, match=match) as err:
        SecretProvider(backend="file", path=store).get_credentials("bybit", "dev")
    assert_not_leaked(str(err.value))


def test_unknown_entries_are_kept_but_not_listed(store: Path) -> None:
    p = SecretProvider(backend="file", path=store)
    p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    doc = json.loads(store.read_text())
    doc["entries"]["okx/dev"] = {"api_key": "okx_key", "api_secret": "okx_secret"}
    store.write_text(json.dumps(doc))
    assert p.list() == [("bybit", "dev")]
    p.save("bybit", "prod", api_key="k1234", api_secret="s1234")
    assert "okx/dev" in json.loads(store.read_text())["entries"]


def test_a_directory_in_place_of_the_file_is_refused(store: Path) -> None:
    store.mkdir(parents=True, mode=0o700)
    with pytest.raises(SecretsError, match="not a regular file"):
        SecretProvider(backend="file", path=store).list()


def test_an_unreadable_file_is_a_clear_error(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    SecretProvider(backend="file", path=store).save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    real_open = os.open

    def denied(path: object, *args: object, **kwargs: object) -> int:
        if Path(str(path)) == store:  # what chmod 000 does for a non-root user
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(SecretsError, match="cannot read the secrets file: permission denied"):
        SecretProvider(backend="file", path=store).list()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_a_file_owned_by_someone_else_is_refused_even_for_root(store: Path) -> None:
    SecretProvider(backend="file", path=store).save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    os.chown(store, 4242, -1)
    with pytest.raises(SecretsError, match="refusing to read the secrets file: it belongs to uid 4242, not to you"):
        SecretProvider(backend="file", path=store).list()


def test_a_failed_write_leaves_the_old_file_whole(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = SecretProvider(backend="file", path=store)
    p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    before = store.read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("mmexec.artifacts.os.replace", disk_full)
    with pytest.raises(SecretsError, match="cannot write the secrets file: No space left on device"):
        p.save("bybit", "prod", api_key="k1234", api_secret="s1234")
    assert store.read_bytes() == before
    assert sorted(x.name for x in store.parent.iterdir()) == ["secrets.json", "secrets.json.lock"]


# --- two processes saving at the same time ----------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import sys
    from mmexec.secrets.provider import SecretProvider

    path, api_env, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    provider = SecretProvider(backend="file", path=path, env_override=False)
    sys.stdin.readline()  # both children start on the same signal
    lost = 0
    for i in range(rounds):
        provider.save("bybit", api_env, api_key=f"{api_env}key{i:04d}", api_secret=f"{api_env}sec{i:04d}")
        found = provider.find("bybit", api_env)
        # Only this process writes this entry: anything else means another save overwrote it with stale data.
        if found is None or found.api_key != f"{api_env}key{i:04d}":
            lost += 1
    print(lost)
    """
)


def test_two_processes_saving_different_entries_keep_both(store: Path) -> None:
    rounds = 40
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(store), api_env, str(rounds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for api_env in ("dev", "shadow")
    ]
    for child in children:  # release both as close together as possible
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        child.stdin.flush()
    results = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err.decode()
        assert out.decode().strip() == "0", "an entry was lost to a concurrent save"
    p = SecretProvider(backend="file", path=store, env_override=False)
    assert p.list() == [("bybit", "dev"), ("bybit", "shadow")]
    last = f"{rounds - 1:04d}"
    assert p.get_credentials("bybit", "dev").reveal_secret() == f"devsec{last}"
    assert p.get_credentials("bybit", "shadow").reveal_secret() == f"shadowsec{last}"
    assert mode(store) == 0o600
    assert sorted(x.name for x in store.parent.iterdir()) == ["secrets.json", "secrets.json.lock"]


def test_backend_location_and_lock_path(store: Path) -> None:
    backend = FileBackend(store)
    assert backend.location() == f"file {store}"
    assert backend.lock_path == store.with_name("secrets.json.lock")
