"""Tang, Zhang, Cao, Zou 2025 (stochastic Adam): the synthetic Tables 1–2, the feature-learning
and noise-memorisation dynamics (their Figs 3–4), test error against batch size (the synthetic
counterpart of their Fig. 1) and against weight decay (their Fig. 2, Cor. 4.3/4.6).

Settings (SPEC §1a): their App. D.2 data and network, the ``tang2025`` preset; experiment files
``tang2025.toml``, ``tang2025-batch.toml`` and ``tang2025-decay.toml``.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from . import style
from .common import describe, first_config, plain, seed_band, seeds_text

#: The paper's synthetic Tables 1–2 (SPEC §7): test error by optimiser and batch size.
PAPER_TABLE = {("adam", 100): 0.9545, ("adam", 2): 0.0, ("adamw", 100): 0.5485, ("adamw", 2): 0.0}
PAPER_LAMBDA = {"adam": 1e-5, "adamw": 0.01}
NAMES = {"adam": "Adam", "adamw": "AdamW", "signsgd": "SignSGD", "sgd": "SGD"}


def _settings(ds: xr.Dataset) -> str:
    """A short line of the run settings shared by every cell (from the first run)."""
    config = first_config(ds)
    data, train = config["data"], config["train"]
    length = (f"{train['epochs']} epochs" if "epochs" in train else f"T = {train['steps']} steps")
    return (f"n = {data['n']}, d = {data['d']}, s = {data['s']}, σ_p = {data['sigma_p']:g}, "
            f"α = {data['alpha']:g}, n_test = {data['n_test']}, η = {config['optimizer']['lr']:g}, "
            f"{length}")


# ---- tang2025-table ---------------------------------------------------------------------
def table_data(results) -> xr.Dataset:
    """Final test and training error of the four runs (optimizer × batch size × seed) and the
    paper's values."""
    ds = results.sweep
    data = plain(ds, ["final_test_error", "final_train_error"], ["optimizer.weight_decay"])
    data = data.rename({"optimizer.weight_decay": "weight_decay"})
    paper = np.array([[PAPER_TABLE.get((str(o), int(b)), np.nan) for b in data.batch_size.values]
                      for o in data.optimizer.values])
    data["paper_test_error"] = (("optimizer", "batch_size"), paper,
                                {"long_name": "test error reported by Tang et al. 2025, "
                                              "Tables 1-2", "units": "1"})
    data.attrs.update(describe(results, settings=_settings(ds),
                               runs_missing=int(np.isnan(data.final_test_error.values).sum())))
    return data


def table_draw(data: xr.Dataset):
    fig, axes = style.figure(width=style.WIDTH + 0.4, height=2.8)
    ax = axes[0, 0]
    batches = data.batch_size.values
    width = 0.8 / len(batches)
    for k, batch in enumerate(batches):
        for o, opt in enumerate(data.optimizer.values):
            values = data.final_test_error.sel(optimizer=opt, batch_size=batch).values
            values = values[np.isfinite(values)]
            x = o + (k - (len(batches) - 1) / 2) * width
            colour = style.method_style(str(opt))["color"]
            mean = float(values.mean()) if values.size else np.nan
            ax.bar(x, mean, width * 0.9, color=colour, alpha=1.0 if batch != 2 else 0.45,
                   edgecolor=colour, gid=f"bar:{opt}:{batch}",
                   label=f"B = {batch}" if o == 0 else None)
            ax.plot(np.full(values.size, x), values, "o", color="black", markersize=2.5,
                    gid=f"seeds:{opt}:{batch}")
            paper = float(data.paper_test_error.sel(optimizer=opt, batch_size=batch))
            ax.plot([x - width * 0.45, x + width * 0.45], [paper, paper], color="black",
                    linewidth=2, linestyle="-", gid=f"paper:{opt}:{batch}",
                    label="paper" if (o == 0 and k == 0) else None)
            if values.size:
                ax.annotate(f"{mean:.2f}", (x, mean), textcoords="offset points",
                            xytext=(0, 3), ha="center", fontsize=6.5)
    ax.set_xticks(range(data.optimizer.size),
                  [f"{NAMES.get(str(o), o)}\nλ = {float(w):g}" for o, w in
                   zip(data.optimizer.values, data.weight_decay.values)])
    ax.set_ylabel(style.LABELS["test_error"])
    ax.set_ylim(0, 1.05)
    ax.axhline(0.5, color="#888888", linewidth=0.6, linestyle=":")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Tang et al. 2025, synthetic Tables 1–2:\nlarge batch vs mini-batch")
    missing = data.attrs.get("runs_missing", 0)
    style.caption(fig, f"bars: mean over {seeds_text(data)} (dots: each seed"
                       + (f"; {missing} runs not finished, left out" if missing else "")
                       + f"); black ticks: the paper's values. {data.attrs['settings']}; "
                       f"{data.attrs['variant']} size.")
    return fig


# ---- tang2025-dynamics -----------------------------------------------------------------
def dynamics_data(results) -> xr.Dataset:
    """Feature learning (both classes), mean noise memorisation and test error over training
    for the four runs."""
    ds = results.sweep
    data = plain(ds, ["feature_pos", "feature_neg", "noise_mean", "test_error"],
                 ["optimizer.weight_decay"]).rename({"optimizer.weight_decay": "weight_decay"})
    data.attrs.update(describe(results, settings=_settings(ds)))
    return data


def dynamics_draw(data: xr.Dataset):
    opts, batches = data.optimizer.values, data.batch_size.values
    fig, axes = style.figure(ncols=len(batches), nrows=len(opts), height=2.2, sharey="row")
    epoch = data.epoch.values
    for i, opt in enumerate(opts):
        for k, batch in enumerate(batches):
            ax = axes[i, k]
            cell = data.sel(optimizer=opt, batch_size=batch)
            for var, label, colour in (("feature_pos", "feature, j = +1", "blue"),
                                       ("feature_neg", "feature, j = −1", "sky"),
                                       ("noise_mean", "noise memorisation (mean over i)",
                                        "vermillion")):
                seed_band(ax, epoch, cell[var].values, label, color=style.OKABE_ITO[colour],
                          linestyle="-" if var != "feature_neg" else "--", marker=None)
            ax.set_title(f"{NAMES.get(str(opt), opt)} (λ = {float(cell.weight_decay):g}), B = {batch}")
            ax.set_xlabel(style.LABELS["epoch"])
            twin = ax.twinx()
            twin.plot(epoch, cell.test_error.mean("seed").values, color="#666666", linewidth=0.9,
                      linestyle=":", gid="test_error", label="test error (right axis)")
            twin.set_ylim(0, 1)
            twin.grid(False)
            if k == len(batches) - 1:
                twin.set_ylabel("test error (dotted)")
            else:
                twin.set_yticklabels([])
            if i == 0 and k == 0:
                handles = ax.get_legend_handles_labels()
                extra = twin.get_legend_handles_labels()
                ax.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left")
        axes[i, 0].set_ylabel(r"$\langle w, v\rangle$, $\langle w, \xi\rangle$")
    fig.suptitle("Tang et al. 2025, Figs 3–4 (synthetic): feature learning vs noise memorisation")
    style.caption(fig, f"lines: mean over {seeds_text(data)}, bands: min–max; "
                       f"{data.attrs['settings']}; {data.attrs['variant']} size.")
    return fig


def _error_panel(data: xr.Dataset, x: str):
    """One panel of final test error against the sweep axis ``x`` (log scale), a line per
    optimiser with its seed band; returns ``(fig, ax)``."""
    fig, axes = style.figure(width=style.WIDTH + 0.3, height=2.8)
    ax = axes[0, 0]
    for opt in data.optimizer.values:
        seed_band(ax, data[x].values,
                  data.final_test_error.sel(optimizer=opt).transpose("seed", ...).values,
                  NAMES.get(str(opt), str(opt)), style_of=str(opt))
    ax.set_xscale("log")
    ax.set_ylabel(style.LABELS["test_error"])
    ax.set_ylim(-0.02, 1.02)
    return fig, ax


# ---- tang2025-batch ----------------------------------------------------------------------
def batch_data(results) -> xr.Dataset:
    """Final test error over optimiser × batch size × seed."""
    ds = results.sweep
    data = plain(ds, ["final_test_error", "final_train_error"])
    data.attrs.update(describe(results, settings=_settings(ds)))
    return data


def batch_draw(data: xr.Dataset):
    fig, ax = _error_panel(data, "batch_size")
    style.value_ticks(ax, data.batch_size.values)
    ax.set_xlabel(style.LABELS["batch_size"] + f"; n = {data.attrs['settings'].split(',')[0][4:]}")
    ax.axhline(0.5, color="#888888", linewidth=0.6, linestyle=":")
    ax.legend(loc="best")
    ax.set_title("Test error vs batch size (Tang et al. 2025, Fig. 1, synthetic)")
    style.caption(fig, f"mean over {seeds_text(data)}, bands min–max. Adam: coupled λ = 1e-5; "
                       f"AdamW: λ = 0.01; SGD η = 0.1. {data.attrs['settings']}; "
                       f"{data.attrs['variant']} size.")
    return fig


# ---- tang2025-decay ----------------------------------------------------------------------
def decay_data(results) -> xr.Dataset:
    """Final test error over optimiser × weight decay λ × seed (one batch size)."""
    ds = results.sweep
    data = plain(ds, ["final_test_error", "final_train_error"])
    config = first_config(ds)
    sigma0, q = config["model"]["sigma0"], config["model"]["q"]
    batch, n = config["train"]["batch_size"], config["data"]["n"]
    data.attrs.update(describe(results, settings=_settings(ds), batch_size=batch,
                               adam_scale=sigma0 ** (q - 2), adamw_scale=min(batch**2 / n, 1.0)))
    return data


def decay_draw(data: xr.Dataset):
    fig, ax = _error_panel(data, "weight_decay")
    for scale, opt, text in ((data.attrs["adam_scale"], "adam", r"$\sigma_0^{q-2}$"),
                             (data.attrs["adamw_scale"], "adamw", r"$B^2/n \wedge 1$")):
        ax.axvline(scale, color=style.method_style(opt)["color"], linestyle=":", linewidth=1)
        ax.annotate(text, (scale, 0.97), xycoords=("data", "axes fraction"), fontsize=7,
                    ha="right", va="top", rotation=90,
                    color=style.method_style(opt)["color"])
    ax.set_xlabel(style.LABELS["weight_decay"] + " (Adam: coupled; AdamW: decoupled)")
    ax.legend(loc="center left")
    ax.set_title(f"Test error vs weight decay, B = {data.attrs['batch_size']} "
                 "(Tang et al. 2025, Fig. 2, Cor. 4.3/4.6)")
    style.caption(fig, f"mean over {seeds_text(data)}, bands min–max. Dotted: the scales of the "
                       "'does not train' thresholds (constants unknown). "
                       f"{data.attrs['settings']}; {data.attrs['variant']} size.")
    return fig
