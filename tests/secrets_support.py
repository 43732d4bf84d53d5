"""Helpers shared by the secrets tests: leak checks and a moto server on 127.0.0.1 (a real HTTP endpoint)."""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

# Distinctive values: any occurrence in an output or a file is a leak.
KEY = "AKmmexecKey7431"
SECRET = "SKmmexecSecret9921zq"


def files_containing(root: Path, needles: Iterable[str], allow: Iterable[Path] = ()) -> list[Path]:
    """Files below ``root`` (except ``allow``) whose bytes contain any of ``needles``."""
    allowed = {Path(p).resolve() for p in allow}
    raw = [n.encode() for n in needles]
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.resolve() not in allowed:
            data = path.read_bytes()
            if any(n in data for n in raw):
                found.append(path)
    return found


def assert_not_leaked(
    *outputs: str | bytes,
    root: Path | None = None,
    allow: Iterable[Path] = (),
    needles: Iterable[str] = (KEY, SECRET),
) -> None:
    """None of ``needles`` in any output, nor in any file below ``root`` except ``allow``."""
    needles = list(needles)
    for output in outputs:
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        for needle in needles:
            assert needle not in text, f"a credential value leaked into the output: {text[:300]!r}"
    if root is not None:
        assert files_containing(root, needles, allow) == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    """Connect until the server accepts (bounded by a deadline); fail fast if the process died."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not listen on port {port} in {deadline_s} s") from None
            select.select([], [], [], 0.05)  # a short bounded wait between connection attempts


@contextlib.contextmanager
def moto_server(log_dir: Path) -> Iterator[str]:
    """Run ``python -m moto.server -H 127.0.0.1 -p <free port>``; yields its endpoint URL; stops it after."""
    port = free_port()
    log = (log_dir / "moto-server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def reset_moto(endpoint: str) -> None:
    """Forget every secret (moto's reset API) so each test starts empty."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # 127.0.0.1 only
        response.read()
