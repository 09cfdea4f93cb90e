"""Records for the data-model theorems and their evaluation on a config.

A ``Theorem`` is in scope for a config when the data kind, activation and optimiser match
(``None`` = any).  It then yields one ``Prediction``:

* ``"premise not met"`` when one of its ``premises`` (sympy predicates such as ``q > 2`` or
  ``B = n``) is false for the config -- the theorem says nothing there;
* else the label of the first ``Regime`` whose ``condition`` holds, with its outcome
  (regimes are listed in priority order);
* else ``"intermediate: no prediction"`` (the config lies between the regimes).

Conditions are sympy relationals in the config symbols of ``theory.symbols`` and unknown
constants (``C_large``, ``C_kou_benign``, ...).  They are evaluated by substituting the
config's numbers (``theory.configs.view``) and the constants, ``DEFAULT_CONSTANTS``
overridden by the ``constants`` argument (keys: names or symbols).  The defaults are
parameters, not values from the papers, which state these conditions up to constants.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

import sympy

from . import symbols as S
from .configs import view

PREMISE_NOT_MET = "premise not met"
INTERMEDIATE = "intermediate: no prediction"

DEFAULT_CONSTANTS = {
    S.C_large: 2,  # large batch: n/B <= 2 (n/B = Theta(1))
    S.C_minibatch: 1,  # minibatch: n/B >= 1 * log(1/epsilon)
    S.epsilon: sympy.Rational(1, 100),
    S.C_small: 1,
    S.C_stall: 1,
    S.C_stall_w: 1,
    S.C_cao_benign: 1,
    S.C_cao_harmful: 1,
    S.C_kou_benign: 1,
    S.C_kou_harmful: 1,
}


def resolve_constants(constants: Optional[Mapping] = None) -> dict:
    """``DEFAULT_CONSTANTS`` updated by ``constants`` (keys: constant names or symbols)."""
    by_name = {s.name: s for s in DEFAULT_CONSTANTS}
    resolved = dict(DEFAULT_CONSTANTS)
    for key, value in (constants or {}).items():
        if str(key) not in by_name:
            raise ValueError(
                f"unknown theorem constant {str(key)!r}; allowed: {', '.join(sorted(by_name))}"
            )
        resolved[by_name[str(key)]] = value
    return resolved


def _atoms(predicate: sympy.Basic) -> list:
    if isinstance(predicate, (sympy.And, sympy.Or)):
        return [atom for arg in predicate.args for atom in _atoms(arg)]
    return [] if isinstance(predicate, sympy.logic.boolalg.BooleanAtom) else [predicate]


def _truth(predicate: sympy.Basic, values: dict) -> bool:
    result = predicate.subs(values)
    if result not in (sympy.true, sympy.false):
        raise ValueError(f"could not decide {predicate} (left with {result})")
    return result is sympy.true


@dataclass(frozen=True)
class Evidence:
    """One relation of a deciding condition with its two sides evaluated on the config."""

    condition: str
    lhs: float
    rhs: float
    holds: bool


def _evidence(predicate: sympy.Basic, values: dict) -> tuple:
    return tuple(
        Evidence(
            condition=str(atom),
            lhs=float(atom.lhs.subs(values)),
            rhs=float(atom.rhs.subs(values)),
            holds=_truth(atom, values),
        )
        for atom in _atoms(predicate)
    )


def _values(config: Any, constants: Optional[Mapping], needed: set, who: str) -> dict:
    """Config numbers and constants to substitute; ``ValueError`` if a needed field is absent."""
    resolved = resolve_constants(constants)
    config_view = view(config)
    missing = config_view.missing(needed - set(resolved))
    if missing:
        raise ValueError(f"{who} needs config field(s): {', '.join(missing)}")
    numbers = {k: v for k, v in config_view.values.items() if v is not None}
    return {**numbers, **resolved}


@dataclass(frozen=True)
class Condition:
    """A premise of a theorem: a description and a sympy predicate."""

    description: str
    predicate: sympy.Basic


@dataclass(frozen=True)
class Regime:
    """A regime of a theorem: where ``condition`` holds, ``outcome`` is predicted."""

    label: str
    reference: str  # theorem/corollary number inside the source
    condition: sympy.Basic
    outcome: str

    def holds(self, config: Any, constants: Optional[Mapping] = None) -> bool:
        """Evaluate ``condition`` on ``config`` with ``constants`` (defaults: DEFAULT_CONSTANTS)."""
        needed = self.condition.free_symbols
        return _truth(self.condition, _values(config, constants, needed, self.label))


@dataclass(frozen=True)
class Prediction:
    """What one theorem predicts for one config, and the numbers that decided it."""

    theorem: str  # Theorem.key
    name: str
    reference: str
    regime: str  # a regime label, PREMISE_NOT_MET or INTERMEDIATE
    outcome: Optional[str]  # None unless a regime holds
    reason: str
    evidence: tuple  # Evidence records of the premises and the deciding condition(s)
    note: str


@dataclass(frozen=True)
class Theorem:
    """A data-model theorem as a testable prediction (see the module doc)."""

    key: str
    name: str
    source: str
    data_kind: Optional[str]
    activations: Optional[tuple]
    optimizers: Optional[tuple]
    premises: tuple
    regimes: tuple
    note: str = ""

    def in_scope(self, config: Any) -> bool:
        """Whether the theorem is about this config (data kind, activation, optimiser)."""
        v = view(config)
        return (
            (self.data_kind is None or v.kind == self.data_kind)
            and (self.activations is None or v.activation in self.activations)
            and (self.optimizers is None or v.optimizer in self.optimizers)
        )

    def predict(self, config: Any, constants: Optional[Mapping] = None) -> Optional[Prediction]:
        """The prediction for ``config``, or ``None`` when the theorem is out of scope."""
        if not self.in_scope(config):
            return None
        conditions = [c.predicate for c in self.premises] + [r.condition for r in self.regimes]
        needed = set().union(*(c.free_symbols for c in conditions))
        values = _values(config, constants, needed, self.key)
        evidence = sum((_evidence(c.predicate, values) for c in self.premises), ())

        failed = next((c for c in self.premises if not _truth(c.predicate, values)), None)
        if failed is not None:
            return self._prediction(PREMISE_NOT_MET, "", None, failed.description, evidence)
        regime = next((r for r in self.regimes if _truth(r.condition, values)), None)
        if regime is None:
            gap = sum((_evidence(r.condition, values) for r in self.regimes), ())
            return self._prediction(INTERMEDIATE, "", None, "no regime condition holds",
                                    evidence + gap)
        return self._prediction(regime.label, regime.reference, regime.outcome,
                                f"{regime.condition} holds",
                                evidence + _evidence(regime.condition, values))

    def _prediction(self, regime, reference, outcome, reason, evidence) -> Prediction:
        return Prediction(self.key, self.name, reference, regime, outcome, reason, evidence,
                          self.note)
