"""HomeAdam's diagnostics (arXiv 2603.02649; the rule is a reconstruction, SPEC §4): ``ρ̂_t =
min_k v̂_{t,k} + ε``, the share of steps (global rule) or coordinates (element-wise rule) that
went home to momentum SGD, and the final full-batch gradient norm ``‖∇L_S(θ_T)‖`` against
``T`` with the convergence rate ``T^{-1/4}`` drawn through it, for HomeAdam (both rules),
Adam-srf and Adam, on a dense and a sparse setting.

On sparse data the coordinates that no sample touches keep ``v̂ = 0``, so ``ρ̂ = ε`` and the
global rule (``min v̂ ≥ τ``?) goes home at every step. Experiments: ``homeadam-rules.toml``
(HomeAdam over its two rules) and ``homeadam-baselines.toml`` (Adam-srf, Adam), identical
otherwise, each with ``measure = ["final_gradient_norm"]``.
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from . import style
from .common import describe, first_config, seed_band, seeds_text

EXPERIMENTS = ("homeadam-rules", "homeadam-baselines")


def _by_method(ds: xr.Dataset, axis: str, labels) -> xr.Dataset:
    """The sweep dataset with its method axis renamed ``optimizer`` and relabelled."""
    return ds.rename({axis: "optimizer"}).assign_coords(optimizer=list(labels))


def diagnostics_data(results) -> xr.Dataset:
    """``rho_hat`` and ``home_share`` trajectories of the longest runs, and the final
    gradient norms over ``T``, by method × setting × seed."""
    rules = results["homeadam-rules"].sweep
    baselines = results["homeadam-baselines"].sweep
    parts = [_by_method(rules, "optimizer.rule",
                        [f"homeadam-{r}" for r in rules["optimizer.rule"].values]),
             _by_method(baselines, "optimizer.name", baselines["optimizer.name"].values)]
    merged = []
    for part in parts:
        longest = part.sel({"train.steps": part["train.steps"].max()})
        eps = np.array([[json.loads(str(c))["optimizer"]["eps"] for c in row]
                        for row in longest.config.isel(seed=0).values])[..., None, None]
        rho = (longest["diag_rho_hat"] if "diag_rho_hat" in longest
               else longest["diag_v_hat_min"] + eps)
        share = longest["diag_home_share"] if "diag_home_share" in longest else rho * np.nan
        steps = longest.step.isel({d: 0 for d in longest.step.dims if d != "fraction"})
        merged.append(xr.Dataset({
            "rho_hat": rho.assign_attrs(long_name="rho_hat = min_k v_hat_k + eps, mean over "
                                                  "the steps since the previous row", units="1"),
            "home_share": share.assign_attrs(long_name="share of steps (global) or coordinates "
                                                       "(element-wise) that went home", units="1"),
            "grad_norm": part["final_gradient_norm"].rename({"train.steps": "T"}),
        }).drop_vars([c for c in ("step", "epoch") if c in longest.coords])
            .assign_coords(step=("fraction", steps.values)))
    data = xr.concat(merged, dim="optimizer").rename({"data.kind": "setting"})
    data = data.drop_vars([c for c in data.coords if c not in data.dims and c != "step"])
    config = first_config(rules)
    data.attrs.update(describe(results["homeadam-rules"], tau=config["optimizer"]["tau"],
                               n=config["data"]["n"], d=config["data"]["d"],
                               batch_size=config["train"]["batch_size"],
                               lr=config["optimizer"]["lr"]))
    data.attrs["experiment"] = ", ".join(EXPERIMENTS)
    return data


def diagnostics_draw(data: xr.Dataset):
    settings = data.setting.values
    fig, axes = style.figure(ncols=3, nrows=len(settings), height=2.3)
    steps = data.step.values
    for i, setting in enumerate(settings):
        cell = data.sel(setting=setting)
        ax_rho, ax_home, ax_grad = axes[i]
        for method in data.optimizer.values:
            m = cell.sel(optimizer=method)
            seed_band(ax_rho, steps[1:], m.rho_hat.transpose("seed", ...).values[:, 1:],
                      str(method), marker=None, band="lines")
            if np.isfinite(m.home_share).any():
                seed_band(ax_home, steps[1:], m.home_share.transpose("seed", ...).values[:, 1:],
                          str(method), marker=None)
            seed_band(ax_grad, data["T"].values, m.grad_norm.transpose("seed", ...).values,
                      str(method), band="lines")
        ax_rho.axhline(data.attrs["tau"], color="#555555", linestyle="--", linewidth=0.8)
        ax_rho.annotate(f"τ = {data.attrs['tau']:g}", (0.02, data.attrs["tau"]),
                        xycoords=("axes fraction", "data"), fontsize=7, va="bottom")
        ax_rho.set_yscale("log")
        ax_rho.set_ylabel(r"$\hat\rho_t = \min_k \hat v_{t,k} + \epsilon$")
        ax_home.set_ylabel("share that went home")
        ax_home.set_ylim(-0.03, 1.03)
        reference = cell.grad_norm.sel(optimizer=data.optimizer.values[0]).mean("seed").values
        T = data["T"].values.astype(float)
        if np.isfinite(reference[0]):
            ax_grad.plot(T, reference[0] * (T / T[0]) ** -0.25, color="#555555", linestyle=":",
                         label=r"$\propto T^{-1/4}$", gid="rate")
        style.log_axes(ax_grad)
        style.value_ticks(ax_grad, T[::2])
        ax_grad.set_ylabel(r"$\|\nabla L_S(\theta_T)\|$")
        ax_grad.set_xlabel("steps T")
        for ax in (ax_rho, ax_home):
            ax.set_xlabel(style.LABELS["step"])
        ax_rho.set_title(f"{setting} data", loc="left")
    handles, labels = axes[0, 2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=7)
    fig.suptitle("HomeAdam diagnostics (reconstructed rule): ρ̂_t, going home, convergence")
    a = data.attrs
    style.caption(fig, f"{_coinciding(data)}n = {a['n']}, d = {a['d']}, B = {a['batch_size']}, "
                       f"η = {a['lr']:g}, τ = {a['tau']:g}; trajectories of the longest run, "
                       f"mean over {seeds_text(data)} (faint: each seed; band: min–max); right: "
                       f"one run per T, its final full-batch gradient norm; {a['variant']} size.")
    return fig


def _coinciding(data: xr.Dataset) -> str:
    """A note naming, per setting, the optimisers whose gradient norms agree to 0.1 % at every
    T and seed (one line hides the other)."""
    names = [str(o) for o in data.optimizer.values]
    pairs = []
    for setting in data.setting.values:
        cell = data.grad_norm.sel(setting=setting)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                a, b = (cell.sel(optimizer=o).values for o in (first, second))
                if np.allclose(a, b, rtol=1e-3, equal_nan=True):
                    pairs.append(f"{setting}: {first} coincides with {second}")
    return "; ".join(pairs) + ("; " if pairs else "")
