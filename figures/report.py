"""The reproduction record, ``REPRODUCTIONS.md``: every published number the project
re-measures, the paper's value beside ours (mean, spread and seeds), the settings, and a
verdict in words. It is generated from the figures' data files (``OUT/NAME.nc``), so it says
exactly what was run: the variant (full, reduced or quick) and the effective experiment file.

Verdict rules (stated in the record):

* a value "matches" when our mean is within :data:`VALUE_TOLERANCE` of the paper's;
* a claim "test error ≥ 1/2 − o(1)" holds when our mean is ≥ 0.5 − :data:`HALF_MARGIN`, a
  claim "test error → 0" when it is ≤ :data:`ZERO_LEVEL`;
* the convex case "reaches the same solution" when the final parameter norms and test losses
  of GD and Adam differ by at most :data:`SAME_SOLUTION` relative;
* a phase boundary is reported with its fitted constant and the share of cells it
  misclassifies (:func:`figures.phase.fit_boundary`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import xarray as xr

from bounds.store import load, write_text_atomic
from simulate.fields import ConfigError

from .zou import agreement

VALUE_TOLERANCE = 0.05
HALF_MARGIN = 0.05
ZERO_LEVEL = 0.05
SAME_SOLUTION = 0.01


def _spread(values) -> str:
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "–"
    if values.size == 1:
        return f"{values[0]:.4f} (1 seed)"
    return (f"{values.mean():.4f} ± {values.std(ddof=1):.4f} (range {values.min():.4f}–"
            f"{values.max():.4f}, {values.size} seeds)")


def _seeds(data: xr.Dataset) -> str:
    count = data.sizes["seed"]
    return f"{count} seed{'s' if count != 1 else ''}"


def _settings(data: xr.Dataset) -> list[str]:
    return [f"Variant: **{data.attrs.get('variant', '?')}**. Effective experiment file "
            f"(`{data.attrs.get('experiment', '?')}`):", "", "```toml",
            str(data.attrs.get("experiment_file", "")).strip(), "```", ""]


def _open(out: Path, name: str) -> xr.Dataset | None:
    path = out / f"{name}.nc"
    return load(path) if path.exists() else None


def _claim(mean: float, batch: int) -> tuple[str, bool]:
    if batch == 2:
        return "test error → 0 (Thm 4.2/4.5)", mean <= ZERO_LEVEL
    return "test error ≥ 1/2 − o(1) (Thm 4.1/4.4)", mean >= 0.5 - HALF_MARGIN


def tang_section(data: xr.Dataset) -> list[str]:
    lines = ["## Tang et al. 2025, synthetic Tables 1–2 (figure `tang2025-table`)", "",
             "| optimiser | λ | B | paper | ours: mean ± s.d. (range, seeds) | verdict |",
             "|---|---|---|---|---|---|"]
    for opt in data.optimizer.values:
        decay = float(data.weight_decay.sel(optimizer=opt))
        for batch in data.batch_size.values:
            values = data.final_test_error.sel(optimizer=opt, batch_size=batch).values
            paper = float(data.paper_test_error.sel(optimizer=opt, batch_size=batch))
            finished = values[np.isfinite(values)]
            mean = float(finished.mean()) if finished.size else np.nan
            claim, holds = _claim(mean, int(batch))
            if not finished.size:
                verdict = "not measured: no run of this row had finished"
            elif abs(mean - paper) <= VALUE_TOLERANCE:
                verdict = f"matches the paper's value (within {VALUE_TOLERANCE})"
            elif holds:
                verdict = f"value differs from the paper's; the claim {claim} holds"
            else:
                verdict = f"**not reproduced**: neither the value nor the claim {claim}"
            lines.append(f"| {opt} | {decay:g} | {int(batch)} | {paper:g} | {_spread(values)} | "
                         f"{verdict} |")
    train = data.final_train_error.values
    missing = int(data.attrs.get("runs_missing", 0))
    if missing:
        lines += ["", f"**{missing} of {data.final_test_error.size} runs had not finished** when "
                      "this record was written (drawn with `--stored-only`); they are left out "
                      "above (the seed counts say how many runs each row holds)."]
    lines += ["", f"Training error at the end: max {np.nanmax(train):.4f} over every run "
                  "(all runs fit their training set)." if np.nanmax(train) < 0.01 else
              f"Training error at the end: up to {np.nanmax(train):.4f}.", ""]
    return lines + _settings(data)


def zou_section(data: xr.Dataset) -> list[str]:
    outcome = agreement(data)
    lines = ["## Zou et al. 2023, full-batch GD vs Adam (figure `zou2023`)", ""]
    relu = outcome.get("relu")
    if relu:
        gd, adam = data.final_test_error.sel(activation="relu", optimizer="sgd").values, \
            data.final_test_error.sel(activation="relu", optimizer="adam").values
        holds = np.nanmean(gd) <= ZERO_LEVEL and np.nanmean(adam) >= 0.5 - HALF_MARGIN
        lines += ["Paper (Thm, non-convex CNN): from the same initialisation GD reaches test "
                  "error → 0 and Adam test error ≥ 1/2 − o(1) (no number is published for the "
                  "synthetic setting).", "",
                  "| model | optimiser | final test error | final test loss | final ‖W‖ |",
                  "|---|---|---|---|---|",
                  f"| ReLU³ CNN | GD | {_spread(gd)} | {relu['sgd']['test_loss']:.4f} | "
                  f"{relu['sgd']['weight_norm']:.4f} |",
                  f"| ReLU³ CNN | Adam | {_spread(adam)} | {relu['adam']['test_loss']:.4f} | "
                  f"{relu['adam']['weight_norm']:.4f} |", "",
                  f"Verdict: {'reproduced' if holds else '**not reproduced**'} (required: GD "
                  f"mean ≤ {ZERO_LEVEL} and Adam mean ≥ {0.5 - HALF_MARGIN}; measured "
                  f"{np.nanmean(gd):.4f} and {np.nanmean(adam):.4f}).", ""]
    convex = outcome.get("linear")
    if convex:
        gd, adam = convex["sgd"], convex["adam"]
        rel = {k: abs(gd[k] - adam[k]) / max(abs(gd[k]), 1e-12) for k in ("weight_norm", "test_loss")}
        same = all(v <= SAME_SOLUTION for v in rel.values())
        lines += ["Convex case (linear activation + L2): GD and Adam reach the same solution.",
                  "", "| optimiser | final test error | final test loss | final ‖W‖ |",
                  "|---|---|---|---|",
                  f"| GD | {gd['test_error']:.4f} | {gd['test_loss']:.5f} | {gd['weight_norm']:.5f} |",
                  f"| Adam | {adam['test_error']:.4f} | {adam['test_loss']:.5f} | "
                  f"{adam['weight_norm']:.5f} |", "",
                  f"Verdict: {'reproduced' if same else '**not reproduced**'}: relative "
                  f"differences ‖W‖ {rel['weight_norm']:.2e}, test loss {rel['test_loss']:.2e} "
                  f"(≤ {SAME_SOLUTION} required; means over seeds).", ""]
    return lines + _settings(data)


def kou_section(data: xr.Dataset) -> list[str]:
    mean = data.final_test_error.mean("seed")
    a = data.attrs
    p = a["label_noise"]
    benign = mean.where(data.score >= a["C"])
    harmful = mean.where(data.score < a["C"])
    zero = mean.sel(mu_norm=data.mu_norm.values.min())
    return ["## Kou et al. 2023, benign vs harmful overfitting heat map (figure "
            "`kou2023-heatmap`)", "",
            f"Paper: test error near p = {p:g} where n‖μ‖⁴ ≥ C·d·σ_p⁴, and ≥ p + 0.1 where "
            "n‖μ‖⁴ ≤ C'·d·σ_p⁴ (their heat map over ‖μ‖ × d; no constant is published).", "",
            "| measured | value |", "|---|---|",
            f"| fitted C (harmful ⇔ mean error ≥ {a['threshold']:g}) | {a['C']:.4g} |",
            f"| cells misclassified by the fitted boundary | {100 * a['misclassified']:.1f}% of "
            f"{mean.size - a.get('cells_missing', 0)} measured (of {mean.size}) |",
            f"| mean test error, cells on the benign side | {float(benign.mean()):.4f} "
            f"(range {float(benign.min()):.4f}–{float(benign.max()):.4f}) |",
            f"| mean test error, cells on the harmful side | {float(harmful.mean()):.4f} |",
            f"| mean test error at ‖μ‖ = {float(data.mu_norm.min()):g} (labels independent of "
            f"the input) | {float(zero.mean()):.4f} |", "",
            f"Verdict: a boundary of the theory's shape separates the cells with "
            f"{100 * (1 - a['misclassified']):.1f}% agreement; the benign side's error "
            f"{'sits near' if abs(float(benign.mean()) - p) <= 0.1 else 'is not near'} p = "
            f"{p:g}; the harmful side's mean error "
            f"{'is' if float(harmful.mean()) >= p + 0.1 else 'is not'} ≥ p + 0.1. "
            f"{_seeds(data)} per cell; the agreement is in-sample (C is fitted on these "
            "cells).", ""] + _settings(data)


def cao_section(data: xr.Dataset) -> list[str]:
    mean = data.final_test_error.mean("seed")
    a = data.attrs
    benign = mean.where(data.score >= a["C"])
    harmful = mean.where(data.score < a["C"])
    return ["## Cao et al. 2022, phase boundary n·SNR^q = C (figure `cao2022-phase`)", "",
            f"Paper: benign overfitting (test error → 0) when n·SNR^q ≥ C, harmful when "
            f"n^-1·SNR^-q ≥ C' (q > 2; no constant is published). Here q = {a['q']:g}.", "",
            "| measured | value |", "|---|---|",
            f"| fitted C (harmful ⇔ mean error ≥ {a['threshold']:g}) | {a['C']:.4g} |",
            f"| cells misclassified by the fitted boundary | {100 * a['misclassified']:.1f}% of "
            f"{mean.size - a.get('cells_missing', 0)} measured (of {mean.size}) |",
            f"| mean test error, benign side | {float(benign.mean()):.4f} |",
            f"| mean test error, harmful side | {float(harmful.mean()):.4f} |", "",
            f"Verdict: a boundary n·SNR^{a['q']:g} = C separates the cells with "
            f"{100 * (1 - a['misclassified']):.1f}% agreement, in-sample (C is fitted on these "
            f"cells); {_seeds(data)} per cell.",
            ""] + _settings(data)


def batch_section(data: xr.Dataset) -> list[str]:
    mean = data.final_test_error.mean("seed")
    batches = data.batch_size.values
    lines = ["## Tang et al. 2025, test error vs batch size (figure `tang2025-batch`)", "",
             "Paper (Thm 4.1/4.2, 4.4/4.5; Fig. 1 on CIFAR-10): mini-batch Adam(W) generalises, "
             "large-batch Adam(W) does not. No synthetic numbers are published for this sweep.",
             "", "| optimiser | " + " | ".join(f"B = {b}" for b in batches) + " |",
             "|---|" + "---|" * len(batches)]
    for opt in data.optimizer.values:
        lines.append(f"| {opt} | " + " | ".join(f"{float(mean.sel(optimizer=opt, batch_size=b)):.4f}"
                                               for b in batches) + " |")
    return lines + ["", f"Mean final test error over {_seeds(data)}."] + [""] + _settings(data)


def decay_section(data: xr.Dataset) -> list[str]:
    mean = data.final_test_error.mean("seed")
    decays = data.weight_decay.values
    a = data.attrs
    lines = ["## Tang et al. 2025, test error vs weight decay (figure `tang2025-decay`)", "",
             f"Paper (Cor. 4.3/4.6): Adam with λ = ω(σ_0^(q−2)) (here σ_0^(q−2) = "
             f"{a['adam_scale']:g}) does not train; AdamW tolerates λ up to the scale B²/n ∧ 1 "
             f"(here {a['adamw_scale']:g}; a reading of a garbled formula). Constants unknown.",
             "", "| optimiser | " + " | ".join(f"λ = {w:g}" for w in decays) + " |",
             "|---|" + "---|" * len(decays)]
    for opt in data.optimizer.values:
        lines.append(f"| {opt} | " + " | ".join(f"{float(mean.sel(optimizer=opt, weight_decay=w)):.4f}"
                                               for w in decays) + " |")
    return lines + ["", f"Mean final test error over {_seeds(data)}, B = "
                        f"{a['batch_size']}."] + [""] + _settings(data)


SECTIONS = (("tang2025-table", tang_section), ("zou2023", zou_section),
            ("kou2023-heatmap", kou_section), ("cao2022-phase", cao_section),
            ("tang2025-batch", batch_section), ("tang2025-decay", decay_section))


def render(outs: Sequence[str | Path]) -> str:
    """The record from the data files in each directory of ``outs`` (a section per figure
    and directory holding its data file, in that order: e.g. a reduced build beside a
    partial full-size one)."""
    outs = [Path(out) for out in outs]
    where = ", ".join(f"`{out}/NAME.nc`" for out in outs)
    lines = ["# Reproductions", "",
             f"Generated by `homebound figures --report` from the figures' data files ({where}); "
             "do not edit by hand. Each section gives the paper's value, ours (mean ± sample "
             "s.d., range and seeds), the settings that were run (the variant and the effective "
             "experiment file; the full-size settings are in `figures/experiments/`) and a "
             "verdict. Rules: a value *matches* within "
             f"{VALUE_TOLERANCE}; \"≥ 1/2 − o(1)\" holds at ≥ {0.5 - HALF_MARGIN}; \"→ 0\" at "
             f"≤ {ZERO_LEVEL}; the convex case agrees at ≤ {SAME_SOLUTION} relative difference.",
             ""]
    for name, section in SECTIONS:
        found = [data for data in (_open(out, name) for out in outs) if data is not None]
        if not found:
            lines += [f"## {name}", "", f"Not built: no `{name}.nc` in {where}.", ""]
        for data in found:
            heading, *rest = section(data)
            lines += [f"{heading}, {data.attrs.get('variant', '?')} size", *rest]
    return "\n".join(lines).rstrip() + "\n"


def write_report(outs: Sequence[str | Path], path: str | Path = "REPRODUCTIONS.md") -> Path:
    """Write the record to ``path`` (atomically); a source directory that does not exist or
    holds none of the reported figures' data files is refused (ConfigError) before anything
    is written, so a mistyped ``--from`` cannot replace a record with an empty one."""
    for out in map(Path, outs):
        if not out.is_dir():
            raise ConfigError(f"--from {out}: not a directory")
        if not any((out / f"{name}.nc").exists() for name, _ in SECTIONS):
            raise ConfigError(f"--from {out}: holds no figure data file "
                              f"({', '.join(f'{name}.nc' for name, _ in SECTIONS)})")
    return write_text_atomic(render(outs), path)
