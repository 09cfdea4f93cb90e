"""A task: one batch of runs that share a shape, as plain data, and the function that runs it.

Tasks travel to workers (in-process, or dask.distributed ones on other machines) as plain
dicts of config dicts, and results come back as plain dicts of NumPy arrays: no project
object crosses the wire, and a worker rebuilds each config and checks that it hashes to the
run's key before training it.
"""
from __future__ import annotations

import numpy as np

from simulate.config import RunConfig, config_from_dict
from simulate.run import RunResult, train_many

from .grid import run_key

_ARRAYS = ("steps", "metrics", "memorisation", "diagnostics", "params")


def make_task(runs: list[tuple[str, RunConfig]]) -> dict:
    """``{"runs": [{"key", "config"}, …]}`` for ``(key, config)`` pairs."""
    return {"runs": [{"key": key, "config": config.to_dict()} for key, config in runs]}


def result_arrays(result: RunResult) -> dict:
    """A RunResult's fields as plain arrays, numbers and names (its config left out)."""
    return {**{name: getattr(result, name) for name in _ARRAYS},
            "diagnostic_names": list(result.diagnostic_names),
            "diverged_at": result.diverged_at, "steps_done": result.steps_done}


def result_from_arrays(arrays: dict, config: RunConfig) -> RunResult:
    """The RunResult of ``config`` from :func:`result_arrays`'s record."""
    return RunResult(config=config, **{name: np.asarray(arrays[name]) for name in _ARRAYS},
                     diagnostic_names=tuple(arrays["diagnostic_names"]),
                     diverged_at=arrays["diverged_at"], steps_done=arrays["steps_done"])


def run_batch(task: dict) -> dict:
    """Train a task's runs with one ``train_many`` call; ``{"runs": [{"key", …arrays}]}``."""
    configs = []
    for run in task["runs"]:
        config = config_from_dict(run["config"])
        if run_key(config) != run["key"]:
            raise RuntimeError(f"run {run['key']}: config does not round-trip to its key")
        configs.append(config)
    results = train_many(configs)
    return {"runs": [{"key": run["key"], **result_arrays(result)}
                     for run, result in zip(task["runs"], results)]}
