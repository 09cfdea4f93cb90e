#!/usr/bin/env python
"""Subprocess workers of ``run.py`` (not for direct use); each prints one JSON line.

    python benchmarks/worker.py sweep MODE RUNS REPEATS   # MODE: loop (``train`` one at a
                                                          # time) or batched (``train_many``)
    python benchmarks/worker.py many RUNS SHORT LONG REPEATS DTYPE  # tang-minibatch seeds
    python benchmarks/worker.py vmap RUNS STEPS REPEATS DTYPE       # the same in JAX vmap

Unlike ``run.py``, this script leaves BLAS, XLA and numba their thread counts (the parent
sets ``NUMBA_NUM_THREADS``).
"""
from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

from simulate.loading import load_config
from simulate.run import train, train_many

from hbbench.cases import CASES, problem_of
from hbbench.compare import timed

FLAGSHIP = next(case for case in CASES if case.name == "tang-minibatch")


def sweep(mode: str, runs: int, repeats: int) -> None:
    import numba
    tiny = load_config("default", ["train.steps=2"])
    train_many([tiny.with_seed(0), tiny.with_seed(1)])
    train(tiny)
    configs = [load_config("default").with_seed(s) for s in range(runs)]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        if mode == "loop":
            for config in configs:
                train(config)
        else:
            train_many(configs)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": statistics.median(times), "threads": numba.get_num_threads(),
                      "layer": numba.threading_layer()}))


def _seeds(runs: int, dtype: str, steps: int):
    return [FLAGSHIP.config(dtype, steps, False).with_seed(s) for s in range(runs)]


def many(runs: int, short: int, long: int, repeats: int, dtype: str) -> None:
    """``train_many`` on ``runs`` seeds of tang-minibatch: run-steps per second from the
    difference of a long and a short call (data generation and logging cancel), and the
    long call's seconds end to end."""
    import numba
    train_many(_seeds(2, dtype, 2))
    times = {short: [], long: []}
    for _ in range(repeats):
        for steps in (short, long):
            configs = _seeds(runs, dtype, steps)
            t0 = time.perf_counter()
            results = train_many(configs)
            times[steps].append(time.perf_counter() - t0)
            if any(r.steps_done != steps for r in results):
                raise RuntimeError("a run stopped early")
    t_long, t_short = statistics.median(times[long]), statistics.median(times[short])
    print(json.dumps({"rate": runs * (long - short) / (t_long - t_short), "long_s": t_long,
                      "threads": numba.get_num_threads()}))


def vmap(runs: int, steps: int, repeats: int, dtype: str) -> None:
    """JAX ``jit(scan(vmap(step)))`` over the same seeds' data and initialisations:
    run-steps per second after a compiling call of the same shape."""
    from hbbench import jax_impl
    problems = [problem_of(config) for config in _seeds(runs, dtype, 1)]
    batches = np.stack([pb.batches(steps, seed=s) for s, pb in enumerate(problems)], axis=1)
    run = jax_impl.make_vmap(problems, dtype)
    run(steps, batches)
    seconds, cpu_per_wall = timed(run, steps, batches, repeats)
    print(json.dumps({"rate": runs * steps / seconds, "cpu_per_wall": cpu_per_wall}))


WORKERS = {
    "sweep": lambda mode, runs, repeats: sweep(mode, int(runs), int(repeats)),
    "many": lambda runs, short, long, repeats, dtype: many(int(runs), int(short), int(long),
                                                         int(repeats), dtype),
    "vmap": lambda runs, steps, repeats, dtype: vmap(int(runs), int(steps), int(repeats), dtype),
}

if __name__ == "__main__":
    WORKERS[sys.argv[1]](*sys.argv[2:])
