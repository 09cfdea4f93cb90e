"""``homebound plot FILE``: a quick look at the trajectories of a stored result (a run or
replicates from ``homebound train --out``, or a sweep's ``sweep.nc``): losses, 0-1 errors,
feature learning and noise memorisation, and the parameter norm, one line per run (every
dimension other than the trajectory axis is a run; at most :data:`MAX_LINES` are drawn)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from bounds.store import load
from simulate.fields import ConfigError

from . import style

MAX_LINES = 24
PANELS = ((("train_loss", "train"), ("test_loss", "test")), (("train_error", "train"),
          ("test_error", "test")), (("feature_pos", "feature j=+1"), ("feature_neg", "feature j=−1"),
          ("noise_mean", "noise (mean)")), (("weight_norm", "‖θ‖_F"),))
YLABELS = ("logistic loss (nat)", "0-1 error (fraction)", "⟨w, v⟩ and ⟨w, ξ⟩", "parameter norm")
AXES = ("step", "fraction")


def open_result(path: str | Path) -> xr.Dataset:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"plot {path}: file not found")
    try:
        ds = load(path)
    except (OSError, ValueError) as err:
        raise ConfigError(f"plot {path}: not a netCDF result ({err})") from None
    if not any(axis in ds.dims for axis in AXES) or "train_loss" not in ds:
        raise ConfigError(f"plot {path}: no trajectories (needs train_loss over step or fraction)")
    return ds


def runs(ds: xr.Dataset) -> tuple[np.ndarray, dict, list[str]]:
    """``(x, {variable: (runs, points)}, run labels)`` with every non-trajectory dimension
    stacked into runs (the trajectory's ``step`` values are the x axis, taken from the first
    run when they differ between runs)."""
    axis = next(a for a in AXES if a in ds.dims)
    names = [name for panel in PANELS for name, _ in panel if name in ds]
    others = [d for d in ds[names[0]].dims if d != axis]
    stacked = ds[names].stack(run=others) if others else ds[names].expand_dims(run=[0])
    stacked = stacked.transpose("run", axis)
    x = ds["step"] if "step" in ds.coords else ds[axis]
    x = x.values.reshape(-1, ds.sizes[axis])[0] if x.ndim > 1 else x.values
    labels = ([", ".join(f"{d}={v}" for d, v in zip(others, np.atleast_1d(k)))
               for k in stacked.run.values] if others else ["run"])
    return x, {n: stacked[n].values[:MAX_LINES] for n in names}, labels[:MAX_LINES]


def draw(ds: xr.Dataset, title: str):
    x, values, labels = runs(ds)
    fig, axes = style.figure(ncols=len(PANELS), width=style.WIDE + 1.5, height=2.5)
    for ax, panel, ylabel in zip(axes[0], PANELS, YLABELS):
        for (name, text), colour in zip(panel, style.CYCLE):
            if name not in values:
                continue
            for r, row in enumerate(values[name]):
                ax.plot(x, row, color=style.OKABE_ITO[colour], alpha=0.8 if len(labels) < 4 else 0.45,
                        linewidth=1.0, label=text if r == 0 else None, gid=f"{name}:{r}")
        ax.set_xlabel("training step t")
        ax.set_ylabel(ylabel)
        ax.legend(loc="best")
    axes[0, 0].set_yscale("log")
    fig.suptitle(title)
    style.caption(fig, f"{len(labels)} run(s): " + "; ".join(labels[:6])
                  + (" …" if len(labels) > 6 else ""))
    return fig


def plot_file(path: str | Path, out: str | Path | None = None) -> Path:
    """Draw ``path``'s trajectories into ``out`` (default: beside it, ``.png``)."""
    ds = open_result(path)
    target = Path(out) if out else Path(path).with_suffix(".png")
    if target.suffix not in (".png", ".pdf"):
        raise ConfigError(f"--out {target}: must end in .png or .pdf")
    with style.styled():
        fig = draw(ds, Path(path).name)
        style.write_figure(fig, target)
        style.plt.close(fig)
    return target
