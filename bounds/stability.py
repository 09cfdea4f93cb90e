"""SPEC §6: algorithmic stability on neighbouring data sets, on a grid of ``n``.

For every ``n`` of the grid, every compared optimiser (``bounds.optimizer_entries``) and
every pair ``k < K``:

1. ``S`` is drawn with seed ``seed + k`` (the base config's ``seed``; explicit stream seeds
   in the base are kept, so a stream can be pinned across pairs);
2. the replaced index ``i`` is drawn from that seed and ``n``;
3. ``S′`` is the same config with ``data.replace_index = i``: sample ``i`` replaced by an
   independent draw, everything else (other samples, test set, initialisation, batch-index
   sequence) bit-identical;
4. both runs train in lockstep (``simulate.pairs``); every pair of one ``n`` and every
   optimiser go through one batched numba call.

The number of steps ``T`` is the same at every ``n`` (the bounds are stated at fixed ``T``;
fixed epochs would grow ``T`` with ``n`` and hide the rate): a base given in ``train.epochs``
is converted to steps at the smallest ``n``, and ``steps_note`` says so. ``T/n`` and the
expected number of times the replaced sample is drawn, ``T·B/n``, are reported with every fit:
with batch-1 SGD the ``n^{-1}`` rate shows only when ``T/n ≲ 1``; when ``T/n ≫ 1`` the
effects of the many draws add up like a random walk and even SGD shows about ``n^{-1/2}``.

Quantities (at every logged step; fits use the last one, ``T``): ``delta_T`` =
``‖θ_T − θ′_T‖_F``; ``loss_gap`` = ``max_z |ℓ(θ_T; z) − ℓ(θ′_T; z)|`` over the held-out test
points (the empirical uniform-stability estimate) and ``loss_gap_mean`` its mean over the
points; ``gen_gap`` = test − train loss and ``error_gap`` = test − train 0-1 error of the run
on ``S``. A pair in which either run diverged is counted and left out of every fit.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
import xarray as xr

from simulate.config import RunConfig
from simulate.fields import ConfigError
from simulate.loading import load_config
from simulate.pairs import PairResult, train_pairs
from simulate.patches import slots
from simulate.metrics import METRICS
from theory import fit_constant, fit_power_law, generalization_bound, rate_verdict
from theory.scaling import MARGIN, MAX_WIDTH

from . import hardt
from .bound_link import BoundLink, bound_for
from .store import annotate
from .optimizer_entries import OptimizerEntry, parse_entries

#: Fitted quantities: dataset variable and, for per-run variables, the side used (``S``).
QUANTITIES = {
    "delta_T": "delta",
    "loss_gap": "loss_gap",
    "loss_gap_mean": "loss_gap_mean",
    "gen_gap": "gen_gap",
    "error_gap": "error_gap",
}
SIDES = ("S", "S_prime")
#: Stacked input arrays of one batched call are kept below this many bytes (pairs are split
#: into several calls above it).
MEMORY_BUDGET = 1024**3

#: CF attributes of the variables only a stability dataset has (the shared ones, ``step``,
#: ``epoch``, ``diverged_at``, come from ``bounds.store.ATTRIBUTES``).
VARIABLE_ATTRS = {
    "delta": ("distance between the two runs' parameters, ‖θ_t − θ′_t‖_F", "1"),
    "loss_gap": ("max over test points of |ℓ(θ_t; z) − ℓ(θ′_t; z)| (empirical uniform stability)",
                 "1"),
    "loss_gap_mean": ("mean over test points of |ℓ(θ_t; z) − ℓ(θ′_t; z)|", "1"),
    "gen_gap": ("generalisation gap, test − train logistic loss", "1"),
    "error_gap": ("test − train 0-1 error", "1"),
    "diverged": ("either run of the pair diverged (the pair is left out of fits)", "1"),
    "replaced_index": ("index of the training sample replaced in S′", "1"),
    "pair_seed": ("seed of the pair's data set S (and its other random streams)", "1"),
    "steps_over_n": ("T/n, steps per training sample", "1"),
    "draws_per_pair": ("T·B/n, expected number of batches containing the replaced sample", "1"),
    "rho_hat": ("ρ̂ = min_k v̂_k + ε averaged over the steps (Adam family)", "1"),
    "optimizer": ("compared optimiser (entry label)", None),
    "n": ("training-set size n", "1"),
    "pair": ("coupled pair k", "1"),
    "side": ("which run of the pair: S or its neighbour S′", None),
}


@dataclass(frozen=True)
class Design:
    """A resolved stability experiment: one validated config per optimiser entry and ``n``
    (``T`` fixed), ready to be expanded into pairs."""

    source: str
    overrides: tuple
    entries: tuple
    n: tuple
    pairs: int
    steps: int
    steps_note: str
    replace: bool
    couple_batch_order: bool
    configs: dict  # (label, n) -> RunConfig

    @property
    def base(self) -> RunConfig:
        """The config of the first optimiser at the smallest ``n``."""
        return self.configs[(self.entries[0].label, self.n[0])]


def _grid(n: Iterable[int]) -> tuple:
    values = [int(v) if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else v
              for v in n]
    bad = [v for v in values if not isinstance(v, int) or v < 2]
    if bad:
        raise ConfigError(f"--n {bad[0]}: every n must be an integer ≥ 2")
    if len(set(values)) != len(values):
        raise ConfigError(f"--n {','.join(map(str, values))}: the values must be distinct")
    if len(values) < 2:
        raise ConfigError(f"--n {','.join(map(str, values))}: give at least 2 values of n to "
                          "fit a rate")
    return tuple(sorted(values))


def design(config: str = "convex", optimizers: str | Iterable[str] = ("sgd",),
           n: Iterable[int] = (50, 100, 200, 400, 800), pairs: int = 32,
           overrides: Sequence[str] = (), replace_sample: bool = True,
           couple_batch_order: bool = True) -> Design:
    """Validate every grid point of the experiment before anything runs (``ConfigError``
    naming the point and the key)."""
    grid = _grid(n)
    if isinstance(pairs, bool) or not isinstance(pairs, int) or pairs < 2:
        raise ConfigError(f"--pairs {pairs}: must be an integer ≥ 2 (the bootstrap resamples "
                          "pairs)")
    entries = tuple(parse_entries(optimizers))
    first = _load(config, overrides, entries[0], grid[0], None)
    if first.data.replace_index is not None:
        raise ConfigError("data.replace_index: set by the stability experiment for S′; remove it "
                          "from the base config")
    steps = first.total_steps
    steps_note = (f"train.epochs = {first.train.epochs} converted to T = {steps} steps at the "
                  f"smallest n = {grid[0]} and held fixed across the grid"
                  if first.train.epochs is not None else f"T = {steps} steps at every n")
    configs = {(entry.label, size): _load(config, overrides, entry, size, steps)
               for entry in entries for size in grid}
    return Design(config, tuple(overrides), entries, grid, pairs, steps, steps_note,
                  replace_sample, couple_batch_order, configs)


def _load(source, overrides, entry: OptimizerEntry, n: int, steps: Optional[int]) -> RunConfig:
    settings = [*overrides, *entry.settings(), f"data.n={n}"]
    if steps is not None:
        settings.append(f"train.steps={steps}")
    try:
        return load_config(source, settings)
    except ConfigError as err:
        raise ConfigError(f"n = {n}, optimizer {entry.label}: {err}") from None


def replaced_index(seed: int, n: int) -> int:
    """The index ``i < n`` that pair seed ``seed`` replaces (drawn, not chosen)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, n, 0x1D])))
    return int(rng.integers(0, n))


def pair_configs(config: RunConfig, seed: int, replace_sample: bool = True,
                 couple_batch_order: bool = True) -> tuple[RunConfig, RunConfig]:
    """``(config on S, config on S′)`` for pair seed ``seed``. ``replace_sample = False`` gives
    ``S′ = S``; ``couple_batch_order = False`` gives ``S′`` an independent batch order."""
    first = config.with_seed(seed)
    second = first
    if replace_sample:
        index = replaced_index(seed, config.data.n)
        second = replace(second, data=replace(second.data, replace_index=index))
    if not couple_batch_order:
        independent = np.random.SeedSequence([first.stream_seed("batch"), 0xBA7C4])
        second = replace(second, batch_seed=int(independent.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return first, second


def _bytes_per_run(config: RunConfig) -> int:
    """Rough size of one run's stacked inputs: train and test patches as the kernels read
    them, the training noise (for memorisation), parameters and optimiser state, logs."""
    data = config.data
    width = slots(data) * 12 or data.d * 8
    patches = (data.n + data.n_test) * data.patches * width
    noise = data.n * (data.patches - 1) * data.d * 8
    logs = config.log_steps().size * (data.n + 20) * 8
    return patches + noise + 40 * data.d * config.model.m + logs


def _chunks(items: list, config: RunConfig) -> list[list]:
    size = max(2, MEMORY_BUDGET // (2 * _bytes_per_run(config)))
    return [items[i:i + size] for i in range(0, len(items), size)]


def run(config: str = "convex", optimizers: str | Iterable[str] = ("sgd",),
        n: Iterable[int] = (50, 100, 200, 400, 800), pairs: int = 32,
        overrides: Sequence[str] = (), *, replace_sample: bool = True,
        couple_batch_order: bool = True, progress: Callable[[int], None] | None = None
        ) -> "StabilityResult":
    """Run the experiment (see the module doc) and return its :class:`StabilityResult`.

    ``progress``, if given, is called with the number of training steps done (both runs of
    every pair counted) since its last call."""
    plan = design(config, optimizers, n, pairs, overrides, replace_sample, couple_batch_order)
    return execute(plan, progress)


def total_steps(plan: Design) -> int:
    """Training steps the experiment runs (both runs of every pair)."""
    return 2 * plan.steps * plan.pairs * len(plan.entries) * len(plan.n)


def execute(plan: Design, progress: Callable[[int], None] | None = None) -> "StabilityResult":
    """Train every pair of ``plan``; one batched call per ``n`` (split only to bound memory)."""
    started = time.perf_counter()
    base_seed = plan.base.seed
    results: dict = {}
    seconds = {}
    for size in plan.n:
        t0 = time.perf_counter()
        cells = [(entry.label, k) for entry in plan.entries for k in range(plan.pairs)]
        pairs = [pair_configs(plan.configs[(label, size)], base_seed + k, plan.replace,
                              plan.couple_batch_order) for label, k in cells]
        done = []
        for chunk in _chunks(pairs, plan.configs[cells[0][0], size]):
            done.extend(train_pairs(chunk, progress))
        results.update({(label, size, k): pair for (label, k), pair in zip(cells, done)})
        seconds[size] = time.perf_counter() - t0
    dataset = build_dataset(plan, results)
    return StabilityResult(plan, dataset, time.perf_counter() - started, seconds)


def _on_grid(result_steps, values, grid) -> np.ndarray:
    """``values`` logged at ``result_steps`` placed on the step ``grid`` (NaN elsewhere)."""
    out = np.full(grid.size, np.nan)
    where = np.searchsorted(grid, result_steps)
    hit = (where < grid.size) & (grid[np.minimum(where, grid.size - 1)] == result_steps)
    out[where[hit]] = values[hit]
    return out


def _rho_hat(run) -> float:
    """ρ̂ = min v̂ + ε averaged over the steps, for the Adam family (NaN otherwise)."""
    means = run.diagnostic_means()
    if "rho_hat" in means:
        return means["rho_hat"]
    if "v_hat_min" in means:
        return means["v_hat_min"] + run.config.optimizer.hyper.eps
    return math.nan


def build_dataset(plan: Design, results: dict) -> xr.Dataset:
    """The experiment as a Dataset over optimizer × n × pair × step (× side for per-run
    variables), with CF ``long_name``/``units`` on every variable."""
    labels = [entry.label for entry in plan.entries]
    grid = plan.base.log_steps()
    O, N, K, L = len(labels), len(plan.n), plan.pairs, grid.size
    pair_vars = {name: np.full((O, N, K, L), np.nan) for name in ("delta", "loss_gap",
                                                                   "loss_gap_mean")}
    side_vars = {name: np.full((O, N, K, 2, L), np.nan) for name in ("gen_gap", "error_gap")}
    diag_names = sorted({name for (label, size, k), pair in results.items()
                         for name in pair.run.diagnostic_names})
    diags = {name: np.full((O, N, K, 2), np.nan) for name in (*diag_names, "rho_hat")}
    diverged = np.zeros((O, N, K), dtype=bool)
    diverged_at = np.full((O, N, K, 2), -1, dtype=np.int64)
    replaced = np.full((N, K), -1, dtype=np.int64)
    gap, test_err, train_err = (METRICS.index(k) for k in ("gap", "test_error", "train_error"))
    for (label, size, k), pair in results.items():
        o, ni = labels.index(label), plan.n.index(size)
        pair_vars["delta"][o, ni, k] = pair.delta
        pair_vars["loss_gap"][o, ni, k] = pair.loss_diff_max
        pair_vars["loss_gap_mean"][o, ni, k] = pair.loss_diff_mean
        diverged[o, ni, k] = pair.diverged
        index = pair.neighbour.config.data.replace_index
        replaced[ni, k] = -1 if index is None else index
        for side, run in enumerate((pair.run, pair.neighbour)):
            side_vars["gen_gap"][o, ni, k, side] = _on_grid(run.steps, run.metrics[:, gap], grid)
            side_vars["error_gap"][o, ni, k, side] = _on_grid(
                run.steps, run.metrics[:, test_err] - run.metrics[:, train_err], grid)
            diverged_at[o, ni, k, side] = -1 if run.diverged_at is None else run.diverged_at
            for name, value in run.diagnostic_means().items():
                diags[name][o, ni, k, side] = value
            diags["rho_hat"][o, ni, k, side] = _rho_hat(run)
    batch = np.array([plan.configs[(labels[0], size)].batch_size for size in plan.n])
    per_epoch = np.array([plan.configs[(labels[0], size)].steps_per_epoch for size in plan.n])
    n = np.array(plan.n)
    variables = {name: (("optimizer", "n", "pair", "step"), v) for name, v in pair_vars.items()}
    variables.update({name: (("optimizer", "n", "pair", "side", "step"), v)
                      for name, v in side_vars.items()})
    variables.update({(f"diag_{name}" if name != "rho_hat" else name):
                      (("optimizer", "n", "pair", "side"), v) for name, v in diags.items()})
    variables.update(
        diverged=(("optimizer", "n", "pair"), diverged),
        diverged_at=(("optimizer", "n", "pair", "side"), diverged_at),
        replaced_index=(("n", "pair"), replaced),
        pair_seed=(("pair",), plan.base.seed + np.arange(K)),
        steps_over_n=(("n",), plan.steps / n),
        draws_per_pair=(("n",), plan.steps * batch / n),
    )
    ds = xr.Dataset(variables, coords={
        "optimizer": labels, "n": n, "pair": np.arange(K), "step": grid, "side": list(SIDES),
        "epoch": (("n", "step"), grid[None, :] / per_epoch[:, None])})
    diagnostics = {f"diag_{name}": (f"optimiser diagnostic {name}, averaged over the steps", "1")
                   for name in diag_names}
    annotate(ds, extra={**VARIABLE_ATTRS, **diagnostics})
    ds.attrs.update(
        title="homebound stability experiment (SPEC §6)",
        config=json.dumps(plan.base.to_dict()),
        source_config=plan.source,
        overrides=json.dumps(list(plan.overrides)),
        optimizers=json.dumps({e.label: e.settings() for e in plan.entries}),
        steps=plan.steps,
        steps_note=plan.steps_note,
        replace_sample=int(plan.replace),
        couple_batch_order=int(plan.couple_batch_order),
    )
    return ds


@dataclass(frozen=True)
class StabilityFit:
    """One optimiser's fitted rate of one quantity in ``n``, against its bound."""

    optimizer: str
    quantity: str
    exponent: Optional[float]
    interval: Optional[tuple]
    theory_exponent: Optional[float]
    bound: BoundLink
    verdict: str
    means: dict  # n -> mean over the kept pairs
    stds: dict  # n -> standard deviation over the kept pairs
    kept_pairs: dict  # n -> pairs in the fit
    diverged_pairs: dict  # n -> pairs left out because a run diverged
    excluded: dict  # n -> why that n is not in the fit
    steps: int
    steps_over_n: dict
    draws_per_pair: dict
    margin: float
    max_width: float

    @property
    def fitted(self) -> bool:
        return self.exponent is not None

    def to_dict(self) -> dict:
        return {"exponent": self.exponent,
                "ci": None if self.interval is None else list(self.interval),
                "theory_exponent": self.theory_exponent, "verdict": self.verdict,
                "excluded": {str(k): v for k, v in self.excluded.items()},
                "diverged_pairs": list(self.diverged_pairs.values())}


@dataclass(frozen=True)
class StabilityResult:
    """The measured experiment: its design, the Dataset, and fits of its quantities."""

    design: Design
    dataset: xr.Dataset
    seconds: float
    seconds_per_n: dict

    def final(self, quantity: str) -> xr.DataArray:
        """``quantity`` at the last logged step ``T`` (per-run quantities: the run on ``S``)."""
        if quantity not in QUANTITIES:
            raise ConfigError(f"quantity = {quantity!r}: allowed: {', '.join(QUANTITIES)}")
        values = self.dataset[QUANTITIES[quantity]].isel(step=-1)
        return values.sel(side="S") if "side" in values.dims else values

    def fit(self, quantity: str = "delta_T", n_boot: int = 2000, margin: float = MARGIN,
            max_width: float = MAX_WIDTH, confidence: float = 0.95) -> dict:
        """``label -> StabilityFit``: ``log ȳ = a + b log n`` with a bootstrap interval over
        pairs (seeded by the base config's seed), the bound's exponent and the verdict."""
        values = self.final(quantity)
        ds = self.dataset
        out = {}
        for entry in self.design.entries:
            label = entry.label
            groups, diverged, kept, stds = {}, {}, {}, {}
            for size in self.design.n:
                cell = values.sel(optimizer=label, n=size).values
                bad = ds.diverged.sel(optimizer=label, n=size).values
                good = cell[~bad & np.isfinite(cell)]
                groups[size], diverged[size], kept[size] = good, int(bad.sum()), good.size
                stds[size] = float(good.std()) if good.size else math.nan
            power = fit_power_law(groups, confidence, n_boot, seed=self.design.base.seed)
            link = bound_for(self.design.configs[(label, self.design.n[0])])
            out[label] = StabilityFit(
                optimizer=label, quantity=quantity, exponent=power.exponent,
                interval=power.interval, theory_exponent=link.exponent, bound=link,
                verdict=rate_verdict(power.interval, link.exponent, margin, max_width),
                means={size: (float(groups[size].mean()) if groups[size].size else math.nan)
                       for size in self.design.n},
                stds=stds, kept_pairs=kept, diverged_pairs=diverged, excluded=power.excluded,
                steps=self.design.steps,
                steps_over_n=dict(zip(self.design.n, ds.steps_over_n.values.tolist())),
                draws_per_pair=dict(zip(self.design.n, ds.draws_per_pair.values.tolist())),
                margin=margin, max_width=max_width)
        return out

    def pairs_of(self, label: str) -> list[tuple[RunConfig, RunConfig]]:
        """The ``(S, S′)`` configs of every pair of one optimiser, over the whole grid."""
        plan = self.design
        return [pair_configs(plan.configs[(label, size)], plan.base.seed + k, plan.replace,
                             plan.couple_batch_order)
                for size in plan.n for k in range(plan.pairs)]

    def hardt(self, label: str) -> hardt.HardtCheck:
        """Hardt et al.'s convex bound evaluated with the experiment's Lipschitz constant (from
        its data), step sizes and ``T``, beside the measured mean ``loss_gap`` at every ``n``."""
        plan = self.design
        configs = {size: plan.configs[(label, size)] for size in plan.n}
        if not hardt.applies(configs[plan.n[0]]):
            return hardt.evaluate(label, configs, math.nan, {})
        lipschitz = hardt.lipschitz_constant([c for pair in self.pairs_of(label) for c in pair])
        means = self.fit("loss_gap", n_boot=1)[label].means
        return hardt.evaluate(label, configs, lipschitz, means)

    def calibration(self, label: str, quantity: str = "loss_gap") -> dict:
        """The bound's constant fitted on the smaller half of ``n`` and tested on the rest
        (``theory.fit_constant``); for plain SGD on the linear network every constant is
        known (Hardt et al.: ``L`` from the data, the steps) and the bound is evaluated.
        An unidentifiable bound (several unknown constants) is reported with its error."""
        link = bound_for(self.design.configs[(label, self.design.n[0])])
        if link.record is None:
            return {"error": link.note}
        means = self.fit(quantity, n_boot=1)[label].means
        points = {n: v for n, v in means.items() if np.isfinite(v) and v > 0}
        subs = {"T": self.design.steps}
        if link.record == "sgd_convex" and hardt.applies(self.design.configs[(label, self.design.n[0])]):
            check = self.hardt(label)
            subs.update(L=check.lipschitz, alpha=check.step_sum / self.design.steps)
        try:
            result = fit_constant(generalization_bound(link.record), points, subs=subs)
        except ValueError as err:
            return {"error": str(err)}
        return {"bound": link.record, "mode": result.mode, "constants": result.constants,
                "verdict": result.verdict, "ratios": list(result.ratios),
                "log_errors": list(result.log_errors)}

    def home_share(self) -> dict:
        """``label -> mean home share`` over every run and step (HomeAdam entries only)."""
        if "diag_home_share" not in self.dataset:
            return {}
        share = self.dataset.diag_home_share.mean(dim=("n", "pair", "side"))
        return {label: float(share.sel(optimizer=label)) for label in share.optimizer.values
                if np.isfinite(share.sel(optimizer=label))}

    def warnings(self) -> list[str]:
        """Cautions: HomeAdam entries that never took an adaptive step, diverged pairs."""
        out = []
        if "diag_home_share" in self.dataset:
            for label in self.dataset.optimizer.values:
                share = self.dataset.diag_home_share.sel(optimizer=label).values
                if np.isfinite(share).any() and np.all(share[np.isfinite(share)] == 1.0):
                    out.append(f"{label}: every run went home at every step (no adaptive step "
                               "was taken): it measured momentum SGD")
        diverged = self.dataset.diverged.sum(dim=("n", "pair"))
        for label in self.dataset.optimizer.values:
            count = int(diverged.sel(optimizer=label))
            if count:
                out.append(f"{label}: {count} diverged pair(s), left out of the fits")
        return out

    def report(self, n_boot: int = 2000) -> dict:
        """The JSON object of ``homebound stability --json`` (lists are per ``n``)."""
        fits = {q: self.fit(q, n_boot) for q in ("delta_T", "loss_gap")}
        shares = self.home_share()
        optimizers = {}
        for entry in self.design.entries:
            label = entry.label
            item = {}
            for quantity in ("delta_T", "loss_gap", "loss_gap_mean", "gen_gap", "error_gap"):
                cell = self.final(quantity).sel(optimizer=label)
                kept = ~self.dataset.diverged.sel(optimizer=label)
                item[quantity] = {
                    "mean": [float(cell.sel(n=s).values[kept.sel(n=s).values].mean())
                             if kept.sel(n=s).any() else math.nan for s in self.design.n],
                    "std": [float(cell.sel(n=s).values[kept.sel(n=s).values].std())
                            if kept.sel(n=s).any() else math.nan for s in self.design.n]}
            main = fits["delta_T"][label]
            item["fit"] = {q: fits[q][label].to_dict() for q in fits}
            item["theory_exponent"] = main.theory_exponent
            item["bound"] = main.bound.record
            item["bound_note"] = main.bound.note
            item["verdict"] = main.verdict
            item["diverged_pairs"] = list(main.diverged_pairs.values())
            if label in shares:
                item["home_share"] = shares[label]
            optimizers[label] = item
        ds = self.dataset
        return {"config": self.design.base.to_dict(), "n": list(self.design.n),
                "steps": self.design.steps, "steps_note": self.design.steps_note,
                "steps_over_n": ds.steps_over_n.values.tolist(),
                "draws_per_pair": ds.draws_per_pair.values.tolist(),
                "pairs": self.design.pairs, "optimizers": optimizers,
                "verdict_rule": {"margin": MARGIN, "max_width": MAX_WIDTH},
                "warnings": self.warnings(), "seconds": self.seconds}
