"""Time a 200-run sweep (benchmarks/sweep_200.toml) four ways, on the installed package:

1. ``homebound sweep`` in-process;
2. one ``homebound train`` call per run: one call per (optimiser, batch size) cell, which
   is what a run's cost depends on (the seed does not), times the seeds per cell; with
   ``--every-run``, all 200 calls;
3. the resume check: a sweep SIGKILLed once about half its batches are stored, then resumed
   (counts of stored and recomputed runs; sweep.nc compared with 1's);
4. ``homebound sweep --workers 2`` (a 2-process dask LocalCluster).

Wall times include process start-up, as a user sees them.
``python benchmarks/sweep.py [--every-run] [OUT]``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xarray as xr

SWEEP = Path(__file__).with_name("sweep_200.toml")


def homebound(*args):
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "homebound", *args], capture_output=True,
                         text=True, check=True)
    return time.perf_counter() - started, out.stdout


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(root: Path, every_run: bool) -> None:
    from bounds.sweep import expand, load_sweep

    plan = expand(load_sweep(SWEEP))
    print(f"{len(plan.runs)} runs, dims {dict(zip(plan.dims, plan.shape))}; {os.cpu_count()} cores; {load()}")

    wall, text = homebound("sweep", str(SWEEP), "--out", str(root / "inprocess"), "--json", "--quiet")
    report = json.loads(text)
    print(f"1. in-process sweep: {wall:.1f} s wall ({report['seconds']:.1f} s in the sweep, "
          f"{report['tasks']} tasks); {load()}")

    seeds = 1 if every_run else plan.shape[-1]
    cells = plan.runs if every_run else [run for run in plan.runs if run.index[-1] == 0]
    times = []
    for run in cells:
        sets = [f"optimizer.name={run.config.optimizer.name}",
                f"train.batch_size={run.config.train.batch_size}", f"seed={run.config.seed}"]
        args = [a for s in sets for a in ("--set", s)]
        times.append(homebound("train", "default", *args, "--quiet", "--json")[0])
    sample = "every run" if every_run else f"one per cell, × {seeds} seeds"
    print(f"2. one CLI call per run: {len(cells)} calls took {sum(times):.1f} s (median "
          f"{sorted(times)[len(times) // 2]:.2f} s per call) → {sum(times) * seeds:.0f} s for all "
          f"{len(plan.runs)} runs ({sample}); {load()}")

    killed = root / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "homebound", "sweep", str(SWEEP), "--out",
                             str(killed), "--quiet"], stdout=subprocess.DEVNULL)
    half = report["tasks"] // 2
    while len(list((killed / "runs").glob("*.nc"))) < half and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    wall, text = homebound("sweep", str(SWEEP), "--out", str(killed), "--json", "--quiet")
    resumed = json.loads(text)
    same = xr.load_dataset(killed / "sweep.nc").identical(xr.load_dataset(root / "inprocess" / "sweep.nc"))
    print(f"3. resume after SIGKILL: {resumed['stored']} runs were stored, {resumed['computed']} "
          f"recomputed ({resumed['tasks']} tasks) in {wall:.1f} s wall; sweep.nc identical to 1: {same}")

    wall, text = homebound("sweep", str(SWEEP), "--out", str(root / "dask2"), "--workers", "2",
                           "--json", "--quiet")
    report = json.loads(text)
    same = xr.load_dataset(root / "dask2" / "sweep.nc").identical(xr.load_dataset(root / "inprocess" / "sweep.nc"))
    print(f"4. LocalCluster of 2 workers: {wall:.1f} s wall ({report['seconds']:.1f} s in the "
          f"sweep); sweep.nc identical to 1: {same}; {load()}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--every-run"]
    main(Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="sweep-bench-")),
         "--every-run" in sys.argv[1:])
