"""The markdown report (stdout) and the targets table."""
from __future__ import annotations

import os

from .cases import CASES


def fmt_rate(x):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _scaling_text(scaling: dict) -> str:
    names = {"latency": "latency-bound chain", "l1_simd": "SIMD loop in L1",
             "l2_simd": "SIMD loop in L2"}
    return ", ".join(f"{names[k]} {v:.2f}×" for k, v in scaling.items())


def fmt_load(x):
    return "?" if x is None else f"{x:.2f}"


def fmt_ratio(a, b):
    if a is None or b is None:
        return "—"
    return f"{a / b:.2f}×"


def report(raw, rows, profile, checks, quick):
    info, limits, have = raw["machine"], raw["limits"], raw["available"]
    sweep_res, vmap_res, startup_res = raw.get("sweep"), raw.get("sweep_vs_vmap"), raw.get("startup")
    p = print
    p(f"# homebound benchmark{' (--quick)' if quick else ''}\n")
    p(f"- date: {info['date']}")
    p(f"- CPU: {info['cpu']}, {info['cores']} cores ({info.get('simd', '')})")
    p(f"- Python {info['python']}, NumPy {info['numpy']}, numba {info['numba']}; "
      f"{info['platform']}")
    for name in ("pytorch", "jax"):
        ok, what = have[name]
        p(f"- {name}: {what}" if ok else f"- {name}: not importable ({what}); column skipped")
    p(f"- one thread everywhere (OPENBLAS/MKL/OMP_NUM_THREADS=1, torch.set_num_threads(1), "
      f"XLA_FLAGS={os.environ['XLA_FLAGS']!r}), and the process {info.get('pinning', '')}; "
      "homebound trains one run per call (one numba thread); sweep and startup subprocesses "
      "see every CPU")
    p(f"- machine limits (same run, one thread): matmul "
      f"{limits['matmul_float64'] / 1e9:.1f} GFLOP/s float64, "
      f"{limits['matmul_float32'] / 1e9:.1f} GFLOP/s float32; streaming b=a·s "
      f"{limits['stream'] / 1e9:.1f} GB/s; m/(√v+ε) on 40k elements "
      f"{1e9 * limits['divsqrt_float64']:.2f} ns/element float64, "
      f"{1e9 * limits['divsqrt_float32']:.2f} float32")
    p(f"- load average at start {info['loadavg']}, at end {raw.get('loadavg_end', '?')}")
    p(f"- total time {raw['wall_seconds']:.0f} s, of which {raw['waited_seconds']:.0f} s "
      "waiting for other processes to leave the CPU\n")

    if rows:
        p("## Training steps per second (higher is better)\n")
        p("| case | dtype | homebound | PyTorch | JAX | NumPy | hb/PyTorch | hb/JAX | hb/NumPy "
          "| FLOP/s vs matmul | update B/s vs stream | other load |")
        p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            rt = r["rates"]
            p(f"| {r['case']} | {r['dtype']} | {fmt_rate(rt['homebound'])} "
              f"| {fmt_rate(rt.get('pytorch'))} | {fmt_rate(rt.get('jax'))} "
              f"| {fmt_rate(rt.get('numpy'))} "
              f"| {fmt_ratio(rt['homebound'], rt.get('pytorch'))} "
              f"| {fmt_ratio(rt['homebound'], rt.get('jax'))} "
              f"| {fmt_ratio(rt['homebound'], rt.get('numpy'))} "
              f"| {100 * r['flop_frac']:.1f}% | {100 * r['byte_frac']:.1f}% "
              f"| {fmt_load(r['foreign'])} |")
        p("")
        p("Cases: " + "; ".join(f"`{c.name}` = {c.note}" for c in CASES
                                if any(r["case"] == c.name for r in rows)) + ".")
        p("FLOP/s vs matmul: homebound's 4·B·2m·P·d FLOP per step (forward + weight gradient, "
          "2 FLOP per multiply-add) × steps/s over the matmul's FLOP/s (the bound of `large`). "
          "Update B/s vs stream: the optimiser's bytes per step (Adam 7, GD 3 numbers per "
          "parameter) × steps/s over the streaming bytes/s (the bound of an update). "
          "Other load: cores' worth of CPU that other processes used while the row was measured "
          "(well above 0 means the numbers are disturbed; re-run on a quiet machine).")
        busy = [f"{r['case']}/{r['dtype']}/{b} {v:.2f}" for r in rows for b, v in r["cpu"].items()
                if v > 1.3]
        if busy:
            p(f"Warning: CPU time / wall time above 1.3 (more than one thread?): {', '.join(busy)}")
        p("")

    if checks:
        p("## Agreement (3 full-batch float64 steps, same data and initialisation)\n")
        p("max |θ_baseline − θ_ref| / max |θ_ref − θ_0| for each baseline, against homebound's "
          "`train(config)` with `train.batch_size=0` and against homebound's step kernels "
          "(`loss_and_grad` + `apply_update`) called directly on all samples. Values near "
          "1e-15 mean the same arithmetic; values near 1 mean a different step.\n")
        p("| case | reference | " + " | ".join(b for b in ("pytorch", "jax", "numpy")
                                               if any(b in v for res in checks.values()
                                                      for v in res.values()
                                                      if isinstance(v, dict))) + " |")
        cols = [b for b in ("pytorch", "jax", "numpy")
                if any(b in v for res in checks.values() for v in res.values()
                       if isinstance(v, dict))]
        p("|---|---|" + "---:|" * len(cols))
        for name, res in checks.items():
            if "error" in res:
                p(f"| {name} | error: {res['error']} |" + " |" * len(cols))
                continue
            if not res:
                p(f"| {name} | skipped (too large) |" + " |" * len(cols))
            for ref, vals in res.items():
                p(f"| {name} | {ref} | " + " | ".join(f"{vals[b]:.1e}" if b in vals else "—"
                                                     for b in cols) + " |")
        p("")

    if profile:
        p("## Where homebound's step goes (same-run profile)\n")
        p("Homebound's two step kernels timed alone on the case's problem (one batch of B "
          "samples, the initial parameters; Python-call cost subtracted): `loss_and_grad` "
          "(forward and backward) and `apply_update` (the optimiser). \"rest\" is the step "
          "time from the main table minus both: batch selection and the loop itself, or "
          "differences between the kernels' work here and along the training trajectory.\n")
        p("| case | dtype | µs/step (train) | gradient µs | update µs | rest µs "
          "| update ns/param | divider floor µs | BLAS products µs |")
        p("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in profile:
            rest = r["us_step"] - r["grad_us"] - r["update_us"]
            floor = f"{divider_floor_us(r, limits):.1f}" if r["optimizer"] == "adam" else "—"
            blas = f"{r['blas_us']:.1f}" if "blas_us" in r else "—"
            p(f"| {r['case']} ({r['optimizer']}) | {r['dtype']} | {r['us_step']:.1f} "
              f"| {r['grad_us']:.1f} ({100 * r['grad_us'] / r['us_step']:.0f}%) "
              f"| {r['update_us']:.1f} ({100 * r['update_us'] / r['us_step']:.0f}%) "
              f"| {rest:.1f} | {1e3 * r['update_us'] / r['n_params']:.2f} | {floor} | {blas} |")
        p("\nDivider floor: one square root and one division per parameter (the least an "
          "exact Adam step needs), at the SIMD `m/(sqrt(v)+eps)` speed measured above. BLAS "
          "products: the gradient's two single-thread BLAS products alone (`rows·Wᵀ`, "
          "`rowsᵀ·A` on the batch's dense rows), for the dense cases that take them in one "
          "chunk.\n")

    if sweep_res:
        s = sweep_res
        p(f"## sweep: {s['runs']} runs of the `default` preset (numba layer {s['layer']})\n")
        p(f"The three ways take turns in one process, {s['repeats']} rounds (threads set by "
          f"`numba.set_num_threads`); seconds are medians, ratios the median of the rounds' "
          f"paired ratios. Other load over the whole measurement: {fmt_load(s.get('foreign'))}.\n")
        p("| how | threads | seconds | runs/s |")
        p("|---|---:|---:|---:|")
        for label, how in (("loop_1", "`train` one at a time"), ("batched_1", "`train_many`"),
                           ("batched_2", "`train_many`")):
            p(f"| {how} | {s[label + '_threads']} | {s[label]:.2f} | {s['runs'] / s[label]:.1f} |")
        p(f"\nbatched: 2 threads vs 1 = {s['threads_vs_1']:.2f}×; "
          f"batched (2 threads) vs one at a time = {s['batched_vs_loop']:.2f}×; "
          f"batched vs one at a time, both 1 thread = {s['batched_vs_loop_1']:.2f}×\n")
        if "machine_scaling" in s:
            p(f"The machine's own 2-thread speed-up (same run, paired, 16 independent tasks): "
              f"{_scaling_text(s['machine_scaling'])}.\n")

    if vmap_res:
        s = vmap_res
        p(f"## sweep-vs-vmap: {s['runs']} seeds of tang-minibatch ({s['dtype']}), 2 threads\n")
        p("Run-steps per second (all runs' steps over wall time): homebound's `train_many` with "
          f"`NUMBA_NUM_THREADS=2` (difference of {s['steps']}- and 20-step calls, so data "
          "generation and logging cancel) and JAX `jit(scan(vmap(step)))` over the same seeds' "
          f"data and initialisations ({s['jax_steps']} steps after a compiling call; XLA's "
          "default threads on both CPUs).\n")
        p("| how | run-steps/s | seconds | CPU/wall | other load |")
        p("|---|---:|---:|---:|---:|")
        p(f"| homebound `train_many` ({s['threads']} threads) | {fmt_rate(s['homebound'])} "
          f"| {s['homebound_long_s']:.2f} ({s['steps']} steps, end to end) | — "
          f"| {fmt_load(s.get('homebound_foreign'))} |")
        if "jax" in s:
            p(f"| JAX `vmap` | {fmt_rate(s['jax'])} | {s['runs'] * s['jax_steps'] / s['jax']:.2f} "
              f"({s['jax_steps']} steps) | {s['jax_cpu_per_wall']:.2f} "
              f"| {fmt_load(s.get('jax_foreign'))} |")
            p(f"\nhomebound / JAX vmap = {fmt_ratio(s['homebound'], s['jax'])}\n")
        else:
            p("")

    if startup_res:
        s = startup_res
        p("## startup: `" + s["command"] + "` end to end\n")
        p("| call | seconds |")
        p("|---|---:|")
        p(f"| first (cold numba cache) | {s['cold']:.2f} |")
        p(f"| second (same cache) | {s['warm']:.2f} |")
        p(f"| `python -c 'import simulate.run'` | {s['import_only']:.2f} |")
        p("")

    targets(rows, profile, raw, limits)
    if quick:
        print("(--quick: `large` is the n = 1 000 variant, and every count is shorter; quote the "
              "full run.)\n")


def divider_floor_us(profile_row, limits) -> float:
    """Microseconds of one square root and one division per parameter at the measured SIMD
    speed: the least an exact Adam update can take."""
    return 1e6 * limits["divsqrt_" + profile_row["dtype"]] * profile_row["n_params"]


#: The issue's targets: (case, dtype, contender, ratio homebound/contender).
RATIO_TARGETS = (
    ("tang-minibatch", "float64", "pytorch", 10), ("tang-minibatch", "float64", "jax", 1.5),
    ("tang-minibatch", "float32", "jax", 1.5),
    ("tang-largebatch", "float64", "pytorch", 5), ("tang-largebatch", "float64", "jax", 1.5),
    ("tang-largebatch", "float32", "jax", 1.2),
    ("kou", "float64", "jax", 1.2), ("kou", "float32", "jax", 1),
    ("large", "float64", "pytorch", 1), ("large", "float32", "pytorch", 1),
)


def targets(rows, profile, raw, limits):
    """The targets, reported (not tuned to). The "limit" column gives the rate this machine
    allows the case: for Adam ``1/(divider floor + gradient kernel)`` (an exact update's
    least), for the dense GD cases ``1/(BLAS products + update)`` (the gradient's two
    products at this BLAS's speed)."""
    by = {(r["case"], r["dtype"]): r for r in rows}
    prof = {(r["case"], r["dtype"]): r for r in profile}
    lines = []
    for case, dtype, other, need in RATIO_TARGETS:
        r = by.get((case, dtype))
        if r is None or r["rates"].get(other) is None:
            continue
        hb, base = r["rates"]["homebound"], r["rates"][other]
        limit = ""
        pr = prof.get((case, dtype))
        cap = None
        if pr is not None and pr["optimizer"] == "adam":     # divider floor + gradient
            cap = 1e6 / (divider_floor_us(pr, limits) + pr["grad_us"])
        elif pr is not None and "blas_us" in pr:              # BLAS products + update
            cap = 1e6 / (pr["blas_us"] + pr["update_us"])
        if cap:
            limit = f"{fmt_rate(cap)} steps/s = {cap / base:.2f}×; measured {100 * hb / cap:.0f}% of it"
        lines.append((f"{case} ≥ {need}× {other} ({dtype})", f"{hb / base:.2f}×", hb / base >= need,
                      limit))
    r = by.get(("kou", "float64"))
    if r:
        lines.append(("kou ≥ 50% of matmul FLOP/s (float64)", f"{100 * r['flop_frac']:.1f}%",
                      r["flop_frac"] >= 0.5, ""))
    vmap_res, sweep_res, startup_res = raw.get("sweep_vs_vmap"), raw.get("sweep"), raw.get("startup")
    if vmap_res and "jax" in vmap_res:
        got = vmap_res["homebound"] / vmap_res["jax"]
        lines.append(("sweep-vs-vmap ≥ 1.5× JAX vmap (64 seeds, 2 threads)", f"{got:.2f}×",
                      got >= 1.5, ""))
    if sweep_res:
        sp = sweep_res["threads_vs_1"]
        scaling = sweep_res.get("machine_scaling")
        limit = ""
        if scaling:
            best = max(scaling.values())
            limit = (f"compute loops scale {_scaling_text(scaling)}; measured "
                     f"{100 * sp / best:.0f}% of the best")
        lines.append(("sweep batched ≥ 1.8× faster on 2 threads than 1", f"{sp:.2f}×", sp >= 1.8,
                      limit))
        vs = sweep_res["batched_vs_loop"]
        lines.append(("sweep batched faster than one at a time", f"{vs:.2f}×", vs > 1, ""))
    if startup_res:
        lines.append(("startup second call ≤ 2 s", f"{startup_res['warm']:.2f} s",
                      startup_res["warm"] <= 2.0, ""))
    if lines:
        print("## Targets\n")
        print("| target | measured | met | limit on this machine |")
        print("|---|---:|:---:|---|")
        for what, got, ok, limit in lines:
            print(f"| {what} | {got} | {'yes' if ok else '**no**'} | {limit} |")
        print("")
