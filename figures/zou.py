"""Zou, Cao, Li, Gu 2023: from the same initialisation, full-batch GD learns the feature while
full-batch Adam fits the feature noise (test error ≥ 1/2 − o(1)); with a convex objective and
weight decay every optimiser reaches the same solution (SPEC §7).

Experiment ``zou2023.toml``: the ``zou2023`` preset (Tang et al.'s sparse data, full batch);
one axis crosses GD and Adam, the other the CNN (ReLU^3) with the convex model (linear
activation, L2 weight decay). Same seed = same data and initialisation for both optimisers.
"""
from __future__ import annotations


import xarray as xr

from . import style
from .common import describe, first_config, plain, seed_band, seeds_text

NAMES = {"sgd": "GD", "adam": "Adam"}
CASES = {"relu": "CNN (ReLU³)", "linear": "convex (linear + L2)"}
PANELS = (("test_error", "test error", "0-1 error (fraction)"),
          ("feature", "feature learning", r"$\max_r\langle w_{j,r}, j v\rangle$, mean over j"),
          ("noise_mean", "noise memorisation", r"$\max_r\langle w_{y_i,r},\xi_i\rangle$, mean over i"))


def zou_data(results) -> xr.Dataset:
    """Test error, feature learning (mean of the two classes) and mean noise memorisation over
    training, by optimiser × case × seed; the final parameter norms and test losses, whose
    agreement in the convex case is the theorem's claim."""
    ds = results.sweep
    data = plain(ds, ["test_error", "noise_mean", "final_test_loss", "final_weight_norm",
                      "final_test_error", "final_train_loss"], ["optimizer.lr"])
    data = data.rename({"optimizer.lr": "lr"})
    data["feature"] = 0.5 * (ds.feature_pos + ds.feature_neg).rename(
        {k: v for k, v in {"optimizer.name": "optimizer", "model.activation": "activation"}.items()})
    data["feature"].attrs.update(long_name="feature learning, mean over j of max_r <w_{j,r}, j v>",
                                 units="1")
    config = first_config(ds)
    data.attrs.update(describe(results, n=config["data"]["n"], d=config["data"]["d"]))
    return data


def zou_draw(data: xr.Dataset):
    cases = data.activation.values
    fig, axes = style.figure(ncols=len(PANELS), nrows=len(cases), height=2.2)
    for i, case in enumerate(cases):
        cell = data.sel(activation=case)
        x = cell.epoch.values  # full batch: one step per epoch
        for j, (var, title, label) in enumerate(PANELS):
            ax = axes[i, j]
            for opt in data.optimizer.values:
                name = NAMES.get(str(opt), str(opt))
                lr = float(data.lr.sel(optimizer=opt))
                seed_band(ax, x, cell[var].sel(optimizer=opt).transpose("seed", ...).values,
                          f"{name} (η = {lr:g})", style_of=str(opt), marker=None)
            ax.set_ylabel(label, fontsize=7.5)
            ax.set_xlabel("step t (full batch)")
            ax.set_title(f"{CASES.get(str(case), str(case))}: {title}", fontsize=7.5)
            if var == "test_error":
                ax.set_ylim(-0.02, 1.02)
                ax.axhline(0.5, color="#888888", linewidth=0.6, linestyle=":")
        if str(case) == "linear":
            norms = [f"{NAMES.get(str(o), o)} {float(cell.final_weight_norm.sel(optimizer=o).mean()):.4f}"
                     for o in data.optimizer.values]
            axes[i, 0].annotate("final ‖W‖:\n" + "\n".join(norms), (0.95, 0.5),
                                xycoords="axes fraction", ha="right", fontsize=7)
    axes[0, -1].legend(loc="center right")
    fig.suptitle("Zou et al. 2023: full-batch GD vs Adam from the same initialisation")
    style.caption(fig, f"n = {data.attrs['n']}, d = {data.attrs['d']}, Tang et al.'s sparse data "
                       f"(SPEC §1a); mean over {seeds_text(data)}, bands min–max; "
                       f"{data.attrs['variant']} size.")
    return fig


def agreement(data: xr.Dataset) -> dict:
    """Per case: final test error, test loss and ‖W‖ of each optimiser (mean over seeds)."""
    out = {}
    for case in data.activation.values:
        cell = data.sel(activation=case)
        out[str(case)] = {str(o): {k: float(cell[f"final_{k}"].sel(optimizer=o).mean())
                                   for k in ("test_error", "test_loss", "weight_norm")}
                          for o in data.optimizer.values}
    return out
