"""Benign vs harmful overfitting on the dense model (SPEC §1b): test error heat maps with the
theory's boundary overlaid, its constant ``C`` fitted to the measured cells.

* Kou, Chen, Chen, Gu 2023 (ReLU, label noise ``p``): benign when ``n‖μ‖⁴ ≥ C·d·σ_p⁴`` (test
  error near ``p``), harmful when ``n‖μ‖⁴ ≤ C'·d·σ_p⁴`` (test error ``≥ p + 0.1``). Experiment
  ``kou2023-heatmap.toml``: the released setting (the ``kou2023`` preset) over ``(‖μ‖, d)``.
* Cao, Chen, Belkin, Gu 2022 (``q > 2``): benign when ``n·SNR^q ≥ C``, harmful when
  ``n^{-1}·SNR^{-q} ≥ C'``. Experiment ``cao2022-phase.toml``: over ``(n, ‖μ‖)`` with
  ``SNR = ‖μ‖/(σ_p√d)``, ``q = 3``.

The boundary fit (:func:`fit_boundary`): each cell's mean test error over seeds labels it
harmful when it is at least ``threshold`` (Kou: ``p + 0.1``, the paper's harmful statement;
Cao: 0.1); ``C`` is the value of the cell score (``n‖μ‖⁴/(dσ_p⁴)`` or ``n·SNR^q``) that
misclassifies the fewest cells by the rule "benign iff score ≥ C" (the geometric midpoint of
the two neighbouring scores; ties: the smallest such C). The fraction misclassified is
reported with C: a one-parameter boundary of the theory's shape, not a proof of it.
"""
from __future__ import annotations


import numpy as np
import xarray as xr

from . import style
from .common import describe, first_config, plain, seeds_text


def fit_boundary(score: np.ndarray, harmful: np.ndarray) -> tuple[float, float]:
    """``(C, fraction misclassified)`` of the rule "benign iff score ≥ C" (module doc)."""
    score, harmful = np.ravel(score).astype(float), np.ravel(harmful).astype(bool)
    positive = np.unique(score[score > 0])
    if positive.size == 0:
        return float("nan"), float(harmful.mean() < 1)
    cuts = np.concatenate([[positive[0] / 2], np.sqrt(positive[1:] * positive[:-1]),
                           [positive[-1] * 2]])
    errors = [np.mean((score >= c) == harmful) for c in cuts]
    best = int(np.argmin(errors))
    return float(cuts[best]), float(errors[best])


def cell_edges(centres: np.ndarray, log: bool = False) -> np.ndarray:
    """Edges of heat-map cells around sorted ``centres``: midpoints (geometric on a log
    axis), the outer edges mirrored."""
    x = np.log(centres) if log else np.asarray(centres, dtype=float)
    if x.size == 1:
        edges = np.array([x[0] - 0.5, x[0] + 0.5])
    else:
        middle = (x[1:] + x[:-1]) / 2
        edges = np.concatenate([[2 * x[0] - middle[0]], middle, [2 * x[-1] - middle[-1]]])
    return np.exp(edges) if log else edges


# ---- kou2023-heatmap ----------------------------------------------------------------------
def kou_data(results) -> xr.Dataset:
    ds = results.sweep
    data = plain(ds, ["final_test_error", "final_train_error"])
    config = first_config(ds)
    n, sigma_p, p = config["data"]["n"], config["data"]["sigma_p"], config["data"]["label_noise"]
    mu, d = np.meshgrid(data.mu_norm.values, data.d.values, indexing="ij")
    score = n * mu**4 / (d * sigma_p**4)
    mean = data.final_test_error.mean("seed").transpose("mu_norm", "d").values
    threshold = p + 0.1
    measured = np.isfinite(mean)  # a --stored-only build may lack cells
    C, wrong = fit_boundary(score[measured], mean[measured] >= threshold)
    data["score"] = (("mu_norm", "d"), score, {"long_name": "n |mu|^4 / (d sigma_p^4)", "units": "1"})
    data.attrs.update(describe(results, n=n, sigma_p=sigma_p, label_noise=p, threshold=threshold,
                               C=C, misclassified=wrong, cells_missing=int((~measured).sum())))
    return data


def kou_draw(data: xr.Dataset):
    fig, axes = style.figure(width=style.WIDTH + 0.6, height=3.0)
    ax = axes[0, 0]
    mean = data.final_test_error.mean("seed").transpose("mu_norm", "d")
    d_edges, mu_edges = (np.clip(cell_edges(data[k].values), 0, None) for k in ("d", "mu_norm"))
    mesh = ax.pcolormesh(d_edges, mu_edges, mean.values,
                         cmap=style.HEATMAP, vmin=0, vmax=0.5, gid="heatmap")
    fig.colorbar(mesh, ax=ax, label="test error (mean over seeds)")
    a = data.attrs
    d = np.linspace(d_edges[0], d_edges[-1], 200)
    boundary = (a["C"] * d * a["sigma_p"] ** 4 / a["n"]) ** 0.25
    ax.plot(d, boundary, color="white", linestyle="--", linewidth=1.6, gid="boundary",
            label=rf"$n\|\mu\|^4 = C\,d\,\sigma_p^4$, C = {a['C']:.3g}")
    ax.set_xlabel("dimension d")
    ax.set_ylabel(r"signal strength $\|\mu\|$")
    ax.set_ylim(mu_edges[0], mu_edges[-1])
    ax.set_xlim(d_edges[0], d_edges[-1])
    ax.legend(loc="upper left", labelcolor="white")
    ax.set_title("Kou et al. 2023: benign vs harmful overfitting")
    style.caption(fig, f"released setting: n = {a['n']}, σ_p = {a['sigma_p']:g}, p = "
                       f"{a['label_noise']:g} on train and test labels, GD η = 0.1, 100 steps; "
                       f"{seeds_text(data)} per cell; C fitted with harmful ⇔ error ≥ "
                       f"{a['threshold']:g} ({100 * a['misclassified']:.1f}% of cells "
                       f"misclassified); {a['variant']} size.")
    return fig


# ---- cao2022-phase -------------------------------------------------------------------------
def cao_data(results) -> xr.Dataset:
    ds = results.sweep
    data = plain(ds, ["final_test_error", "final_train_error"])
    config = first_config(ds)
    d, sigma_p, q = config["data"]["d"], config["data"]["sigma_p"], config["model"]["q"]
    data = data.assign_coords(snr=("mu_norm", data.mu_norm.values / (sigma_p * np.sqrt(d))))
    data["snr"].attrs.update(long_name="signal-to-noise ratio |mu|/(sigma_p sqrt(d))", units="1")
    n, snr = np.meshgrid(data.n.values, data.snr.values, indexing="ij")
    score = n * snr**q
    mean = data.final_test_error.mean("seed").transpose("n", "mu_norm").values
    threshold = 0.1
    measured = np.isfinite(mean)
    C, wrong = fit_boundary(score[measured], mean[measured] >= threshold)
    data["score"] = (("n", "mu_norm"), score, {"long_name": "n SNR^q", "units": "1"})
    data.attrs.update(describe(results, d=d, sigma_p=sigma_p, q=q, threshold=threshold, C=C,
                               misclassified=wrong, cells_missing=int((~measured).sum()),
                               steps=config["train"]["steps"],
                               lr=config["optimizer"]["lr"]))
    return data


def cao_draw(data: xr.Dataset):
    fig, axes = style.figure(width=style.WIDTH + 0.6, height=3.0)
    ax = axes[0, 0]
    mean = data.final_test_error.mean("seed").transpose("mu_norm", "n")
    mesh = ax.pcolormesh(cell_edges(data.n.values, log=True), cell_edges(data.snr.values, log=True),
                         mean.values, cmap=style.HEATMAP, vmin=0, vmax=0.5, gid="heatmap")
    style.log_axes(ax)
    style.value_ticks(ax, data.n.values)
    style.value_ticks(ax, np.round(data.snr.values, 3), "y")
    fig.colorbar(mesh, ax=ax, label="test error (mean over seeds)")
    a = data.attrs
    n = np.geomspace(*cell_edges(data.n.values, log=True)[[0, -1]], 200)
    ax.plot(n, (a["C"] / n) ** (1 / a["q"]), color="white", linestyle="--", linewidth=1.6,
            gid="boundary", label=rf"$n\,\mathrm{{SNR}}^{{{a['q']:g}}} = C$, C = {a['C']:.3g}")
    ax.set_xlabel(style.LABELS["n"])
    ax.set_ylabel(r"SNR $= \|\mu\| / (\sigma_p\sqrt{d})$")
    ax.set_ylim(*cell_edges(data.snr.values, log=True)[[0, -1]])
    ax.legend(loc="upper right", labelcolor="white")
    ax.set_title(f"Cao et al. 2022: phase diagram, q = {a['q']:g}")
    style.caption(fig, f"d = {a['d']}, σ_p = {a['sigma_p']:g}, GD η = {a['lr']:g}, "
                       f"{a['steps']} steps, output scale 1/m; {seeds_text(data)} per cell; C "
                       f"fitted with harmful ⇔ error ≥ {a['threshold']:g} "
                       f"({100 * a['misclassified']:.1f}% misclassified); {a['variant']} size.")
    return fig
