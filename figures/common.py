"""Helpers shared by the figure modules: sweep data in plain dimension names, seed spread,
and the attributes every figure's data file carries."""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .style import method_style

#: Short dimension names for the sweep axes the figures use (config key → name).
SHORT = {"optimizer.name": "optimizer", "train.batch_size": "batch_size",
         "optimizer.weight_decay": "weight_decay", "data.mu_norm": "mu_norm", "data.d": "d",
         "data.n": "n", "model.activation": "activation", "train.steps": "steps",
         "data.kind": "setting", "optimizer.rule": "rule", "optimizer.switch_rate": "switch_rate"}


def plain(ds: xr.Dataset, variables, extra_coords=()) -> xr.Dataset:
    """``variables`` of a sweep dataset with the axes renamed to :data:`SHORT` names and the
    zipped companion coordinates dropped (except ``extra_coords``)."""
    names = {k: v for k, v in SHORT.items() if k in ds.dims}
    picked = ds[list(variables)]
    keep = set(picked.dims) | set(extra_coords) | {"epoch", "step"}
    picked = picked.drop_vars([c for c in picked.coords if c not in keep])
    picked.attrs = {}
    return picked.rename(names)


def first_config(ds: xr.Dataset) -> dict:
    """The config of a sweep dataset's first run (the settings its cells share)."""
    return json.loads(str(ds.config.values.ravel()[0]))


def describe(results, **attrs) -> dict:
    """The attributes of a figure's data file: which experiment, which variant, its text."""
    return {"experiment": results.name, "variant": results.variant or "full",
            "experiment_file": results.text, **attrs}


def seed_band(ax, x, values: np.ndarray, label: str, style_of: str | None = None, band=True,
              **kwargs):
    """Mean over the first axis (seeds) as a line with markers, and the spread over seeds:
    ``band=True`` the min–max as a shaded band, ``band="lines"`` each seed as a faint thin
    line (for log axes, where a band down to a tiny seed would swamp the panel); returns
    the mean line (its ``ydata`` is the mean)."""
    values = np.asarray(values, dtype=float)
    style = {**method_style(style_of or label), **kwargs}
    mean = np.nanmean(values, axis=0) if values.ndim > 1 else values
    (line,) = ax.plot(x, mean, label=label, color=style["color"], linestyle=style["linestyle"],
                      marker=style.get("marker") if len(np.atleast_1d(x)) <= 30 else None,
                      gid="mean")
    if values.ndim > 1 and values.shape[0] > 1:
        if band == "lines":
            for row in values:
                ax.plot(x, row, color=style["color"], alpha=0.3, linewidth=0.6, gid="seed")
        elif band:
            ax.fill_between(x, np.nanmin(values, axis=0), np.nanmax(values, axis=0),
                            color=style["color"], alpha=0.18, linewidth=0)
    return line


def seeds_text(ds: xr.Dataset) -> str:
    seeds = ds["seed"].values.tolist()
    return f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}"
