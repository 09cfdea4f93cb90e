"""Run a sweep: plan, skip what the store holds, run the rest as batched tasks, gather.

The client (this process) writes every file: each batch as its result arrives, then
``sweep.nc``; workers only compute. Runs already in the store (by key) are never recomputed,
diverged ones included; runs whose task raised are recorded as failed and tried again by the
next sweep.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bounds.store import write_atomic

from .batches import DEFAULT_MAX_RUNS, batches
from .executors import InProcess
from .gather import gather
from .grid import Plan
from .runstore import GATHERED, RunStore
from .tasks import result_from_arrays, run_batch


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did. ``runs`` counts distinct runs; ``stored`` those already in the store
    at the start, ``computed`` those trained now, ``failed_now`` those whose task raised now;
    ``done``/``diverged``/``failed``/``missing`` the store's state at the end."""

    runs: int
    stored: int
    computed: int
    failed_now: int
    done: int
    diverged: int
    failed: int
    missing: int
    tasks: int
    seconds: float
    path: Path
    executor: str
    errors: tuple[str, ...]


def run_sweep(plan: Plan, out: str | os.PathLike, executor=None, max_runs: int = DEFAULT_MAX_RUNS,
              progress: Callable[[int, int], None] | None = None) -> SweepReport:
    """Run ``plan`` into the store at ``out`` (created if needed) and write ``out/sweep.nc``.

    ``executor`` defaults to in-process (see :mod:`.executors`); ``max_runs`` bounds the
    runs per task; ``progress(finished, total)``, if given, is called before the first task
    and after each (counting distinct runs, those already stored included)."""
    executor = executor or InProcess()
    store = RunStore(out)
    started = time.perf_counter()
    with store.open_for_writing():
        store.write_plan(plan.to_dict())
        unique = plan.unique()
        stored = store.stored()
        todo = {key: config for key, config in unique.items() if key not in stored}
        tasks = batches(todo, max_runs)
        finished, computed, failed, errors = len(unique) - len(todo), 0, 0, []
        if progress is not None:
            progress(finished, len(unique))
        for position, outcome in executor.map(run_batch, tasks):
            keys = [run["key"] for run in tasks[position]["runs"]]
            if isinstance(outcome, BaseException):
                store.write_failure(keys, outcome)
                failed += len(keys)
                errors.append(f"{type(outcome).__name__}: {outcome}")
            else:
                results = [result_from_arrays(run, todo[run["key"]]) for run in outcome["runs"]]
                store.write_batch([run["key"] for run in outcome["runs"]], results)
                computed += len(keys)
            finished += len(keys)
            if progress is not None:
                progress(finished, len(unique))
        path = write_atomic(gather(plan, store), store.directory / GATHERED)
        counts = store.status()
    return SweepReport(runs=len(unique), stored=len(unique) - len(todo), computed=computed,
                       failed_now=failed, done=counts["done"], diverged=counts["diverged"],
                       failed=counts["failed"], missing=counts["missing"], tasks=len(tasks),
                       seconds=time.perf_counter() - started, path=path,
                       executor=executor.description, errors=tuple(errors))
