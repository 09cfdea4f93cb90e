"""The optimisers an experiment compares, as labelled config overrides.

An entry is ``NAME`` or ``NAME:KEY=VALUE:KEY=VALUE…`` with ``KEY`` a hyperparameter of the
optimiser's ``[optimizer]`` section (``adam:lr=1e-3:eps=1e-6``). Two names are shorthands:

- ``momentum``: ``sgd`` with ``momentum = 0.9`` (overridable: ``momentum:momentum=0.5``);
- ``homeadam`` / ``homeadamw`` without a ``rule``: both rules, as two entries labelled
  ``homeadam-global`` and ``homeadam-elementwise`` (the rules behave very differently on
  sparse data, where the global rule goes home at every step).

Every other hyperparameter comes from the base config (``optimizer.name`` is set, which
keeps the base's learning rate and drops the keys the new optimiser does not have).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from simulate.fields import ConfigError, field_names
from simulate.optimizers import OPTIMIZER_NAMES, get_optimizer
from simulate.optimizers.hyper import RULES

ALIASES = {"momentum": ("sgd", ("momentum=0.9",))}
BOTH_RULES = ("homeadam", "homeadamw")


@dataclass(frozen=True)
class OptimizerEntry:
    """One compared optimiser: its ``label`` and its ``--set`` style overrides."""

    label: str
    name: str
    overrides: tuple

    def settings(self) -> list[str]:
        """The overrides in ``section.key=value`` form, ``optimizer.name`` first."""
        return [f"optimizer.name={self.name}", *(f"optimizer.{item}" for item in self.overrides)]


def split_list(text: str) -> list[str]:
    """Split a comma-separated list, keeping commas inside ``[…]`` (``betas=[0.9,0.99]``)."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return [item for item in items if item]


def parse_entry(text: str) -> list[OptimizerEntry]:
    """One entry (see the module doc); a bare HomeAdam name gives one entry per rule."""
    name, *settings = [part.strip() for part in text.split(":")]
    base, implied = ALIASES.get(name, (name, ()))
    if base not in OPTIMIZER_NAMES:
        allowed = ", ".join((*OPTIMIZER_NAMES, *ALIASES))
        raise ConfigError(f"--optimizers {text}: unknown optimiser {name!r}; allowed: {allowed}")
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ConfigError(f"--optimizers {text}: expected NAME:KEY=VALUE, got {item!r}")
        allowed = field_names(get_optimizer(base).hyper_cls)
        if key not in allowed:
            raise ConfigError(f"--optimizers {text}: {key!r} is not a hyperparameter of {base}; "
                              f"allowed: {', '.join(allowed)}")
    overrides = (*implied, *settings)
    if base in BOTH_RULES and not any(item.startswith("rule=") for item in settings):
        suffix = "".join(f":{item}" for item in settings)
        return [OptimizerEntry(f"{name}-{rule}{suffix}", base, (*overrides, f"rule={rule}"))
                for rule in RULES]
    return [OptimizerEntry(text.strip(), base, overrides)]


def parse_entries(items: str | Iterable[str]) -> list[OptimizerEntry]:
    """Entries from a comma-separated string or a list of entry strings; labels are unique."""
    texts = split_list(items) if isinstance(items, str) else list(items)
    if not texts:
        raise ConfigError("--optimizers: give at least one optimiser")
    entries = [entry for text in texts for entry in parse_entry(text)]
    labels = [entry.label for entry in entries]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ConfigError(f"--optimizers: {', '.join(repeated)} given more than once")
    return entries
