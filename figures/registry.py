"""The registry of figures: what each shows, from which paper, from which shipped experiment
file, and what it costs; :func:`build` runs a figure's experiment through ``bounds``
(resumably, :mod:`figures.results`) and draws it; :func:`redraw` draws it again from the data
file written beside it, without running anything.

Costs are wall times on the project's 2-core machine: quick from one ``homebound figures
--quick`` build of every figure on a quiet machine with a warm numba cache (46 s in all,
2026-12-02); full for the full-size experiment file, or what is said (measured while 3–4
other agents were running, load ~10).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from bounds.store import load
from simulate.fields import ConfigError

from . import dualadam, homeadam, phase, stability_scaling, style, tang, zou
from .results import obtain


@dataclass(frozen=True)
class Figure:
    name: str
    shows: str
    paper: str
    experiment: str | tuple  # one experiment file, or several (their results by name)
    cost_quick: str
    cost_full: str
    data: Callable
    draw: Callable


FIGURES = {f.name: f for f in (
    Figure("tang2025-table", "test error of Adam (λ=1e-5) and AdamW (λ=0.01) at B=100 vs B=2, "
           "bars with seeds, beside the paper's values", "Tang et al. 2025, Tables 1–2",
           "tang2025", "5.7 s",
           "B=2 is 10^6 steps per run, and Adam at B=2 slows from 9k to ~480 steps/s after "
           "~5·10^4 steps (weights fall to 1e-220: likely subnormal arithmetic): ~35 min a run, "
           "> 3 h for the six here (--reduced, 10^3 epochs: 50 min)", tang.table_data,
           tang.table_draw),
    Figure("tang2025-dynamics", "feature learning and noise memorisation over training for the "
           "four runs of tang2025-table, one panel each", "Tang et al. 2025, Figs 3–4",
           "tang2025", "shares tang2025-table's runs", "shares tang2025-table's runs",
           tang.dynamics_data, tang.dynamics_draw),
    Figure("tang2025-batch", "test error vs batch size for Adam, AdamW, SignSGD and SGD",
           "Tang et al. 2025, Fig. 1 (synthetic counterpart)", "tang2025-batch", "5.5 s",
           "~6 h at 10^4 epochs (out of reach here; --reduced, 300 epochs: 4 min)",
           tang.batch_data, tang.batch_draw),
    Figure("tang2025-decay", "test error vs weight decay λ for Adam and AdamW at B = 10",
           "Tang et al. 2025, Fig. 2, Cor. 4.3/4.6", "tang2025-decay", "3.4 s",
           "~2 h at 10^4 epochs (--reduced, 10^3 epochs: 24 min)", tang.decay_data, tang.decay_draw),
    Figure("zou2023", "full-batch GD vs full-batch Adam from one initialisation: test error, "
           "feature learning, noise memorisation; and the convex case where both agree",
           "Zou et al. 2023", "zou2023", "3.8 s", "6 min", zou.zou_data, zou.zou_draw),
    Figure("kou2023-heatmap", "test error over (‖μ‖, d) with the released setting and the "
           "boundary n‖μ‖⁴ = C d σ_p⁴, C fitted", "Kou et al. 2023", "kou2023-heatmap", "1.6 s",
           "~3 h for the paper's 100×100×10 grid (--reduced, 20×12×3: 11 min)", phase.kou_data,
           phase.kou_draw),
    Figure("cao2022-phase", "test error over (n, SNR) for q = 3 and the boundary n·SNR^q = C, "
           "C fitted", "Cao et al. 2022", "cao2022-phase", "5.3 s",
           "> 1 h here (--reduced, n ≤ 200, 1000 steps: 4.5 min)",
           phase.cao_data, phase.cao_draw),
    Figure("stability-scaling", "δ_T and the loss gap vs n, log–log, for SGD, momentum SGD, "
           "Adam, Adam-srf and HomeAdam (both rules), with each bound's slope and the fitted "
           "exponents", "HomeAdam (arXiv 2603.02649); Hardt et al. 2016", "stability-scaling",
           "7.5 s", "13 min", stability_scaling.scaling_data, stability_scaling.scaling_draw),
    Figure("homeadam-diagnostics", "ρ̂_t, the share that went home and ‖∇L‖ vs T against "
           "T^(-1/4), for HomeAdam (both rules), Adam-srf and Adam on dense and sparse data",
           "HomeAdam (arXiv 2603.02649)", homeadam.EXPERIMENTS, "6.2 s", "5 min",
           homeadam.diagnostics_data, homeadam.diagnostics_draw),
    Figure("dualadam", "the α_t schedule and test error over training for InvAdam, DualAdam and "
           "Adam", "DualAdam/InvAdam (arXiv 2603.07122)", "dualadam", "1.4 s", "3 min",
           dualadam.dual_data, dualadam.dual_draw),
)}


def get(name: str) -> Figure:
    if name not in FIGURES:
        raise ConfigError(f"figure {name!r}: unknown; allowed: {', '.join(FIGURES)}")
    return FIGURES[name]


def build(name: str, out: str | Path, variant: str | None = None,
          overrides: Sequence[str] = (), executor=None, sources: dict | None = None,
          stored_only: bool = False) -> dict:
    """Run (or resume) the figure's experiment into ``OUT/runs/…``, extract the plotted data
    and write ``OUT/NAME.{png,pdf,nc}``. ``sources`` maps experiment names to other files
    to use instead of the shipped ones (tests use tiny ones); ``stored_only`` runs nothing and
    draws what the store holds. Returns the paths and the wall time in seconds."""
    figure = get(name)
    started = time.perf_counter()
    names = figure.experiment if isinstance(figure.experiment, tuple) else (figure.experiment,)
    results = {experiment: obtain(experiment, out, variant, overrides, executor,
                                  (sources or {}).get(experiment), stored_only)
               for experiment in names}
    data = figure.data(results if isinstance(figure.experiment, tuple) else results[names[0]])
    data.attrs["figure"] = name
    data.attrs["paper"] = figure.paper
    with style.styled():
        paths = style.save(figure.draw(data), data, out, name)
    return {"paths": paths, "seconds": time.perf_counter() - started}


def redraw(name: str, out: str | Path, gallery: str | Path | None = None) -> dict:
    """Draw ``OUT/NAME.png/pdf`` again from ``OUT/NAME.nc`` (nothing is run); with
    ``gallery``, write only a small PNG ``GALLERY/NAME.png`` instead (the README's gallery)."""
    figure = get(name)
    path = Path(out) / f"{name}.nc"
    if not path.exists():
        raise ConfigError(f"--redraw: {path} not found (build the figure first)")
    data = load(path)
    with style.styled():
        fig = figure.draw(data)
        if gallery is not None:
            target = style.write_figure(fig, Path(gallery) / f"{name}.png", style.GALLERY_DPI)
            style.plt.close(fig)
            return {"paths": {"png": target}, "seconds": 0.0}
        return {"paths": style.save(fig, data, out, name), "seconds": 0.0}
