"""``homebound plot FILE``: a quick look at a stored result's trajectories (PNG or PDF)."""
from __future__ import annotations

NAME = "plot"


def add_parser(sub) -> None:
    parser = sub.add_parser(NAME, help="quick look at a stored run's trajectories",
                            description="Draw the losses, errors, feature learning, noise "
                                        "memorisation and parameter norm of a stored result "
                                        "(train --out or sweep.nc), one line per run.")
    parser.add_argument("file", metavar="FILE", help="a netCDF result (e.g. results/run.nc)")
    parser.add_argument("--out", metavar="PATH", help="image to write (.png or .pdf; default: "
                                                      "FILE with .png)")


def run(args) -> int:
    from figures.runplot import plot_file

    print(f"wrote {plot_file(args.file, args.out)}")
    return 0
