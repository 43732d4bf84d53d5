"""Where the runs execute: local processes (the default) or a Dask distributed cluster (``--scheduler``).

Both yield :class:`~mmexec.sweep.runner.RunResult` as runs complete; the order never matters because the result
file is sorted by run key at the end. ``dask.distributed`` is imported only here, only with ``--scheduler``.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from mmexec.errors import ConfigError
from mmexec.sweep.runner import RunResult, RunTask, describe_error, execute, failed_result

CONNECT_TIMEOUT_S = 3.0
MAX_POOL_RESTARTS = 3
WORKERS_TIMEOUT_S = 10.0
# Heavy modules every local worker imports once, before it forks per run (forkserver preload).
_PRELOAD = ["mmexec.sweep.runner", "mmexec.run.builder", "mmexec.config.run", "mmexec.canonical"]


class Executor(Protocol):
    description: str

    def run(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the coordinator, which stops the sweep and keeps the finished results."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalExecutor:
    """``--workers N`` processes on this machine; ``--workers 1`` runs in this process (no pool at all)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local worker{'s' if workers != 1 else ''}"
        self._pool: Any = None

    def run(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield execute(task)
            return
        remaining = list(tasks)
        for attempt in range(MAX_POOL_RESTARTS + 1):
            remaining = yield from self._run_pool(remaining, last_attempt=attempt == MAX_POOL_RESTARTS)
            if not remaining:
                return
            self.close()  # a worker process died: a new pool reruns the runs it took down with it

    def _run_pool(self, tasks: list[RunTask], *, last_attempt: bool) -> Generator[RunResult, None, list[RunTask]]:
        """Yield results as they complete; return the tasks left undone when a worker process died."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        self._pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=context,
                                         initializer=_ignore_sigint)
        pending = {self._pool.submit(execute, task): task for task in tasks}
        for future in as_completed(list(pending)):
            try:
                result = future.result()
            except BrokenProcessPool as exc:
                if not last_attempt:
                    left = []
                    for other, task in pending.items():  # finished before the pool broke: keep those results
                        if other.done() and not other.cancelled() and other.exception() is None:
                            yield other.result()
                        else:
                            left.append(task)
                    return left
                result = failed_result(pending[future], f"worker process died: {describe_error(exc)}")
            except Exception as exc:  # e.g. a task that cannot be sent to the worker
                result = failed_result(pending[future], f"worker process failed: {describe_error(exc)}")
            del pending[future]
            yield result
        return []

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # runs in flight when the sweep stops are abandoned, not awaited
            if process.is_alive():
                process.terminate()


# --- Dask ----------------------------------------------------------------------------------------------------


def parse_scheduler(address: str) -> tuple[str, int]:
    parts = urlsplit(address)
    if parts.scheme != "tcp" or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"invalid scheduler address {address!r}: expected tcp://HOST:PORT", source="--scheduler")
    try:
        port = parts.port or 8786
    except ValueError:
        raise ConfigError(f"invalid scheduler port in {address!r}", source="--scheduler") from None
    return parts.hostname, port


def probe_worker(paths: Sequence[str]) -> dict[str, Any]:
    """Runs on every Dask worker before the sweep: its mmexec version and the data files it cannot read."""
    from mmexec._version import __version__

    return {"version": __version__, "missing": [p for p in paths if not os.access(p, os.R_OK)]}


class DaskExecutor:
    """``--scheduler tcp://HOST:PORT``: the runs as Dask tasks; a lost worker's runs are rescheduled by Dask."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.description = f"Dask scheduler {address}"
        self._client: Any = None
        self._futures: list[Any] = []

    def connect(self, data_files: Sequence[str]) -> None:
        """Check reachability, workers, their mmexec version and the data files; any problem -> ConfigError."""
        host, port = parse_scheduler(self.address)
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigError(f"cannot reach the Dask scheduler at {host}:{port}: {reason}",
                              source="--scheduler") from None
        try:
            from distributed import Client
        except ImportError:
            raise ConfigError("--scheduler needs Dask: pip install 'mmexec[dask]'", source="--scheduler") from None
        from mmexec._version import __version__

        try:
            self._client = Client(  # type: ignore[no-untyped-call]
                self.address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
            self._client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
            probes: dict[str, dict[str, Any]] = self._client.run(probe_worker, list(data_files))
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ConfigError(f"the Dask scheduler at {host}:{port} did not answer with workers ({exc})",
                              source="--scheduler") from None
        self.description = f"Dask scheduler {host}:{port} ({len(probes)} workers)"
        for worker, probe in sorted(probes.items()):
            if probe["version"] != __version__:
                self.close()
                raise ConfigError(f"worker {worker} runs mmexec {probe['version']}, this is {__version__} "
                                  "(results would not be comparable)", source="--scheduler")
            if probe["missing"]:
                self.close()
                raise ConfigError(f"data file {probe['missing'][0]!r} is not readable on worker {worker} "
                                  "(data files are read by path on every worker)", source="--data")

    def run(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        from distributed import as_completed

        assert self._client is not None, "connect() first"
        self._futures = self._client.map(execute, list(tasks), pure=False)
        by_key = {future.key: task for future, task in zip(self._futures, tasks, strict=True)}
        for future in as_completed(self._futures, loop=self._client.loop):  # type: ignore[no-untyped-call]
            task = by_key[future.key]
            try:  # a result lost with its worker before we fetched it is recomputed by Dask: result() waits
                result = future.result()
            except Exception as exc:  # e.g. KilledWorker: the run's workers died too often
                result = failed_result(task, f"Dask: {describe_error(exc)}")
            yield result
            future.release()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if self._futures:
            client.cancel(self._futures)
            self._futures = []
        client.close(timeout=CONNECT_TIMEOUT_S)


def check_local_files(paths: Sequence[str]) -> None:
    for path in paths:
        if not Path(path).is_file():
            raise ConfigError(f"data file {path!r} does not exist", source="--data")
