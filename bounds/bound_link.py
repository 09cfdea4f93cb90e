"""Which catalogued bound (``theory.BOUNDS``, SPEC §7) a run is held against, and the bound's
exponent in ``n`` at the run's number of steps ``T``.

- ``sgd``: Hardt et al.'s convex bound ``(2L²/N)·Σα_t`` when the network is linear (the
  logistic loss of a linear model is convex), else their non-convex bound (Thm 3.12); both
  decay like ``N^{-1}`` at fixed ``T``. Momentum SGD has no bound of its own in the catalogue
  and is held against the plain-SGD rate, with a note saying so.
- ``adam``/``adamw``: ``O(1/√N)``; ``adam_srf``/``adamw_srf``: ``O(ρ̂^{-2T}/N)``, ``N^{-1}``
  at fixed ``T``; ``homeadam``/``homeadamw``: ``O(1/N)``.
- the sign methods, InvAdam and DualAdam have no catalogued bound: no exponent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from simulate.config import RunConfig
from theory import bound_record, generalization_bound, rate_exponent, substitute


@dataclass(frozen=True)
class BoundLink:
    """The bound a run is compared with: record name, exponent in ``N`` and a caveat."""

    record: Optional[str]
    exponent: Optional[float]
    note: str


def bound_for(config: RunConfig) -> BoundLink:
    """The :class:`BoundLink` of ``config`` at its own ``T`` (see the module doc)."""
    name = config.optimizer.name
    notes = []
    if name == "sgd":
        convex = config.model.activation == "linear"
        record = "sgd_convex" if convex else "sgd_nonconvex"
        if config.optimizer.hyper.momentum > 0:
            notes.append("momentum SGD held against the plain-SGD bound (none is catalogued "
                         "for momentum)")
        if not convex:
            notes.append("Hardt et al.'s non-convex bound assumes steps α_t ≤ c/t")
    else:
        try:
            record = bound_record(name).name
        except ValueError:
            return BoundLink(None, None, f"no generalisation bound is catalogued for {name}")
        if record == "adam_srf":
            notes.append("N-exponent at fixed T; the bound grows like ρ̂^{-2T} in T")
    expression = substitute(generalization_bound(record), {"T": config.total_steps})
    exponent = float(rate_exponent(expression, "N"))
    return BoundLink(record, exponent, "; ".join(notes))
