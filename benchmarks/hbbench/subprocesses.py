"""Rows measured in subprocesses: the 64-run sweeps (``train`` and ``train_many`` on 1 and 2
numba threads; ``train_many`` against JAX ``vmap`` on 2 CPUs) and start-up.

The workers run ``benchmarks/worker.py``, which does not hold BLAS or XLA to one thread.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .machine import CpuMonitor, log, wait_quiet

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parents[1] / "worker.py"


def _env(**extra):
    """The parent's environment without its one-thread settings (subprocesses see every CPU)."""
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS"):
        env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _worker(args, env) -> dict:
    proc = subprocess.run([sys.executable, str(WORKER), *map(str, args)], env=env, cwd=REPO,
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"worker {args[0]} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sweep(quick: bool, wait: float = 0.0) -> dict:
    """64 runs of the ``default`` preset: ``train`` one at a time, ``train_many`` on 1 and on
    2 numba threads (seconds end to end), interleaved in one worker (paired ratios); then the
    machine's own 2-thread speed-up on compute loops (``worker.scaling``)."""
    runs, repeats = 64, 3 if quick else 7
    wait_quiet(wait)
    monitor = CpuMonitor()
    out = _worker(["sweep", runs, repeats], _env(NUMBA_NUM_THREADS="2"))
    out.update(runs=runs, foreign=monitor.foreign())
    wait_quiet(wait)
    out["machine_scaling"] = _worker(["scaling", 5], _env(NUMBA_NUM_THREADS="2"))
    return out


def sweep_vs_vmap(quick: bool, wait: float = 0.0, with_jax: bool = True) -> dict:
    """64 seeds of tang-minibatch (float64) on 2 threads: ``train_many`` with
    ``NUMBA_NUM_THREADS=2`` against JAX ``vmap`` over the seeds, run-steps per second."""
    runs, repeats = 64, 3
    short, long, jax_steps = (20, 300, 100) if quick else (20, 2000, 300)
    out = {"runs": runs, "dtype": "float64", "steps": long, "jax_steps": jax_steps}
    wait_quiet(wait)
    monitor = CpuMonitor()
    res = _worker(["many", runs, short, long, repeats, "float64"], _env(NUMBA_NUM_THREADS="2"))
    out.update(homebound=res["rate"], homebound_long_s=res["long_s"], threads=res["threads"],
               homebound_foreign=monitor.foreign())
    if with_jax:
        wait_quiet(wait)
        monitor = CpuMonitor()
        res = _worker(["vmap", runs, jax_steps, repeats, "float64"], _env())
        out.update(jax=res["rate"], jax_cpu_per_wall=res["cpu_per_wall"],
                   jax_foreign=monitor.foreign())
    return out


def startup() -> dict:
    snippet = ("from simulate.loading import load_config; from simulate.run import train; "
               "train(load_config('default'))")
    cli = [sys.executable, "-m", "homebound", "train", "default", "--quiet"]
    fallback = [sys.executable, "-c", snippet]
    out = {}
    with tempfile.TemporaryDirectory(prefix="hb-numba-cache-") as cache:
        env = _env(NUMBA_CACHE_DIR=cache)
        command = cli if (REPO / "homebound" / "__main__.py").exists() else fallback
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
            elapsed = time.perf_counter() - t0
            if proc.returncode and command is cli:
                log(f"startup: `homebound train` failed ({proc.stderr.strip()[-300:]}); "
                    "falling back to a python -c snippet")
                command = fallback
                t0 = time.perf_counter()
                proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
                elapsed = time.perf_counter() - t0
            if proc.returncode:
                raise RuntimeError(f"startup command failed:\n{proc.stderr[-2000:]}")
            out[label] = elapsed
        out["command"] = ("homebound train default --quiet" if command is cli
                          else "python -c 'train(load_config(\"default\"))'")
    # The interpreter plus imports alone, for scale.
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import simulate.run"], env=_env(), cwd=REPO, check=True)
    out["import_only"] = time.perf_counter() - t0
    return out
