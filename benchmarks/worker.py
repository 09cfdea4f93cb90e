#!/usr/bin/env python
"""Subprocess workers of ``run.py`` (not for direct use); each prints one JSON line.

    python benchmarks/worker.py sweep RUNS REPEATS        # train one at a time, train_many
                                                          # on 1 and 2 threads, interleaved
    python benchmarks/worker.py scaling REPEATS           # the machine's 2-thread speed-up
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


def sweep(runs: int, repeats: int) -> None:
    """64 ``default`` runs three ways, interleaved in one process so that the machine's drift
    between measurements falls on all three alike: ``train`` one at a time and ``train_many``
    on 1 numba thread, then ``train_many`` on 2 (``numba.set_num_threads``; the process
    starts with ``NUMBA_NUM_THREADS=2``). Per way: the median seconds and, for the ratios,
    the median of the ``repeats`` paired ratios (each pair measured back to back)."""
    import numba
    tiny = load_config("default", ["train.steps=2"])
    train_many([tiny.with_seed(0), tiny.with_seed(1)])
    train(tiny)
    configs = [load_config("default").with_seed(s) for s in range(runs)]
    ways = (("loop_1", 1, lambda: [train(config) for config in configs]),
            ("batched_1", 1, lambda: train_many(configs)),
            ("batched_2", 2, lambda: train_many(configs)))
    times = {label: [] for label, _, _ in ways}
    for _ in range(repeats):
        for label, threads, work in ways:
            numba.set_num_threads(threads)
            t0 = time.perf_counter()
            work()
            times[label].append(time.perf_counter() - t0)
    paired = lambda a, b: statistics.median(x / y for x, y in zip(times[a], times[b]))
    print(json.dumps({
        **{label: statistics.median(times[label]) for label in times},
        **{f"{label}_threads": threads for label, threads, _ in ways},
        "threads_vs_1": paired("batched_1", "batched_2"),
        "batched_vs_loop": paired("loop_1", "batched_2"),
        "batched_vs_loop_1": paired("loop_1", "batched_1"),
        "repeats": repeats, "layer": numba.threading_layer()}))


def scaling(repeats: int) -> None:
    """The machine's own 2-thread speed-up, paired as in :func:`sweep`, on three compute
    loops of 16 independent tasks (``prange``, 1 then 2 numba threads): a latency-bound
    scalar chain, a SIMD multiply-add loop on an L1-resident 4 KB array (execution-port
    throughput) and the same on an L2-resident 800 KB array (cache bandwidth)."""
    import numba
    from numba import njit, prange

    @njit(parallel=True, nogil=True, error_model="numpy")
    def chain(out, reps):
        for r in prange(out.size):
            x = 1.0 + r
            for _ in range(reps):
                x = x * 1.0000001 + 1e-9
            out[r] = x

    @njit(parallel=True, nogil=True, error_model="numpy")
    def simd(out, size, reps):
        for r in prange(out.size):
            a = np.full(size, 1.0 + r)
            for _ in range(reps):
                for k in range(size):
                    a[k] = a[k] * 0.9999999 + 1e-9
            out[r] = a.sum()

    out = np.zeros(16)
    loops = {"latency": lambda: chain(out, 20_000_000), "l1_simd": lambda: simd(out, 512, 600_000),
             "l2_simd": lambda: simd(out, 100_000, 3_000)}
    chain(out, 1)
    simd(out, 8, 1)
    result = {}
    for name, work in loops.items():
        times = {1: [], 2: []}
        for _ in range(repeats):
            for threads in (1, 2):
                numba.set_num_threads(threads)
                t0 = time.perf_counter()
                work()
                times[threads].append(time.perf_counter() - t0)
        result[name] = statistics.median(a / b for a, b in zip(times[1], times[2]))
    print(json.dumps(result))


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
    "sweep": lambda runs, repeats: sweep(int(runs), int(repeats)),
    "scaling": lambda repeats: scaling(int(repeats)),
    "many": lambda runs, short, long, repeats, dtype: many(int(runs), int(short), int(long),
                                                         int(repeats), dtype),
    "vmap": lambda runs, steps, repeats, dtype: vmap(int(runs), int(steps), int(repeats), dtype),
}

if __name__ == "__main__":
    WORKERS[sys.argv[1]](*sys.argv[2:])
