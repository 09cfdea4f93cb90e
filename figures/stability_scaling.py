"""Algorithmic stability against ``n`` (SPEC §6, §7): ``δ_T = ‖θ_T − θ′_T‖_F`` and the loss
gap ``max_z |ℓ(θ_T; z) − ℓ(θ′_T; z)|`` on neighbouring data sets, log–log, for SGD, momentum
SGD, Adam, Adam-srf and HomeAdam (both rules), at fixed ``T``.

Each optimiser's bound (``bounds.bound_link``: Hardt et al.'s ``N^{-1}`` for SGD, ``N^{-1/2}``
for Adam, ``N^{-1}`` at fixed ``T`` for Adam-srf and HomeAdam) is drawn as a dashed line of
its slope through the centre of the data (the point ``(exp mean log n, exp mean log ȳ)``);
the fitted exponent and its 95 % bootstrap interval (``bounds.stability``, pairs resampled
within each ``n``) are in the legend, ``T/n`` in the caption. Experiment
``stability-scaling.toml`` (a stability file).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from . import style
from .common import describe

QUANTITIES = (("delta_T", r"$\delta_T = \|\theta_T - \theta'_T\|_F$"),
              ("loss_gap", r"$\max_z |\ell(\theta_T;z) - \ell(\theta'_T;z)|$ (nat)"))


def scaling_data(results) -> xr.Dataset:
    """Per quantity × optimiser × n: mean and standard deviation over the kept pairs; per
    quantity × optimiser: the fitted exponent, its interval, the bound's exponent and the
    anchor point of the bound's line."""
    (label, result), = results.stability.items()
    plan = result.design
    labels = [entry.label for entry in plan.entries]
    n = np.array(plan.n)
    Q, O, N = len(QUANTITIES), len(labels), n.size
    mean, std = np.full((Q, O, N), np.nan), np.full((Q, O, N), np.nan)
    kept = np.zeros((Q, O, N), int)
    fit_values = {k: np.full((Q, O), np.nan) for k in ("exponent", "ci_low", "ci_high", "theory_exponent",
                                                       "anchor_n", "anchor_value")}
    for qi, (quantity, _) in enumerate(QUANTITIES):
        fits = result.fit(quantity)
        for oi, name in enumerate(labels):
            fit = fits[name]
            mean[qi, oi] = [fit.means[s] for s in plan.n]
            std[qi, oi] = [fit.stds[s] for s in plan.n]
            kept[qi, oi] = [fit.kept_pairs[s] for s in plan.n]
            if fit.fitted:
                fit_values["exponent"][qi, oi] = fit.exponent
                fit_values["ci_low"][qi, oi], fit_values["ci_high"][qi, oi] = fit.interval
            if fit.theory_exponent is not None:
                fit_values["theory_exponent"][qi, oi] = fit.theory_exponent
            good = np.isfinite(mean[qi, oi]) & (mean[qi, oi] > 0)
            if good.any():
                fit_values["anchor_n"][qi, oi] = np.exp(np.log(n[good]).mean())
                fit_values["anchor_value"][qi, oi] = np.exp(np.log(mean[qi, oi][good]).mean())
    dims = ("quantity", "optimizer", "n")
    data = xr.Dataset(
        {"mean": (dims, mean, {"long_name": "mean over kept pairs", "units": "1"}),
         "std": (dims, std, {"long_name": "standard deviation over kept pairs", "units": "1"}),
         "kept_pairs": (dims, kept, {"long_name": "pairs in the fit (diverged left out)", "units": "1"}),
         **{k: (dims[:2], v, {"long_name": k.replace("_", " "), "units": "1"})
            for k, v in fit_values.items()},
         "steps_over_n": ("n", plan.steps / n, {"long_name": "T/n", "units": "1"})},
        coords={"quantity": [q for q, _ in QUANTITIES], "optimizer": labels, "n": n})
    data.attrs.update(describe(results, steps=plan.steps, pairs=plan.pairs,
                               batch_size=plan.base.batch_size, base_config=plan.source,
                               steps_note=plan.steps_note))
    return data


def short_label(entry: str) -> str:
    """An entry label without its hyperparameters (``adam:lr=1e-3`` → ``adam``)."""
    return entry.split(":")[0]


def scaling_draw(data: xr.Dataset):
    fig, axes = style.figure(nrows=2, width=style.WIDE, height=2.5)
    n = data.n.values
    for qi, (quantity, label) in enumerate(QUANTITIES):
        ax = axes[qi, 0]
        for name in data.optimizer.values:
            cell = data.sel(quantity=quantity, optimizer=name)
            s = style.method_style(str(name))
            text = short_label(str(name))
            if np.isfinite(cell.exponent):
                text += (f": {float(cell.exponent):+.2f} [{float(cell.ci_low):+.2f}, "
                         f"{float(cell.ci_high):+.2f}]")
            sem = cell["std"].values / np.sqrt(np.maximum(cell.kept_pairs.values, 1))
            low = np.minimum(sem, 0.9 * cell["mean"].values)  # a log axis: stop above zero
            ax.errorbar(n, cell["mean"].values, yerr=[low, sem], color=s["color"],
                        marker=s["marker"], linestyle="-", linewidth=1, capsize=2,
                        label=text, gid=f"data:{name}")
            if np.isfinite(cell.theory_exponent) and np.isfinite(cell.anchor_n):
                slope = float(cell.theory_exponent)
                ax.plot(n, float(cell.anchor_value) * (n / float(cell.anchor_n)) ** slope,
                        color=s["color"], linestyle=":", linewidth=1, gid=f"bound:{name}")
        style.log_axes(ax)
        style.value_ticks(ax, n)
        ax.set_xlabel(style.LABELS["n"])
        ax.set_ylabel(label)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6.5,
                  title="fitted exponent in n [95% CI]", title_fontsize=7)
        ax.set_title("δ_T vs n" if quantity == "delta_T" else "loss gap vs n", loc="left")
    theory = {str(o): float(data.theory_exponent.sel(quantity="delta_T", optimizer=o))
              for o in data.optimizer.values}
    slopes = ", ".join(sorted({f"{v:+.1f}" for v in theory.values() if np.isfinite(v)}))
    a = data.attrs
    ratios = data.steps_over_n.values
    fig.suptitle("Stability on neighbouring data sets: measured rates vs the bounds")
    style.caption(fig, f"T = {a['steps']} steps at every n, B = {a['batch_size']}, T/n = "
                       f"{ratios.max():.3g} … {ratios.min():.3g}; {a['pairs']} pairs per n "
                       f"(bars: ±1 standard error of the mean, cut at 0.9·mean below); dotted: "
                       f"each bound's slope ({slopes}) through the "
                       f"data's centre. Base config '{a['base_config']}', entries "
                       f"{', '.join(map(str, data.optimizer.values))}; {a['variant']} size.")
    return fig
