"""Batching: runs that share ``simulate.run.shape_key`` go into one ``train_many`` call.

Each shape group is cut into as few tasks of at most ``max_runs`` runs as possible, with sizes
as even as possible; tasks are ordered by estimated cost, largest first, so that a pool of
workers finishes close together (longest-processing-time-first). Batching never changes a
result: every run is trained independently inside ``train_many``.
"""
from __future__ import annotations

import math
from typing import Mapping

from simulate.config import RunConfig
from simulate.run import shape_key

from .tasks import make_task

#: Runs per task by default: enough to keep a 2–8 core machine busy inside one numba call,
#: small enough that a killed sweep loses little and a cluster gets many tasks.
DEFAULT_MAX_RUNS = 16


def run_cost(config: RunConfig) -> float:
    """Rough work of a run: ``T·B·m·d`` for training plus ``rows·(n + n_test)·m·d`` for
    logging (multiply-adds up to a constant; used only to order tasks)."""
    width = config.model.m * config.data.d
    rows = config.log_steps().size
    return width * (config.total_steps * config.batch_size
                    + rows * (config.data.n + config.data.n_test))


def batches(runs: Mapping[str, RunConfig], max_runs: int = DEFAULT_MAX_RUNS) -> list[dict]:
    """Tasks (:func:`~bounds.sweep.tasks.make_task`) for key → config ``runs``."""
    groups: dict[tuple, list[tuple[str, RunConfig]]] = {}
    for key, config in runs.items():
        groups.setdefault(shape_key(config), []).append((key, config))
    chunks = []
    for group in groups.values():
        count = math.ceil(len(group) / max_runs)
        size, extra = divmod(len(group), count)
        start = 0
        for c in range(count):
            stop = start + size + (c < extra)
            chunks.append(group[start:stop])
            start = stop
    chunks.sort(key=lambda chunk: -sum(run_cost(config) for _, config in chunk))
    return [make_task(chunk) for chunk in chunks]
