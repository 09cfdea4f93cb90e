"""Typed, range-checked fields for frozen configuration records.

Every configuration record in the project (the run configuration sections and the optimiser
hyperparameter records) declares its fields with :func:`rule`; :func:`build` turns a plain
mapping (from TOML, ``--set`` overrides or keyword arguments) into the record, and raises a
:class:`ConfigError` naming the key, the value and what is allowed on the first bad entry.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


class ConfigError(ValueError):
    """A configuration value is unknown, mistyped or out of range (one-line message)."""


@dataclass(frozen=True)
class Rule:
    """How one field is parsed: ``kind`` in {int, float, bool, str, pair, optional_int}."""

    kind: str
    allowed: str
    check: Callable[[Any], bool] = lambda value: True
    choices: tuple = ()


def rule(default, kind: str, allowed: str = "", check: Callable[[Any], bool] | None = None,
         choices: tuple = ()):
    """A dataclass field carrying its parsing :class:`Rule` in ``metadata['rule']``."""
    if choices:
        allowed = allowed or "one of " + ", ".join(repr(c) for c in choices)
        check = check or (lambda value: value in choices)
    return field(default=default, metadata={"rule": Rule(kind, allowed, check or (lambda v: True), choices)})


def describe(value) -> str:
    """A value as the user would have typed it."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _coerce(key: str, value, r: Rule):
    kind = r.kind
    if kind == "optional_int" and value is None:
        return None
    if kind in ("int", "optional_int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} = {describe(value)}: must be an integer ({r.allowed})")
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} = {describe(value)}: must be a number ({r.allowed})")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{key} = {describe(value)}: must be finite ({r.allowed})")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {describe(value)}: must be true or false")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{key} = {describe(value)}: must be a string ({r.allowed})")
        return value
    if kind == "pair":
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in value)):
            raise ConfigError(f"{key} = {describe(value)}: must be a pair of numbers [a, b] ({r.allowed})")
        return (float(value[0]), float(value[1]))
    raise AssertionError(f"unknown rule kind {kind}")


def field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def build(cls, mapping: Mapping[str, Any], prefix: str = ""):
    """Construct the frozen record ``cls`` from ``mapping``, validating every entry.

    Unknown keys, wrong types and out-of-range values raise :class:`ConfigError` with a
    one-line message of the form ``"<prefix><key> = <value>: <what is allowed>"``.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in mapping.items():
        if key not in fields:
            raise ConfigError(f"{prefix}{key}: unknown key; allowed keys are {', '.join(fields)}")
        r: Rule = fields[key].metadata["rule"]
        value = _coerce(prefix + key, value, r)
        if value is not None and not r.check(value):
            raise ConfigError(f"{prefix}{key} = {describe(value)}: must be {r.allowed}")
        values[key] = value
    return cls(**values)


def to_plain(record) -> dict:
    """The record as a plain dict (tuples as lists, ``None`` entries left out)."""
    out = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if value is None:
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out
