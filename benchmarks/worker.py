#!/usr/bin/env python
"""Subprocess workers of ``run.py`` (not for direct use); each prints one JSON line.

    python benchmarks/worker.py sweep MODE RUNS REPEATS   # MODE: loop (``train`` one at a
                                                          # time) or batched (``train_many``)

Unlike ``run.py``, this script leaves BLAS, XLA and numba their thread counts (the parent
sets ``NUMBA_NUM_THREADS``).
"""
from __future__ import annotations

import json
import statistics
import sys
import time

from simulate.loading import load_config
from simulate.run import train, train_many


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


WORKERS = {"sweep": lambda mode, runs, repeats: sweep(mode, int(runs), int(repeats))}

if __name__ == "__main__":
    WORKERS[sys.argv[1]](*sys.argv[2:])
