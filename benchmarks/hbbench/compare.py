"""Baselines side by side with homebound: their steps/s, and whether they take its step.

Each baseline module's ``make(problem, dtype)`` returns ``run(steps, batches) -> theta``
(``batches`` as ``Problem.batches``; state carries over between calls).
"""
from __future__ import annotations

import time

import numpy as np

from simulate.run import train

from . import jax_impl, numpy_impl, torch_impl
from .cases import Case, Problem, canonical, problem_of
from .homebound_impl import kernel_steps
from .machine import median


MAKERS = {"pytorch": torch_impl.make, "jax": jax_impl.make, "numpy": numpy_impl.make}


def baseline_rate(backend: str, pb: Problem, dtype: str, steps: int, repeats: int) -> dict:
    """Steps/s of a baseline: a warm-up call on the same shapes (JAX compiles there), then
    ``repeats`` timed calls of ``steps`` steps; also the CPU-time/wall-time ratio."""
    run = MAKERS[backend](pb, dtype)
    batches = pb.batches(steps)
    warm = steps if backend == "jax" else min(steps, max(2, steps // 10))
    run(warm, None if batches is None else batches[:warm] if backend != "jax" else batches)
    seconds, cpu_per_wall = timed(run, steps, batches, repeats)
    return {"rate": steps / seconds, "cpu_per_wall": cpu_per_wall}


def timed(run, steps: int, batches, repeats: int) -> tuple[float, float]:
    """Median seconds of ``repeats`` calls ``run(steps, batches)`` and the CPU-time/wall-time
    ratio over all of them (above 1: more than one thread ran)."""
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        run(steps, batches)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return median(times), sum(cpu) / sum(times)


def agreement(case: Case, quick: bool, backends) -> dict:
    """Three full-batch float64 steps in every implementation from the same data and
    initialisation; ``max|θ − θ_hb| / max|θ_hb − θ_0|`` against homebound's ``train`` and
    against homebound's step kernels called directly."""
    k = 3
    cfg = case.config("float64", k, quick, ["train.batch_size=0"])
    if cfg.data.n * cfg.data.d > 2_000_000:
        return {}
    pb = problem_of(cfg)
    shape = (cfg.model.m, cfg.data.d, bool(cfg.model.bias))
    refs = {"train()": canonical(train(cfg).params, *shape),
            "kernels": canonical(kernel_steps(cfg, k), *shape)}
    thetas = {b: MAKERS[b](pb, "float64")(k, None) for b in backends}
    out = {}
    for ref_name, ref in refs.items():
        moved = np.max(np.abs(ref - pb.theta0))
        out[ref_name] = {b: float(np.max(np.abs(th - ref)) / moved) for b, th in thetas.items()}
    return out
