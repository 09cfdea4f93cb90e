"""Where tasks run: in this process (the default) or on a dask.distributed cluster.

An executor's ``map(function, tasks)`` yields ``(position, result or exception)`` as tasks
finish, in any order. In-process, each task is one ``train_many`` call that uses every core
through numba. On dask, each worker runs one task at a time (``threads_per_worker=1``); a
worker lost mid-task has its task rescheduled by the scheduler (up to dask's
``distributed.scheduler.allowed-failures``, 3 by default); an exception raised by a task is
returned, not retried, since runs are deterministic. numba compiles once per worker process
and shares the on-disk cache (``NUMBA_CACHE_DIR``) safely.
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Callable, Iterator, Sequence

from simulate.fields import ConfigError

Outcome = Iterator[tuple[int, object]]


class InProcess:
    """Run tasks one after another in this process."""

    description = "in-process"

    def map(self, function: Callable, tasks: Sequence) -> Outcome:
        for position, task in enumerate(tasks):
            try:
                outcome = function(task)
            except Exception as err:  # recorded as the task's failure; the sweep goes on
                outcome = err
            yield position, outcome


class Dask:
    """Run tasks on the workers of a dask.distributed ``Client``."""

    def __init__(self, client, description: str):
        self.client = client
        self.description = description

    def map(self, function: Callable, tasks: Sequence) -> Outcome:
        from distributed import as_completed

        futures = self.client.map(function, tasks, pure=False)
        position = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            if future.status == "finished":
                outcome = future.result()
            elif future.status == "error":
                outcome = future.exception()
            else:
                outcome = RuntimeError(f"task {future.status}")
            future.release()
            yield position[future.key], outcome


def local_cluster_env(workers: int) -> dict[str, str]:
    """Worker environment: the machine's cores shared out, ``NUMBA_NUM_THREADS`` each."""
    return {"NUMBA_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // workers))}


@contextlib.contextmanager
def open_executor(scheduler: str | None = None, workers: int | None = None,
                  connect_timeout: float = 20.0):
    """The executor for ``--scheduler ADDRESS`` (a running dask scheduler), ``--workers N``
    (a LocalCluster of N worker processes, closed on exit) or neither (in-process)."""
    if scheduler is not None and workers is not None:
        raise ConfigError("--scheduler, --workers: give at most one of them")
    if scheduler is None and workers is None:
        yield InProcess()
        return
    from distributed import Client, LocalCluster

    if workers is not None:
        if workers < 1:
            raise ConfigError(f"--workers = {workers}: must be an integer ≥ 1")
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR,
                          env=local_cluster_env(workers)) as cluster, Client(cluster) as client:
            yield Dask(client, f"LocalCluster of {workers} worker processes")
        return
    try:
        client = Client(scheduler, timeout=connect_timeout)
    except (OSError, TimeoutError, ValueError) as err:
        raise ConfigError(f"--scheduler {scheduler}: cannot connect ({err})") from None
    with client:
        yield Dask(client, f"dask scheduler {scheduler}")
