"""Expand a sweep into runs: every grid point × seed as a validated RunConfig with its key.

A point's config is the base's tree, then the ``[set]`` overrides, then the point's values,
each applied as ``homebound train --set`` applies it (``optimizer.name`` first, so that a
point's hyperparameters survive the change of optimiser), then validated. Every point is
validated before anything runs; the first bad one raises a ConfigError naming the point and
the key. A run's key is a hash of its whole resolved config (seeds included), which is what
identifies it in the store.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import Any, Iterable

from simulate.config import RunConfig, config_from_dict
from simulate.fields import ConfigError, describe
from simulate.loading import merge

from .spec import Key, Sweep, dotted

KEY_LENGTH = 16


def run_key(config: RunConfig) -> str:
    """SHA-256 of the config's canonical JSON (sorted keys), first 16 hex digits."""
    text = json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_LENGTH]


@dataclass(frozen=True)
class PlannedRun:
    """One cell of the sweep: ``index`` along each axis and then the seed axis."""

    index: tuple[int, ...]
    config: RunConfig
    key: str


@dataclass(frozen=True)
class Plan:
    """Every run of a sweep, in C order over ``dims`` (the axes, then ``seed``)."""

    sweep: Sweep
    seeds: tuple[int, ...]
    runs: tuple[PlannedRun, ...]

    @property
    def dims(self) -> tuple[str, ...]:
        return (*(axis.name for axis in self.sweep.axes), "seed")

    @property
    def shape(self) -> tuple[int, ...]:
        return (*(len(axis) for axis in self.sweep.axes), len(self.seeds))

    def unique(self) -> dict[str, RunConfig]:
        """Key → config of the distinct runs (two cells with one config are one run)."""
        return {run.key: run.config for run in self.runs}

    def to_dict(self) -> dict:
        """JSON-able record: the sweep, the dims and every run's key, index and config."""
        return {"sweep": self.sweep.to_dict(), "dims": list(self.dims), "shape": list(self.shape),
                "seeds": list(self.seeds),
                "runs": [{"key": r.key, "index": list(r.index), "config": r.config.to_dict()}
                         for r in self.runs]}


def apply(tree: dict, items: Iterable[tuple[Key, Any]]) -> dict:
    """Lay ``(path, value)`` items over a config tree as ``--set`` does, ``optimizer.name``
    first; returns ``tree`` (modified)."""
    for path, value in sorted(items, key=lambda item: item[0] != ("optimizer", "name")):
        merge(tree, {path[0]: value} if len(path) == 1 else {path[0]: {path[1]: value}})
    return tree


def _lookup(tree: dict, path: Key):
    node = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def point_config(base: dict, items: list[tuple[Key, Any]]) -> RunConfig:
    """The validated config of one grid point (``items``: its axis values)."""
    label = ", ".join(f"{dotted(p)}={describe(v)}" for p, v in items) or "(base)"
    try:
        tree = apply(copy.deepcopy(base), items)
        for path, value in items:
            if _lookup(tree, path) != value:
                raise ConfigError(f"{dotted(path)} = {describe(value)} is dropped by another key "
                                  "of the point (train.epochs and train.steps replace each other)")
        return config_from_dict(tree)
    except ConfigError as err:
        raise ConfigError(f"grid point {label}: {err}") from None


def expand(sweep: Sweep) -> Plan:
    """Every point × seed of ``sweep``, validated up front (see the module docstring).
    ``seeds = N`` means the base config's seed and the N−1 after it."""
    base = apply(copy.deepcopy(sweep.base_tree), sweep.overrides)
    axes = sweep.axes
    runs, seeds = [], None
    for index in itertools.product(*(range(len(a)) for a in axes)):
        items = [(key, axis.values[k][i]) for axis, i in zip(axes, index)
                 for k, key in enumerate(axis.keys)]
        config = point_config(base, items)
        if seeds is None:
            seeds = (tuple(range(config.seed, config.seed + sweep.seeds))
                     if isinstance(sweep.seeds, int) else sweep.seeds)
        for s, seed in enumerate(seeds):
            run = config.with_seed(seed)
            runs.append(PlannedRun(index=(*index, s), config=run, key=run_key(run)))
    return Plan(sweep=sweep, seeds=seeds, runs=tuple(runs))
