"""The sweep file: a base config, overrides, grid axes, zipped axes and seeds (TOML).

```toml
base = "default"                 # a preset, or a config TOML (relative to this file)
seeds = 5                        # seeds base.seed … base.seed+4 (or a list: [0, 3, 7])
[set]                            # overrides of the base, as `homebound train --set`
"train.epochs" = 50
[grid]                           # one axis per key: the sweep is their Cartesian product
"optimizer.name" = ["adam", "adamw"]
"train.batch_size" = [2, 8, 32]
[[zip]]                          # one axis whose keys vary together (equal-length lists)
"optimizer.lr" = [1e-3, 1e-2]
"train.l2" = [0.0, 1e-4]
```

Keys are dotted config keys (``section.key`` or a top-level key); TOML's unquoted dotted keys
and nested tables mean the same. The seed is not a grid key (use ``seeds``). A key may appear
in only one of ``[set]``, ``[grid]`` and the ``[[zip]]`` tables; values in an axis are
distinct (for a zipped axis, its first key's values, which label the axis).
"""
from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulate.fields import ConfigError, describe
from simulate.loading import base_tree, read_toml
from simulate.presets import PRESETS

TOP_KEYS = ("base", "seeds", "set", "grid", "zip")

Key = tuple[str, ...]


@dataclass(frozen=True)
class Axis:
    """One dimension of the sweep: ``keys`` (config paths) take ``values[k][i]`` at position
    ``i``. A grid axis has one key; a zipped axis several, labelled by the first."""

    keys: tuple[Key, ...]
    values: tuple[tuple, ...]

    @property
    def name(self) -> str:
        """The dimension name: the first key, dotted."""
        return dotted(self.keys[0])

    def __len__(self) -> int:
        return len(self.values[0])


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file: the base's config tree (a preset's or a TOML file's), the
    ``[set]`` overrides, the axes in file order (grid keys, then zip tables) and the seeds."""

    source: str
    base: str
    base_tree: dict
    overrides: tuple[tuple[Key, Any], ...]
    axes: tuple[Axis, ...]
    seeds: tuple[int, ...] | int

    def to_dict(self) -> dict:
        """A JSON-able record of the sweep (stored with the results)."""
        return {"source": self.source, "base": self.base,
                "set": {dotted(p): v for p, v in self.overrides},
                "axes": [{dotted(k): list(v) for k, v in zip(a.keys, a.values)} for a in self.axes],
                "seeds": self.seeds if isinstance(self.seeds, int) else list(self.seeds)}


def dotted(path: Key) -> str:
    return ".".join(path)


def _flatten(table: dict, where: str, prefix: Key = ()) -> list[tuple[Key, Any]]:
    """``{"a.b": x}`` and ``{"a": {"b": x}}`` alike → ``[(("a", "b"), x)]``."""
    items = []
    for key, value in table.items():
        path = prefix + tuple(key.split("."))
        if not all(path):
            raise ConfigError(f"{where} {key!r}: not a config key (section.key)")
        if isinstance(value, dict):
            items += _flatten(value, where, path)
        elif len(path) > 2:
            raise ConfigError(f"{where} {dotted(path)}: not a config key (section.key or key)")
        else:
            items.append((path, value))
    return items


def _axis_values(where: str, path: Key, values, labels: bool = True) -> tuple:
    """An axis' list of values; the values that label an axis must be distinct."""
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{where} {dotted(path)} = {describe(values)}: must be a non-empty list of values")
    texts = [json.dumps(v, sort_keys=True) for v in values]
    if labels and len(set(texts)) != len(texts):
        raise ConfigError(f"{where} {dotted(path)} = {describe(values)}: values repeat")
    return tuple(values)


def _seeds(value) -> tuple[int, ...] | int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ConfigError(f"seeds = {value}: must be an integer ≥ 1 or a list of seeds ≥ 0")
        return value
    if (isinstance(value, list) and value and len(set(value)) == len(value)
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)):
        return tuple(value)
    raise ConfigError(f"seeds = {describe(value)}: must be an integer ≥ 1 or a list of distinct seeds ≥ 0")


def parse_sweep(text: str, source: str = "<sweep>", directory: Path | None = None) -> Sweep:
    """Parse sweep-file text (see :func:`sweep_from_tree`)."""
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"sweep = {source!r}: TOML syntax error: {err}") from None
    return sweep_from_tree(tree, source, directory)


def load_sweep(path: str | Path) -> Sweep:
    """Read and parse a sweep file (see the module docstring for the format)."""
    path = Path(path)
    return sweep_from_tree(read_toml(path, "sweep"), str(path), path.parent)


def sweep_from_tree(tree: dict, source: str = "<sweep>", directory: Path | None = None) -> Sweep:
    """The sweep of a parsed sweep file; a relative ``base`` TOML path is taken from
    ``directory``. Bad entries raise a one-line ConfigError."""
    unknown = [k for k in tree if k not in TOP_KEYS]
    if unknown:
        raise ConfigError(f"sweep {source!r}: {unknown[0]}: unknown key; allowed keys are "
                          + ", ".join(TOP_KEYS))
    base = tree.get("base", "default")
    if not isinstance(base, str):
        raise ConfigError(f"base = {describe(base)}: must be a preset name or a TOML path")
    location = base if base in PRESETS or directory is None else str(directory / base)
    for name in ("set", "grid"):
        if not isinstance(tree.get(name, {}), dict):
            raise ConfigError(f"{name} = {describe(tree[name])}: must be a table [{name}]")
    zips = tree.get("zip", [])
    if not isinstance(zips, list) or not all(isinstance(z, dict) for z in zips):
        raise ConfigError("zip: must be [[zip]] tables")
    overrides = _flatten(tree.get("set", {}), "[set]")
    axes = [Axis((path,), (_axis_values("[grid]", path, values),))
            for path, values in _flatten(tree.get("grid", {}), "[grid]")]
    for number, table in enumerate(zips, 1):
        items = _flatten(table, f"[[zip]] {number}:")
        if not items:
            raise ConfigError(f"[[zip]] {number}: empty table")
        columns = tuple(_axis_values(f"[[zip]] {number}:", p, v, labels=i == 0)
                        for i, (p, v) in enumerate(items))
        if len({len(c) for c in columns}) != 1:
            lengths = ", ".join(f"{dotted(p)}: {len(c)}" for (p, _), c in zip(items, columns))
            raise ConfigError(f"[[zip]] {number}: lists must have equal lengths ({lengths})")
        axes.append(Axis(tuple(p for p, _ in items), columns))
    seen: dict[Key, str] = {}
    for where, paths in [("[set]", [p for p, _ in overrides])] + [
            (f"axis {a.name}", list(a.keys)) for a in axes]:
        for path in paths:
            if path == ("seed",) and where != "[set]":
                raise ConfigError(f"{where}: the seed is not an axis key; set seeds = N or a list")
            if path in seen:
                raise ConfigError(f"{dotted(path)}: given in both {seen[path]} and {where}")
            seen[path] = where
    return Sweep(source=source, base=base, base_tree=base_tree(location),
                 overrides=tuple(overrides), axes=tuple(axes), seeds=_seeds(tree.get("seeds", 1)))

