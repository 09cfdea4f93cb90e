"""Turn a preset name or TOML file plus ``section.key=value`` overrides into a RunConfig.

Override values are parsed as TOML literals (``3``, ``1e-3``, ``true``, ``[0.9, 0.99]``,
``"adam"``); a bare word such as ``adam`` or ``1/m`` is taken as a string. Nothing is
evaluated. Two overrides replace rather than add: setting ``train.epochs`` drops
``train.steps`` (and vice versa), and setting ``optimizer.name`` drops the base's
hyperparameters that the new optimiser does not have.
"""
from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Iterable

from .config import RunConfig, config_from_dict
from .fields import ConfigError, field_names
from .optimizers import get_optimizer
from .presets import PRESETS

_BARE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./+-]*$")
_ALTERNATIVES = {("train", "epochs"): ("train", "steps"), ("train", "steps"): ("train", "epochs")}


def parse_value(key: str, text: str):
    """A ``--set`` value as a TOML literal, or a bare word as a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        if _BARE.match(text):
            return text
        raise ConfigError(f"{key} = {text}: not a TOML value (quote strings, e.g. \"adam\")") from None


def parse_override(item: str) -> tuple[tuple[str, ...], object]:
    """``"section.key=value"`` → ``(("section", "key"), value)``."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {item}: expected section.key=value")
    path = tuple(key.split("."))
    if len(path) > 2 or not all(path):
        raise ConfigError(f"--set {item}: expected section.key=value or key=value")
    return path, parse_value(key, text.strip())


def read_toml(path: str | Path, what: str) -> dict:
    """A TOML file as a dict; a missing file or a syntax error is a one-line ``ConfigError``
    naming ``what`` the file is (``config``, ``checks``, ``sweep`` …)."""
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what} = {str(path)!r}: file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{what} = {str(path)!r}: TOML syntax error: {err}") from None


def base_tree(source: str) -> dict:
    """The nested dict of a preset name or a TOML file (which may name a ``preset`` to extend)."""
    if source in PRESETS:
        return copy.deepcopy(PRESETS[source][1])
    path = Path(source)
    if not path.suffix == ".toml" and not path.exists():
        raise ConfigError(f"config = {source!r}: not a preset ({', '.join(PRESETS)}) nor a TOML file")
    tree = read_toml(path, "config")
    parent = tree.pop("preset", None)
    if parent is None:
        return tree
    if parent not in PRESETS:
        raise ConfigError(f"preset = {parent!r}: unknown preset; allowed: {', '.join(PRESETS)}")
    return merge(copy.deepcopy(PRESETS[parent][1]), tree)


def merge(base: dict, top: dict) -> dict:
    """``top`` laid over ``base`` section by section (with the replacement rules above)."""
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            for sub, subvalue in value.items():
                _set(base, (key, sub), subvalue)
        else:
            base[key] = value
    return base


def _set(tree: dict, path: tuple[str, ...], value) -> None:
    if len(path) == 1:
        tree[path[0]] = value
        return
    section, key = path
    table = tree.setdefault(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{section} = {table!r}: must be a table [{section}]")
    other = _ALTERNATIVES.get(path)
    if other is not None:
        table.pop(other[1], None)
    if path == ("optimizer", "name") and isinstance(value, str) and value != table.get("name"):
        allowed = field_names(get_optimizer(value).hyper_cls)
        for stale in [k for k in table if k != "name" and k not in allowed]:
            del table[stale]
    table[key] = value


def load_config(source: str = "default", overrides: Iterable[str] = ()) -> RunConfig:
    """The validated :class:`RunConfig` of a preset or TOML file with ``--set`` overrides."""
    tree = base_tree(source)
    for item in overrides:
        path, value = parse_override(item)
        _set(tree, path, value)
    return config_from_dict(tree)


def preset_lines() -> list[str]:
    """One line per built-in preset: name and description."""
    width = max(map(len, PRESETS))
    return [f"{name:<{width}}  {description}" for name, (description, _) in PRESETS.items()]
