"""``homebound sweep FILE --out DIR``: run a sweep file's grid; ``homebound sweep status DIR``:
count its runs by state (done / diverged / failed / missing)."""
from __future__ import annotations

import json
import sys

from simulate.fields import ConfigError

from ..output import progress_bar

NAME = "sweep"
STATUS = "status"
EXIT_FAILED = 1


def add_parser(sub) -> None:
    sweep = sub.add_parser(NAME, help="run a grid of runs from a sweep file (or: sweep status DIR)",
                           description="Run the grid of a sweep file into a resumable result "
                                       "directory, or `homebound sweep status DIR`.")
    sweep.add_argument("file", metavar="FILE", help="sweep file (TOML), or the word 'status'")
    sweep.add_argument("directory", nargs="?", metavar="DIR", help="with 'status': the --out directory")
    sweep.add_argument("--out", metavar="DIR", help="result directory (created; resumable)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a dask.distributed scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--workers", type=int, metavar="N", help="run on a local dask cluster of N processes")
    sweep.add_argument("--batch-runs", type=int, default=None, metavar="R",
                       help="at most R runs per task (default 16)")
    sweep.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sweep.add_argument("--quiet", action="store_true", help="no progress output")


def run(args) -> int:
    if args.file == STATUS:
        return _status(args)
    if args.directory is not None:
        raise ConfigError(f"sweep {args.file}: unexpected argument {args.directory!r} "
                          "(did you mean --out?)")
    if not args.out:
        raise ConfigError("--out: required (the result directory)")
    from bounds.store import output_dir
    from bounds.sweep import DEFAULT_MAX_RUNS, expand, load_sweep, open_executor, run_sweep

    max_runs = DEFAULT_MAX_RUNS if args.batch_runs is None else args.batch_runs
    if max_runs < 1:
        raise ConfigError(f"--batch-runs = {max_runs}: must be an integer ≥ 1")
    plan = expand(load_sweep(args.file))
    output_dir(args.out)
    bar = _RunBar(args.quiet)
    with open_executor(args.scheduler, args.workers) as executor:
        try:
            report = run_sweep(plan, args.out, executor, max_runs, bar)
        finally:
            bar.close()
    if args.json:
        fields = ("runs", "stored", "computed", "failed_now", "done", "diverged", "failed",
                  "missing", "tasks", "seconds", "executor", "errors")
        print(json.dumps({**{k: getattr(report, k) for k in fields}, "path": str(report.path)}))
    else:
        print(f"{args.file}: {report.runs} runs ({report.stored} stored, {report.computed} computed"
              f" in {report.tasks} tasks, {report.executor}) in {report.seconds:.2f} s; "
              f"{report.done} done, {report.diverged} diverged, {report.failed} failed → {report.path}")
    if report.failed_now:
        print(f"homebound: {report.failed_now} runs failed ({report.errors[0]}); they are retried "
              f"by the next sweep; see homebound sweep status {args.out}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _status(args) -> int:
    if args.directory is None:
        raise ConfigError("sweep status: give the sweep's --out directory")
    from bounds.sweep import RunStore

    counts = RunStore(args.directory).status()
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"{args.directory}: {counts['runs']} runs: " + ", ".join(
            f"{counts[state]} {state}" for state in ("done", "diverged", "failed", "missing")))
    return 0


class _RunBar:
    """A progress bar over runs (rate and ETA), made on the first call to know the total."""

    def __init__(self, quiet: bool):
        self.quiet, self.started, self.bar = quiet, False, None

    def __call__(self, finished: int, total: int) -> None:
        if not self.started:
            self.started = True
            self.bar = progress_bar(total, self.quiet, unit="run", initial=finished,
                                    unit_scale=False)
        elif self.bar is not None:
            self.bar.update(finished - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
