"""The journal on the run commands' common ground: generated options, --show-config, the one output writer,
SIGTERM / SIGHUP handling, the report loaders (stdin) and the sweep."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.journal_support import BUSY, MMEXEC, kill_env, mmexec, plain_baseline, run_to_files, same_bytes

SMALL = ("shadow", "--iterations", "300", "--edge-threshold", "0")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plain_baseline(tmp_path_factory.mktemp("baseline"))


@pytest.mark.skipif(MMEXEC is None, reason="mmexec is not installed: pip install -e .")
@pytest.mark.parametrize(("point", "signum"), [
    ("step:3000:TERM", signal.SIGTERM),
    ("commit:2:TERM", signal.SIGTERM),  # inside a batch transaction, before COMMIT
    ("checkpoint:1:HUP", signal.SIGHUP),  # inside the first checkpoint's transaction
])
def test_a_terminated_journaled_run_exits_cleanly_and_resumes_to_the_same_bytes(
        baseline: Path, tmp_path: Path, point: str, signum: int) -> None:
    for name in ("plain.json", "plain.fills.jsonl"):
        (tmp_path / name).write_bytes((baseline / name).read_bytes())
    journal = tmp_path / "j.db"
    stopped = run_to_files(tmp_path, "resumed", *BUSY, "--state", str(journal), env=kill_env(point))
    assert stopped.returncode == 128 + signum
    assert stopped.stderr.decode() == f"error: terminated by {signal.Signals(signum).name}\n"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not [n for n in left if n.startswith("resumed") or n.endswith(".tmp")], left  # no output, no temp file
    resumed = run_to_files(tmp_path, "resumed", "shadow", "--resume", str(journal))
    assert resumed.returncode == 0, resumed.stderr
    same_bytes(tmp_path, "plain", "resumed")


@pytest.mark.skipif(MMEXEC is None, reason="mmexec is not installed: pip install -e .")
def test_resume_show_config_shows_the_journals_configuration(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    killed = mmexec(*SMALL, "--seed", "7", "--state", str(journal), env=kill_env("step:100"), cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL
    shown = mmexec("shadow", "--resume", str(journal), "--show-config", cwd=tmp_path,
                   env={"MMEXEC_SHADOW__ITERATIONS": "5"})  # the environment is not read on resume
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.decode()
    assert f"iterations = 300  # journal {journal}" in text
    assert f"seed = 7  # journal {journal}" in text
    assert f'state = "{journal}"  # journal {journal}' in text
    assert not journal.with_name("j.db.tmp").exists()
    refused = mmexec("shadow", "--resume", str(journal), "--seed", "8", "--show-config", cwd=tmp_path)
    assert refused.returncode == 2
    assert b"--seed" in refused.stderr


def test_a_journal_on_stdin_is_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = cli(*SMALL, "--state", "j.db", "--out", "r.json")
    assert made.exit_code == 0, made.output
    data = (tmp_path / "j.db").read_bytes()
    for args in (("report", "show", "-"), ("report", "diff", "-", "r.json")):
        result = cli(*args, input=data)
        assert result.exit_code == 2
        assert result.output == "error: a run journal cannot be read from stdin: give its path (<stdin>)\n"
    by_path = cli("report", "diff", "j.db", "-", "--ignore", "runtime.*", input=(tmp_path / "r.json").read_bytes())
    assert by_path.exit_code == 0, by_path.output


@pytest.mark.parametrize(("args", "message"), [
    (("--force",), "error: --force goes with --resume"),
    (("--checkpoint-every", "10"), "error: --checkpoint-every goes with --state or --resume"),
    (("--state", "x.json", "--out", "x.json"), "error: --out and --state name the same file 'x.json'"),
    (("--state", "f.jsonl", "--fills-out", "./f.jsonl"), "error: --fills-out and --state name the same file"),
])
def test_journal_flags_out_of_place_are_refused(cli, tmp_path: Path, args: tuple[str, ...],  # type: ignore[no-untyped-def]
                                                message: str) -> None:
    result = cli(*SMALL, *args)
    assert result.exit_code == 2
    assert result.output.startswith(message)
    assert result.output.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no journal created


def test_help_lists_the_journal_options_in_their_panel(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("shadow", "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    panel = result.output[result.output.index("State journal"):]
    for flag in ("--state", "--resume", "--force", "--checkpoint-every"):
        assert flag in panel


@pytest.mark.parametrize(("args", "env"), [
    (("--state", "s.db"), {}),
    (("--grid", "state=a.db,b.db"), {}),
    ((), {"MMEXEC_SHADOW__STATE": "env.db"}),
])
def test_a_sweep_refuses_the_journal(cli, tmp_path: Path, args: tuple[str, ...],  # type: ignore[no-untyped-def]
                                     env: dict[str, str]) -> None:
    result = cli("sweep", "--iterations", "5", "--seeds", "1..2", "--workers", "1", "--out", "s.jsonl", *args,
                 env=env)
    assert result.exit_code == 2, result.output
    assert "a sweep does not journal its runs" in result.output
    assert not list(tmp_path.iterdir())


def test_resume_with_force_of_a_complete_journal_writes_the_same_outputs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = cli(*SMALL, "--state", "j.db", "--out", "r.json", "--fills-out", "f.jsonl")
    assert made.exit_code == 0, made.output
    again = cli("shadow", "--resume", "j.db", "--force", "--out", "r2.json", "--fills-out", "f2.jsonl")
    assert again.exit_code == 0, again.output
    assert (tmp_path / "r2.json").read_bytes() == (tmp_path / "r.json").read_bytes()
    assert (tmp_path / "f2.jsonl").read_bytes() == (tmp_path / "f.jsonl").read_bytes()
    assert json.loads((tmp_path / "r.json").read_bytes())["runtime"]


def test_resume_with_another_state_path_is_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = cli(*SMALL, "--state", "j.db", "--out", "r.json")
    assert made.exit_code == 0, made.output
    same = cli("shadow", "--resume", "j.db", "--state", "./j.db", "--force", "--out", "r2.json")
    assert same.exit_code == 0, same.output
    other = cli("shadow", "--resume", "j.db", "--state", "k.db", "--force")
    assert other.exit_code == 2
    assert other.output == "error: --state names another journal than --resume (give --resume alone) (--state)\n"
    assert not (tmp_path / "k.db").exists()
