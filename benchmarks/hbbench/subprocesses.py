"""Rows measured in subprocesses: the 64-run sweep (1 and 2 numba threads) and start-up.

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
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def sweep(quick: bool, wait: float = 0.0) -> dict:
    runs, repeats = 64, 3
    out = {"runs": runs}
    for label, mode, threads in (("loop_1", "loop", 1), ("batched_1", "batched", 1),
                                 ("batched_2", "batched", 2)):
        wait_quiet(wait)
        monitor = CpuMonitor()
        proc = subprocess.run(
            [sys.executable, str(WORKER), "sweep", mode, str(runs), str(repeats)],
            env=_env(NUMBA_NUM_THREADS=str(threads)), cwd=REPO,
            capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"sweep worker {label} failed:\n{proc.stderr[-2000:]}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        out[label] = res["seconds"]
        out[f"{label}_threads"] = res["threads"]
        out[f"{label}_foreign"] = monitor.foreign()
        out["layer"] = res["layer"]
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
