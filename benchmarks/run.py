#!/usr/bin/env python
"""Speed of homebound's numba training loop against PyTorch, JAX and plain NumPy.

    python benchmarks/run.py            # full run (~15 min on 2 cores)
    python benchmarks/run.py --quick    # shrunken step counts (~2 min)
    python benchmarks/run.py --only kou,sweep --json out.json

Everything is measured in one process run, single-threaded (BLAS, PyTorch and XLA are pinned
to one thread before they are imported; homebound trains one run per ``train`` call, which
is one numba thread), except the ``sweep`` case, which runs in a subprocess started with
``NUMBA_NUM_THREADS=2`` (1 and 2 threads in turns, by ``numba.set_num_threads``),
``sweep-vs-vmap`` (2 threads) and ``startup``, which times the command line end to end.

Homebound's steps/second come from its public API only: ``train(config)`` with
``log_every = steps`` (so it logs only the first and last step) and a 100-sample test set.
The per-step time is ``(median T(N) − median T(N0)) / (N − N0)`` for a long run of ``N``
steps and a short one of ``N0`` steps on the same config, which cancels data generation and
the two log evaluations. Numba compilation is excluded by a warm-up ``train`` call per dtype.
The baselines implement the same network, loss and optimiser (SPEC §2, §4) on the data and
initial parameters homebound draws (``simulate.run.prepare``), and a check runs three
full-batch steps in every implementation and compares the parameters with homebound's.

Machine limits, measured in the same run: a large NumPy matmul's FLOP/s (the bound of the
matrix-product-bound ``large`` case) and a streaming ``b = a·s`` over a 64 MB array, bytes/s
(16 bytes per element; the bound of an optimiser update, which reads w, g, m, v and writes
w, m, v: 7 numbers per parameter per Adam step, 3 per plain GD step).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# One thread everywhere, before numpy / torch / jax are imported.
for _key in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_key] = "1"
_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
if _XLA not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _XLA).strip()

# These imports must follow the thread settings above (BLAS and XLA read them at import);
# the project itself comes from the installed package (`pip install -e '.[bench]'`), the
# benchmark's modules from `benchmarks/hbbench/` next to this script.
import numpy as np  # noqa: E402

from hbbench import jax_impl, machine, report, subprocesses, torch_impl  # noqa: E402
from hbbench.cases import (CASE_NAMES, CASES, DTYPES, flops_per_step, problem_of,  # noqa: E402
                           update_bytes)
from hbbench.compare import agreement, baseline_rate  # noqa: E402
from hbbench.homebound_impl import hb_rate, kernel_split  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shrink step counts (~2 minutes)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(CASE_NAMES)}")
    ap.add_argument("--dtypes", default=",".join(DTYPES), help="float64,float32")
    ap.add_argument("--no-profile", action="store_true", help="skip the step-split profile")
    ap.add_argument("--json", help="also write the raw numbers to this file")
    ap.add_argument("--wait", type=float, default=90.0, metavar="SECONDS",
                    help="before each measurement wait up to this long for other processes to "
                         "leave the CPU (default 90; 0 = don't wait)")
    args = ap.parse_args(argv)

    quick = args.quick
    only = [s for s in args.only.split(",") if s] or list(CASE_NAMES)
    unknown = set(only) - set(CASE_NAMES)
    if unknown:
        ap.error(f"unknown case(s) {', '.join(sorted(unknown))}; allowed: {', '.join(CASE_NAMES)}")
    dtypes = [d for d in args.dtypes.split(",") if d]
    t_start = time.perf_counter()

    info = machine.describe()
    have = {"homebound": (True, ""), "numpy": (True, np.__version__)}
    have["pytorch"] = torch_impl.available()
    have["jax"] = jax_impl.available()
    backends = [b for b in ("pytorch", "jax", "numpy") if have[b][0]]
    if have["pytorch"][0]:
        import torch
        torch.set_num_threads(1)
    machine.log("limits …")
    info["pinning"] = machine.pin_one_cpu()
    limits = machine.measure_limits(quick)
    raw = {"machine": info, "quick": quick, "limits": limits, "available": have, "cases": {}}

    rows, profile, checks = [], [], {}
    for case in CASES:
        if case.name not in only:
            continue
        st = case.quick if quick else case.full
        pb = problem_of(case.config("float64", 1, quick))
        shape = (pb.batch, pb.m, pb.P, pb.d)
        for dtype in dtypes:
            machine.wait_quiet(args.wait)
            monitor = machine.CpuMonitor()
            machine.log(f"{case.name} {dtype}: homebound …")
            hb_res = hb_rate(case, dtype, quick)
            rates = {"homebound": hb_res["rate"]}
            cpu = {}
            for backend in backends:
                machine.log(f"{case.name} {dtype}: {backend} …")
                steps = st.jax if backend == "jax" else st.baseline
                try:
                    res = baseline_rate(backend, pb, dtype, steps, st.repeats)
                    rates[backend], cpu[backend] = res["rate"], res["cpu_per_wall"]
                except Exception as err:  # noqa: BLE001 - a third-party backend failing on one
                    # case (e.g. out of memory) is reported in its table cell, not fatal
                    machine.log(f"  {backend} failed: {type(err).__name__}: {err}")
                    rates[backend] = None
            itemsize = np.dtype(dtype).itemsize
            hb = rates["homebound"]
            flop_frac = flops_per_step(shape) * hb / limits[f"matmul_{dtype}"]
            byte_frac = update_bytes(pb.optimizer, pb.n_params, itemsize) * hb / limits["stream"]
            rows.append({"case": case.name, "dtype": dtype, "rates": rates, "cpu": cpu,
                         "flop_frac": flop_frac, "byte_frac": byte_frac, "note": case.note,
                         "foreign": monitor.foreign(), "hb_runs": hb_res})
            raw["cases"][f"{case.name}/{dtype}"] = rows[-1]
        if case.name != "large":
            try:
                checks[case.name] = agreement(case, quick, backends)
            except Exception as err:  # noqa: BLE001 - runs the third-party backends too;
                # their failure is reported in the agreement table, not fatal
                checks[case.name] = {"error": f"{type(err).__name__}: {err}"}
        for dtype in ([] if args.no_profile else dtypes):
            machine.wait_quiet(args.wait)
            machine.log(f"{case.name} {dtype}: profile (step kernels timed alone) …")
            split = kernel_split(case, dtype, quick, 0.5 if quick else 2.0)
            full_rate = next(r["rates"]["homebound"] for r in rows
                             if r["case"] == case.name and r["dtype"] == dtype)
            profile.append({"case": case.name, "dtype": dtype, "optimizer": pb.optimizer,
                            "us_step": 1e6 / full_rate, **split, "n_params": pb.n_params})
    raw["checks"] = checks
    raw["profile"] = profile

    machine.unpin()
    if "sweep" in only:
        machine.log("sweep (subprocesses) …")
        raw["sweep"] = subprocesses.sweep(quick, args.wait)
    if "sweep-vs-vmap" in only:
        machine.log("sweep-vs-vmap (subprocesses) …")
        raw["sweep_vs_vmap"] = subprocesses.sweep_vs_vmap(quick, args.wait, have["jax"][0])
    if "startup" in only:
        machine.log("startup (subprocesses) …")
        machine.wait_quiet(args.wait)
        raw["startup"] = subprocesses.startup()
    raw["wall_seconds"] = time.perf_counter() - t_start
    raw["waited_seconds"] = machine.waited()
    try:
        raw["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        pass

    report.report(raw, rows, profile, checks, quick)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
