"""The experiment files that ship with the figures (``figures/experiments/<name>.toml``).

An experiment file is one of two kinds, each with its full-size setting at the top level and
optional reduction tables: ``[quick]`` (for ``homebound figures --quick``: every figure in
minutes) and ``[reduced]`` (``--reduced``: the largest reduction this project could run where
the full size is out of reach; the reproduction record says what was run). Both follow the
same rules:

* a **sweep file** (it has a ``base``; format in :mod:`bounds.sweep.spec`), run by
  :func:`bounds.sweep.run_sweep`. A reduction may hold ``seeds`` (replaces the seeds),
  ``[quick.set]`` (laid over ``[set]`` key by key), ``[quick.grid]`` (replaces the values of
  the grid axes it names, which must exist) and ``[[quick.zip]]`` (replaces every ``[[zip]]``
  table). A sweep file may also name extra per-run ``measure`` s taken after training
  (``measure = ["final_gradient_norm"]``: ``‖∇L_S(θ_T)‖``, :mod:`bounds.convergence`),
  which are not part of the sweep itself;
* a **stability file** (it has ``[experiments.NAME]`` tables with the arguments of
  :func:`bounds.stability.design`: ``config``, ``set``, ``optimizers``, ``n``, ``pairs``), run
  by :func:`bounds.stability.execute`. ``[quick.experiments.NAME]`` replaces the keys it gives.

:func:`resolve` returns the effective file (full, quick or reduced) as a plain tree without
the reduction tables; for a sweep it is a valid sweep file (:func:`sweep_text`), so the runs of a figure
can be repeated with ``homebound sweep`` on the copy written beside its results.
"""
from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path

import tomli_w

from simulate.fields import ConfigError
from simulate.loading import read_toml

QUICK, REDUCED = "quick", "reduced"
VARIANTS = (QUICK, REDUCED)
SWEEP, STABILITY = "sweep", "stability"
STABILITY_KEYS = ("config", "set", "optimizers", "n", "pairs")
MEASURE = "measure"
MEASURES = ("final_gradient_norm",)


def shipped_path(name: str) -> Path:
    """Path of the shipped experiment file ``name`` (without ``.toml``)."""
    return Path(str(resources.files("figures") / "experiments" / f"{name}.toml"))


def kind_of(tree: dict) -> str:
    """``sweep`` or ``stability`` (see the module doc)."""
    if "experiments" in tree:
        return STABILITY
    if "base" in tree:
        return SWEEP
    raise ConfigError("experiment file: needs a `base` (a sweep file) or [experiments.NAME] "
                      "tables (a stability file)")


def read(path: str | Path) -> dict:
    return read_toml(path, "experiment")


def effective_variant(tree: dict, variant: str | None) -> str | None:
    """The variant that ``variant`` amounts to for ``tree``: ``reduced`` without a
    ``[reduced]`` table is the full size (``None``)."""
    return None if variant == REDUCED and REDUCED not in tree else variant


def resolve(tree: dict, variant: str | None = None, where: str = "experiment") -> dict:
    """The effective experiment: the full-size tree (``variant=None``), or with the
    ``[quick]`` or ``[reduced]`` table applied; never containing either table. Unknown
    entries are errors naming the key; a missing ``[reduced]`` means the full size."""
    tree = copy.deepcopy(tree)
    reductions = {name: tree.pop(name, {}) for name in VARIANTS}
    if variant is None:
        return tree
    if variant not in VARIANTS:
        raise ConfigError(f"{where}: variant {variant!r}: allowed: {', '.join(VARIANTS)}")
    reduction = reductions[variant]
    if not isinstance(reduction, dict):
        raise ConfigError(f"{where}: [{variant}] must be a table")
    if kind_of(tree) == SWEEP:
        return _reduce_sweep(tree, reduction, f"{where}: [{variant}")
    return _reduce_stability(tree, reduction, f"{where}: [{variant}")


def _reduce_sweep(tree: dict, reduction: dict, where: str) -> dict:
    for key, value in reduction.items():
        if key == "seeds":
            tree["seeds"] = value
        elif key == "set":
            tree.setdefault("set", {}).update(value)
        elif key == "grid":
            grid = tree.get("grid", {})
            for axis, values in value.items():
                if axis not in grid:
                    raise ConfigError(f"{where}.grid] {axis}: not an axis of [grid]")
                grid[axis] = values
        elif key == "zip":
            tree["zip"] = value
        else:
            raise ConfigError(f"{where}] {key}: unknown key; allowed keys are seeds, "
                              "set, grid, zip")
    return tree


def _reduce_stability(tree: dict, reduction: dict, where: str) -> dict:
    unknown = set(reduction) - {"experiments"}
    if unknown:
        raise ConfigError(f"{where}] {sorted(unknown)[0]}: unknown key; allowed: "
                          "experiments")
    for name, table in reduction.get("experiments", {}).items():
        if name not in tree["experiments"]:
            raise ConfigError(f"{where}.experiments.{name}]: no such experiment")
        for key, value in table.items():
            if key not in STABILITY_KEYS:
                raise ConfigError(f"{where}.experiments.{name}] {key}: unknown key; "
                                  f"allowed keys are {', '.join(STABILITY_KEYS)}")
            tree["experiments"][name][key] = value
    return tree


def measures(tree: dict) -> tuple[str, ...]:
    """The extra per-run measurements a sweep experiment asks for (module doc)."""
    names = tree.get(MEASURE, [])
    if not isinstance(names, list) or any(name not in MEASURES for name in names):
        raise ConfigError(f"experiment: {MEASURE} = {names!r}: a list of {', '.join(MEASURES)}")
    return tuple(names)


def sweep_text(tree: dict) -> str:
    """A resolved sweep tree as sweep-file text (TOML), without ``measure``."""
    return tomli_w.dumps({k: v for k, v in tree.items() if k != MEASURE})
