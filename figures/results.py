"""A figure's stored results: its experiment file run through ``bounds``, resumably.

``figures`` runs nothing itself. :func:`obtain` resolves an experiment file (full size,
``quick`` or ``reduced``; see :mod:`figures.experiment`), writes the effective file to
``STORE/experiment.toml`` and then

* a sweep file: :func:`bounds.sweep.run_sweep` into ``STORE`` (resumable: runs already
  stored are not recomputed) and returns ``STORE/sweep.nc`` loaded;
* a stability file: :func:`bounds.stability.execute` per experiment, its dataset written to
  ``STORE/<experiment>.nc`` with the effective file in its ``experiment`` attribute; an
  existing file written from the same effective file is loaded instead of rerun.

A sweep's extra ``measure`` s (``final_gradient_norm``) are kept in
``STORE/<measure>.nc`` by run key (only runs missing there are measured) and added to the
loaded sweep dataset over its grid dims.

``STORE`` is ``OUT/runs/<experiment name>`` (``…-quick`` / ``…-reduced`` for the
reductions), so full-size and reduced results never mix.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import xarray as xr

from bounds import convergence, stability
from bounds.store import annotate, load, output_dir, write_atomic, write_text_atomic
from bounds.sweep import RunStore, expand, gather, parse_sweep, run_sweep
from simulate.fields import ConfigError
from simulate.loading import parse_override

from . import experiment as ex


class ExperimentFailed(RuntimeError):
    """Some runs of a figure's experiment raised (they are retried by the next build)."""


@dataclass(frozen=True)
class Results:
    """What a figure draws from: the loaded sweep dataset (``sweep``) or the stability
    results by experiment name (``stability``), plus the effective experiment text."""

    name: str
    variant: str | None
    text: str
    store: Path
    sweep: xr.Dataset | None = None
    stability: dict | None = None


def store_dir(out: str | Path, name: str, variant: str | None) -> Path:
    return Path(out) / "runs" / (name if variant is None else f"{name}-{variant}")


def effective_tree(name: str, variant: str | None, overrides: Sequence[str] = (),
                   path: str | Path | None = None) -> dict:
    """The resolved experiment ``name`` (or the file at ``path``), with ``--set`` style
    ``overrides`` laid over its ``[set]`` (sweep files only)."""
    source = ex.shipped_path(name) if path is None else Path(path)
    tree = ex.resolve(ex.read(source), variant, where=f"experiment {name}")
    if overrides:
        if ex.kind_of(tree) != ex.SWEEP:
            raise ConfigError(f"--set: experiment {name} is a stability file; --set applies to "
                              "sweep files only")
        for item in overrides:
            key, value = parse_override(item)
            tree.setdefault("set", {})[".".join(key)] = value
    return tree


def obtain(name: str, out: str | Path, variant: str | None = None,
           overrides: Sequence[str] = (), executor=None, path: str | Path | None = None,
           stored_only: bool = False) -> Results:
    """Run (or resume) experiment ``name`` into ``OUT/runs/…`` and load its results; with
    ``stored_only``, run nothing and gather what the store holds (runs not there are NaN,
    ``status`` missing), e.g. while a long build is still running."""
    source = ex.shipped_path(name) if path is None else Path(path)
    variant = ex.effective_variant(ex.read(source), variant)
    tree = effective_tree(name, variant, overrides, path)
    if ex.kind_of(tree) == ex.SWEEP:
        text = ex.sweep_text(tree)
        plan = expand(parse_sweep(text, f"experiment {name}", source.parent))
        store = output_dir(store_dir(out, name, variant))  # after every grid point is valid
        if stored_only:
            dataset = gather(plan, RunStore(store))
            for measure in ex.measures(tree):
                dataset[measure] = _measured(measure, plan, store, dataset, compute=False)
            return Results(name, variant, text, store, sweep=load_gathered(dataset))
        write_text_atomic(text, store / "experiment.toml")
        report = run_sweep(plan, store, executor)
        if report.failed_now or report.failed:
            raise ExperimentFailed(f"experiment {name}: {report.failed} runs failed "
                                   f"({'; '.join(report.errors[:1]) or 'see ' + str(store)})")
        dataset = load(report.path)
        for measure in ex.measures(tree):
            dataset[measure] = _measured(measure, plan, store, dataset)
        return Results(name, variant, text, store, sweep=dataset)
    text = json.dumps(tree, sort_keys=True)
    store = output_dir(store_dir(out, name, variant))
    if not stored_only:
        write_text_atomic(text, store / "experiment.json")
    return Results(name, variant, text, store, stability={
        label: _stability(label, table, store, text, stored_only)
        for label, table in tree["experiments"].items()})


MEASURE_ATTRS = {"final_gradient_norm": (
    "full-batch gradient norm of the training objective at the end, |grad L_S(theta_T)|", "1")}


def _measured(measure: str, plan, store: Path, dataset: xr.Dataset, compute: bool = True
              ) -> xr.DataArray:
    """``measure`` of every run of ``plan`` over the sweep dataset's grid dims, computed for
    the runs not yet in ``STORE/<measure>.nc`` (NaN for them when not ``compute``)."""
    path = store / f"{measure}.nc"
    known = load(path)[measure].to_series().to_dict() if path.exists() else {}
    todo = {key: config for key, config in plan.unique().items() if key not in known}
    if todo and compute:
        known.update(zip(todo, convergence.final_gradient_norms(list(todo.values()))))
        keys = sorted(known)
        table = xr.Dataset({measure: ("run", [known[k] for k in keys])}, coords={"run": keys})
        write_atomic(annotate(table, {measure: MEASURE_ATTRS[measure]}), path)
    keys = dataset.run_key
    values = xr.apply_ufunc(lambda k: known.get(str(k), float("nan")), keys, vectorize=True,
                            output_dtypes=[float])
    long_name, units = MEASURE_ATTRS[measure]
    return values.assign_attrs(long_name=long_name, units=units)


def load_gathered(dataset: xr.Dataset) -> xr.Dataset:
    """A freshly gathered sweep dataset as :func:`bounds.store.load` returns a stored one
    (JSON attributes parsed)."""
    dataset.attrs["sweep"] = json.loads(dataset.attrs["sweep"])
    return dataset


def _stability(label: str, table: dict, store: Path, text: str, stored_only: bool = False
               ) -> stability.StabilityResult:
    unknown = set(table) - set(ex.STABILITY_KEYS)
    if unknown:
        raise ConfigError(f"experiments.{label}.{sorted(unknown)[0]}: unknown key; allowed keys "
                          f"are {', '.join(ex.STABILITY_KEYS)}")
    try:
        plan = stability.design(table.get("config", "convex"), table.get("optimizers", ["sgd"]),
                                table.get("n", (50, 100, 200, 400, 800)), table.get("pairs", 32),
                                table.get("set", ()))
    except ConfigError as err:
        raise ConfigError(f"experiments.{label}: {err}") from None
    path = store / f"{label}.nc"
    if path.exists():
        stored = load(path)
        if stored.attrs.get("experiment") == text:
            return stability.StabilityResult(plan, stored, float(stored.attrs["seconds"]), {})
    if stored_only:
        raise ConfigError(f"--stored-only: {path} holds no results of this experiment")
    result = stability.execute(plan)
    dataset = result.dataset.copy()
    dataset.attrs.update(experiment=text, seconds=result.seconds)
    write_atomic(dataset, path)
    return stability.StabilityResult(plan, load(path), result.seconds, result.seconds_per_n)
