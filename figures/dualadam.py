"""DualAdam and InvAdam (arXiv 2603.07122, authors' code; SPEC §4): DualAdam's mixing weight
``α_t = max(0, 1 − tξ)`` (the InvAdam share of the step, logged by the kernel) and the test
error over training of InvAdam, DualAdam and Adam from the same data and initialisation.
Experiment ``dualadam.toml``.
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from . import style
from .common import describe, plain, seed_band, seeds_text

NAMES = {"invadam": "InvAdam", "dualadam": "DualAdam", "adam": "Adam"}


def dual_data(results) -> xr.Dataset:
    ds = results.sweep
    data = plain(ds, ["test_error", "train_loss", "diag_alpha"])
    config = json.loads(str(ds.config.sel({"optimizer.name": "dualadam"}).values.ravel()[0]))
    data.attrs.update(describe(results, switch_rate=config["optimizer"]["switch_rate"],
                               lr=config["optimizer"]["lr"], n=config["data"]["n"],
                               d=config["data"]["d"], batch_size=config["train"]["batch_size"]))
    return data


def dual_draw(data: xr.Dataset):
    fig, axes = style.figure(ncols=3, height=2.6)
    step = data.step.values
    alpha = data.diag_alpha.sel(optimizer="dualadam").transpose("seed", ...).values
    seed_band(axes[0, 0], step[1:], alpha[:, 1:], "DualAdam", style_of="dualadam", marker=None)
    xi = data.attrs["switch_rate"]
    axes[0, 0].plot(step, np.maximum(0.0, 1.0 - step * xi), color="#555555", linestyle=":",
                    linewidth=1, label=r"$\max(0, 1 - t\xi)$", gid="schedule")
    axes[0, 0].set_ylabel(r"mixing weight $\alpha_t$ (window mean)")
    axes[0, 0].set_xlim(0, min(step[-1], 2.0 / xi) if xi > 0 else step[-1])
    axes[0, 0].legend(loc="upper right")
    for opt in data.optimizer.values:
        for ax, var in ((axes[0, 1], "test_error"), (axes[0, 2], "train_loss")):
            seed_band(ax, step, data[var].sel(optimizer=opt).transpose("seed", ...).values,
                      NAMES.get(str(opt), str(opt)), style_of=str(opt), marker=None)
    axes[0, 1].set_ylabel(style.LABELS["test_error"])
    axes[0, 1].set_ylim(-0.02, 1.02)
    axes[0, 2].set_ylabel("training loss (nat)")
    axes[0, 2].set_yscale("log")
    axes[0, 1].legend(loc="upper right")
    for ax in axes[0]:
        ax.set_xlabel(style.LABELS["step"])
    fig.suptitle("DualAdam: Adam mixed with InvAdam, α_t → 0")
    a = data.attrs
    style.caption(fig, f"ξ = {xi:g}, η = {a['lr']:g}, n = {a['n']}, d = {a['d']}, B = "
                       f"{a['batch_size']}; mean over {seeds_text(data)} (bands min–max); "
                       f"{a['variant']} size.")
    return fig
