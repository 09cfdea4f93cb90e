"""One look for every figure: palette, fonts, sizes, axis helpers and the writer.

* Palette: Okabe & Ito's colour-blind-safe eight colours ("Color Universal Design", 2008),
  assigned to optimisers by name (:func:`colour`) so a method has one colour in every
  figure; line styles and markers double the colour code for greyscale prints.
* Heat maps: ``cividis`` (perceptually uniform and readable with colour-vision deficiency).
* Every axis is labelled with its quantity and unit (all the model's quantities are
  dimensionless: the unit is stated as "1" only where a reader could expect one, e.g. steps).
* :func:`save` writes ``NAME.png`` (150 dpi), ``NAME.pdf`` (vector, fonts embedded as
  TrueType) and the plotted data ``NAME.nc`` beside them, each atomically.
"""
from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402

from bounds.store import write_atomic  # noqa: E402

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
             "purple": "#CC79A7"}
CYCLE = ("blue", "vermillion", "green", "orange", "purple", "sky", "black", "yellow")
HEATMAP = "cividis"

#: Colour, line style and marker of each optimiser (or entry label prefix), fixed across figures.
METHODS = {
    "sgd": ("black", "-", "o"),
    "momentum": ("sky", "--", "v"),
    "signsgd": ("green", "-.", "^"),
    "adam": ("blue", "-", "s"),
    "adamw": ("vermillion", "-", "D"),
    "adam_srf": ("orange", "--", "P"),
    "homeadam-global": ("purple", "-", "X"),
    "homeadam-elementwise": ("green", ":", "*"),
    "invadam": ("orange", "--", "P"),
    "dualadam": ("purple", "-", "X"),
}

RC = {
    "figure.dpi": 100, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 9,
    "axes.labelsize": 9, "legend.fontsize": 7.5, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.alpha": 0.3, "grid.linewidth": 0.5, "lines.linewidth": 1.4, "lines.markersize": 4,
    "legend.frameon": False, "pdf.fonttype": 42, "ps.fonttype": 42,
    "savefig.bbox": "tight", "figure.constrained_layout.use": True,
    "axes.prop_cycle": matplotlib.cycler(color=[OKABE_ITO[c] for c in CYCLE]),
}

#: Axis labels (quantity, unit) used across figures.
LABELS = {
    "test_error": "test error (0-1, fraction)",
    "step": "training step t",
    "epoch": "epoch",
    "batch_size": "batch size B (samples)",
    "weight_decay": r"weight decay $\lambda$",
    "n": "training samples n",
}

WIDTH = 3.4  # inches: one column
WIDE = 7.0   # inches: two columns


def method_style(label: str) -> dict:
    """``color``, ``linestyle`` and ``marker`` of an optimiser or entry label (the longest
    registered prefix wins; unknown labels cycle through the palette)."""
    name = max((key for key in METHODS if label == key or label.startswith(key + ":")
                or label.startswith(key + "-")), key=len, default=None)
    if name is None:
        index = sum(map(ord, label)) % len(CYCLE)
        return {"color": OKABE_ITO[CYCLE[index]], "linestyle": "-", "marker": "o"}
    colour, linestyle, marker = METHODS[name]
    return {"color": OKABE_ITO[colour], "linestyle": linestyle, "marker": marker}


@contextlib.contextmanager
def styled():
    """Every figure is drawn inside this context (the project's rcParams)."""
    with plt.rc_context(RC):
        yield


def figure(ncols: int = 1, nrows: int = 1, width: float | None = None, height: float = 2.6,
           **kwargs):
    """A new figure and its axes array (always 2-D: ``axes[row, col]``)."""
    width = width or (WIDTH if ncols == 1 else WIDE)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height * nrows), squeeze=False,
                             **kwargs)
    return fig, axes


def caption(fig, text: str) -> None:
    """A caption under the axes (settings, regime, what was reduced), wrapped to the
    figure's width."""
    width = int(fig.get_figwidth() * 17)
    fig.supxlabel(textwrap.fill(text, width), fontsize=7, color="#444444")


def value_ticks(ax, values, axis: str = "x") -> None:
    """Major ticks at exactly ``values`` with plain labels, no minor labels (log axes over a
    few grid values otherwise crowd their minor labels)."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_ticks(list(values), [f"{v:g}" for v in values])
    target.set_minor_formatter(matplotlib.ticker.NullFormatter())


def log_axes(ax, x: bool = True, y: bool = True) -> None:
    if x:
        ax.set_xscale("log")
    if y:
        ax.set_yscale("log")


GALLERY_DPI = 55


def write_figure(fig, target: str | Path, dpi: float | None = None) -> Path:
    """Save ``fig`` at ``target`` (format from the suffix; ``dpi`` for raster formats, default
    ``savefig.dpi``) through a temporary file and a rename, with reproducible metadata."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    ext = target.suffix[1:]
    tmp = target.with_name(f".{target.stem}.tmp.{ext}")
    metadata = ({"Title": target.stem, "Creator": "homebound figures", "CreationDate": None}
                if ext == "pdf" else {"Software": "homebound figures"})
    fig.savefig(tmp, format=ext, metadata=metadata, **({"dpi": dpi} if dpi else {}))
    tmp.replace(target)
    return target


def save(fig, data: xr.Dataset, out: str | Path, name: str) -> dict[str, Path]:
    """Write ``out/name.png``, ``out/name.pdf`` and the plotted data ``out/name.nc``
    (atomically); close the figure. Returns the three paths."""
    out = Path(out)
    paths = {"nc": write_atomic(data, out / f"{name}.nc")}
    for ext in ("png", "pdf"):
        paths[ext] = write_figure(fig, out / f"{name}.{ext}")
    plt.close(fig)
    return paths
