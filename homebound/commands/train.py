"""``homebound train``: train the two-layer CNN on a config, print a summary or JSON."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from simulate.fields import ConfigError
from simulate.loading import load_config
from simulate.metrics import METRICS
from simulate.presets import PRESETS

from ..arguments import add_config_arguments
from ..output import jsonable, progress_bar

NAME = "train"


def add_parser(sub) -> None:
    train = sub.add_parser(NAME, help="train the two-layer CNN on a preset or TOML config")
    add_config_arguments(train)
    train.add_argument("--seeds", type=int, default=1, metavar="K",
                       help="train K replicates (seeds seed … seed+K−1) in parallel")
    train.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    train.add_argument("--out", metavar="DIR",
                       help="write the runs as netCDF into DIR/<config name>.nc (checked before training)")
    train.add_argument("--force", action="store_true", help="with --out: replace an existing result file")
    train.add_argument("--quiet", action="store_true", help="no progress output")


def run(args) -> int:
    if args.seeds < 1:
        raise ConfigError(f"--seeds = {args.seeds}: must be an integer ≥ 1")
    config = load_config(args.config, args.overrides)
    configs = [config.with_seed(config.seed + i) for i in range(args.seeds)]
    if args.out:
        from bounds.store import check_output_path

        name = Path(args.config).stem if args.config not in PRESETS else args.config
        out_path = check_output_path(Path(args.out) / f"{name}.nc", force=args.force)
    from simulate.run import train_many

    started = time.perf_counter()
    bar = progress_bar(sum(c.total_steps for c in configs), args.quiet)
    try:
        results = train_many(configs, bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    if args.out:
        from bounds.store import runs_dataset, write_atomic

        try:
            path = write_atomic(runs_dataset(results), out_path, replace=args.force)
        except FileExistsError:
            raise ConfigError(f"--out {args.out}: {out_path} appeared while training; "
                              "pass --force to replace it") from None
        if not args.json:
            print(f"wrote {path}")
    warnings = [f"seed {r.config.seed}: {text}" for r in results for text in r.warnings()]
    for warning in warnings:
        print(f"homebound: warning: {warning}", file=sys.stderr)
    finals = np.array([r.metrics[-1] for r in results])
    summary = {name: {"mean": float(np.mean(finals[:, j])), "std": float(np.std(finals[:, j]))}
               for j, name in enumerate(METRICS) if name != "lr"}
    if args.json:
        report = {"config": config.to_dict(),
                  "runs": [{"seed": r.config.seed, "final": r.final(), "diverged": r.diverged,
                            "diverged_at": r.diverged_at, "steps": r.steps_done,
                            "diagnostics": r.diagnostic_means()} for r in results],
                  "summary": summary, "warnings": warnings, "seconds": seconds}
        print(json.dumps(jsonable(report)))
        return 0
    steps = sum(r.steps_done for r in results)
    print(f"{args.config}: {config.optimizer.name}, n={config.data.n}, d={config.data.d}, "
          f"m={config.model.m}, B={config.batch_size}, {config.total_steps} steps, "
          f"{len(results)} run(s) in {seconds:.2f} s ({steps / seconds:,.0f} steps/s)")
    print(f"{'seed':>6} {'train_loss':>11} {'train_err':>9} {'test_loss':>10} {'test_err':>8} "
          f"{'gap':>9} {'feature±':>17} {'noise mean':>10}  status")
    for r in results:
        f = r.final()
        status = f"diverged at step {r.diverged_at}" if r.diverged else "ok"
        print(f"{r.config.seed:>6} {f['train_loss']:>11.4g} {f['train_error']:>9.3f} "
              f"{f['test_loss']:>10.4g} {f['test_error']:>8.3f} {f['gap']:>9.4g} "
              f"{f['feature_learning'][0]:>8.3g} {f['feature_learning'][1]:>8.3g} "
              f"{f['noise_memorization']['mean']:>10.4g}  {status}")
    shares = [(r.config.seed, r.diagnostic_means()["home_share"]) for r in results
              if "home_share" in r.diagnostic_names]
    if shares:
        print("home share (mean over steps; 1 = every step went home): "
              + ", ".join(f"seed {seed} {share:.3f}" for seed, share in shares))
    if len(results) > 1:
        print("mean ± std: " + ", ".join(f"{k} {summary[k]['mean']:.4g} ± {summary[k]['std']:.2g}"
                                         for k in ("train_error", "test_error", "gap")))
    return 0
