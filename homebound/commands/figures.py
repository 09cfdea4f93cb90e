"""``homebound figures``: build the papers' figures from their shipped experiment files
(``--list`` them, ``--quick`` reduced, full size by name), redraw them from their data files,
and write the reproduction record (``--report``)."""
from __future__ import annotations

import json
import sys

from simulate.fields import ConfigError

NAME = "figures"
EXIT_FAILED = 1


def add_parser(sub) -> None:
    parser = sub.add_parser(NAME, help="build the papers' figures (PNG, PDF and their data)",
                            description="Build figures from their shipped experiment files: "
                                        "runs go to OUT/runs/ (resumable), each figure to "
                                        "OUT/NAME.png, .pdf and .nc (its data).")
    parser.add_argument("names", nargs="*", metavar="NAME", help="figures to build (default: all)")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="the reduced [quick] settings")
    size.add_argument("--reduced", action="store_true",
                      help="the [reduced] settings (the largest reduction run here where the "
                           "full size is out of reach; the full size where there is none)")
    parser.add_argument("--out", default="figs", metavar="DIR", help="output directory (default: figs)")
    parser.add_argument("--redraw", action="store_true",
                        help="draw again from OUT/NAME.nc without running anything")
    parser.add_argument("--stored-only", action="store_true",
                        help="run nothing: draw what OUT/runs/ holds (missing runs are NaN)")
    parser.add_argument("--gallery", metavar="DIR",
                        help="with --redraw: write small PNGs into DIR instead (README gallery)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a [set] value of the figures' sweep files (repeatable)")
    parser.add_argument("--report", nargs="?", const="REPRODUCTIONS.md", metavar="FILE",
                        help="write the reproduction record from the data in OUT (default file: "
                             "REPRODUCTIONS.md) and exit")
    parser.add_argument("--from", dest="sources", action="append", default=[], metavar="DIR",
                        help="with --report: read the data files of DIR (repeatable; default: "
                             "OUT)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="run sweeps on a local dask cluster")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run sweeps on a dask scheduler")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args) -> int:
    from figures import registry
    from figures.results import ExperimentFailed

    if args.list:
        return _list(registry, args.json)
    if args.report:
        from figures.report import write_report

        path = write_report(args.sources or [args.out], args.report)
        print(f"wrote {path}")
        return 0
    if args.gallery and not args.redraw:
        raise ConfigError("--gallery: only with --redraw (it draws from OUT/NAME.nc)")
    names = args.names or list(registry.FIGURES)
    for name in names:
        registry.get(name)
    variant = "quick" if args.quick else "reduced" if args.reduced else None
    from bounds.store import output_dir
    from bounds.sweep import open_executor

    output_dir(args.out)
    built = {}
    with open_executor(args.scheduler, args.workers) as executor:
        for name in names:
            try:
                if args.redraw:
                    outcome = registry.redraw(name, args.out, args.gallery)
                else:
                    outcome = registry.build(name, args.out, variant, args.overrides, executor,
                                             stored_only=args.stored_only)
            except ExperimentFailed as err:
                print(f"homebound: {err}; run again to retry", file=sys.stderr)
                return EXIT_FAILED
            built[name] = {"seconds": round(outcome["seconds"], 2),
                           **{k: str(v) for k, v in outcome["paths"].items()}}
            if not args.json:
                print(f"{name}: {outcome['seconds']:.1f} s → {outcome['paths']['png']}",
                      flush=True)
    if args.json:
        print(json.dumps({"variant": variant or "full", "figures": built}))
    return 0


def _list(registry, as_json: bool) -> int:
    figures = registry.FIGURES.values()
    if as_json:
        print(json.dumps([{"name": f.name, "shows": f.shows, "paper": f.paper,
                           "experiment": f.experiment, "cost_quick": f.cost_quick,
                           "cost_full": f.cost_full} for f in figures]))
        return 0
    width = max(len(f.name) for f in figures)
    for f in figures:
        names = f.experiment if isinstance(f.experiment, tuple) else (f.experiment,)
        files = ", ".join(f"{name}.toml" for name in names)
        print(f"{f.name:<{width}}  {f.paper}\n{'':<{width}}  {f.shows}\n{'':<{width}}  "
              f"experiment: {files}; quick {f.cost_quick}; full {f.cost_full}")
    return 0
