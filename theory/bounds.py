"""Catalogue of the generalisation (uniform-stability) bounds of SPEC §7.

One frozen record per row of the table (bound; convergence where the table has one):

* ``sgd_convex``: ``(2 L^2 / N) * sum_{t=1}^T alpha_t``;
* ``sgd_strongly_convex``: ``2 L^2 / (gamma N)``;
* ``sgd_nonconvex``:
  ``(1 + 1/(beta c)) / (N - 1) * (2 c L^2)^(1/(beta c + 1)) * T^(beta c/(beta c + 1))``;
* ``adam`` (Adam, AdamW): ``C_adam / sqrt(N)``;
* ``adam_srf`` (Adam-srf, AdamW-srf): ``C_srf * rho_hat^(-2T) / N``;
  convergence ``C_srf_conv / (rho_breve T^(1/4))``;
* ``homeadam`` (HomeAdam, HomeAdamW): ``C_home / N``; convergence ``C_home_conv / T^(1/4)``.

The SGD rows are Hardt, Recht & Singer 2016, "Train faster, generalize better: Stability
of stochastic gradient descent" (ICML), Theorems 3.8, 3.9 and 3.12.  The adaptive rows
are from "HomeAdam: Adam and AdamW algorithms sometimes go home to obtain better provable
generalization" (arXiv 2603.02649); only that paper's abstract was available, so their
constants are the unknown positive symbols ``C_adam``, ``C_srf``, ``C_home``, ... and their
assumptions are not recorded beyond what the abstract says.

Step-size schedules (``step=``) for the bounds that depend on them:

* ``"constant"``: ``alpha_t = alpha``, so ``sum_t alpha_t = alpha T``;
* ``"inverse_t"``: ``alpha_t = c / t``, so ``sum_t alpha_t = c H_T`` (harmonic number,
  growing like ``log T``).

Name resolution: a record name, or an optimiser name a record covers.  Plain ``"sgd"``
resolves to ``sgd_nonconvex`` because the two-layer CNN objective is non-convex; ask for
``sgd_convex`` / ``sgd_strongly_convex`` explicitly for the convex rows.  Optimisers with
no row in SPEC (``signsgd``, ``signum``, ``signsgdw``, ``invadam``, ``dualadam``, ...)
raise ``ValueError``: no bound is invented for them.
"""

from dataclasses import dataclass
from typing import Optional

import sympy

from .symbols import (
    C_adam, C_home, C_home_conv, C_srf, C_srf_conv, L, N, T, alpha, alpha_t, beta, c, gamma,
    rho_breve, rho_hat, t,
)

HARDT = 'Hardt, Recht & Singer 2016, "Train faster, generalize better"'
HOMEADAM = "HomeAdam, arXiv 2603.02649"

STEP_SCHEDULES = {
    "constant": alpha,  # alpha_t = alpha
    "inverse_t": c / t,  # alpha_t = c / t
}

# Optimisers without a dedicated record that resolve to a chosen record (see module doc).
DEFAULT_RECORD = {"sgd": "sgd_nonconvex"}


@dataclass(frozen=True)
class Assumption:
    """One hypothesis of a bound.

    ``kind`` is one of ``"lipschitz"``, ``"smoothness"``, ``"convexity"``, ``"step_size"``,
    ``"loss_range"``, ``"other"``; ``condition`` is a sympy relational when the hypothesis
    is a formula (e.g. ``alpha <= 2/beta``), else ``None``.
    """

    kind: str
    statement: str
    condition: Optional[sympy.Basic] = None


@dataclass(frozen=True)
class Bound:
    """One row of the SPEC §7 table.

    ``expression`` is the bound as the paper states it (for ``sgd_convex`` it keeps the
    step sizes as ``Sum(alpha[t], (t, 1, T))``); ``bound(step)`` gives it in closed form for
    one of ``schedules`` (the first is the default).  ``convergence`` is ``None`` where the
    table has "--".
    """

    name: str
    label: str
    algorithms: tuple
    expression: sympy.Expr
    convergence: Optional[sympy.Expr]
    assumptions: tuple
    source: str
    schedules: tuple = ()

    def bound(self, step: Optional[str] = None) -> sympy.Expr:
        """The bound in closed form for step schedule ``step`` (default: the first one)."""
        if not self.schedules:
            if step is not None:
                raise ValueError(
                    f"step={step!r}: the {self.name} bound has no step schedule; allowed: None"
                )
            return self.expression
        step = self.schedules[0] if step is None else step
        if step not in self.schedules:
            raise ValueError(
                f"step={step!r} is not covered by the {self.name} bound; "
                f"allowed: {', '.join(self.schedules)}"
            )
        return self.expression.xreplace({alpha_t[t]: STEP_SCHEDULES[step]}).doit()

    @property
    def constants(self) -> tuple:
        """The unknown constants of the bound (symbols named ``C_...``), sorted by name."""
        symbols = self.expression.free_symbols
        if self.convergence is not None:
            symbols |= self.convergence.free_symbols
        return tuple(sorted((s for s in symbols if s.name.startswith("C_")), key=str))


_LIPSCHITZ = Assumption("lipschitz", "loss is L-Lipschitz in the parameters")
_SMOOTH = Assumption("smoothness", "loss is beta-smooth")
_ABSTRACT_ONLY = Assumption(
    "other", "hypotheses of arXiv 2603.02649 not recorded: only its abstract was available"
)

BOUNDS = (
    Bound(
        name="sgd_convex",
        label="SGD, convex",
        algorithms=("sgd",),
        expression=2 * L**2 / N * sympy.Sum(alpha_t[t], (t, 1, T)),
        convergence=None,
        assumptions=(
            Assumption("convexity", "loss is convex"),
            _LIPSCHITZ,
            _SMOOTH,
            Assumption("step_size", "alpha_t <= 2/beta", sympy.Le(alpha_t[t], 2 / beta)),
        ),
        source=f"{HARDT}, Thm 3.8",
        schedules=("constant", "inverse_t"),
    ),
    Bound(
        name="sgd_strongly_convex",
        label="SGD, strongly convex",
        algorithms=("sgd",),
        expression=2 * L**2 / (gamma * N),
        convergence=None,
        assumptions=(
            Assumption("convexity", "loss is gamma-strongly convex"),
            _LIPSCHITZ,
            _SMOOTH,
            Assumption("step_size", "constant step alpha <= 1/beta", sympy.Le(alpha, 1 / beta)),
        ),
        source=f"{HARDT}, Thm 3.9",
        schedules=("constant",),
    ),
    Bound(
        name="sgd_nonconvex",
        label="SGD, non-convex",
        algorithms=("sgd",),
        expression=(1 + 1 / (beta * c)) / (N - 1)
        * (2 * c * L**2) ** (1 / (beta * c + 1))
        * T ** (beta * c / (beta * c + 1)),
        convergence=None,
        assumptions=(
            Assumption("convexity", "none (non-convex loss)"),
            _LIPSCHITZ,
            _SMOOTH,
            Assumption("loss_range", "loss takes values in [0, 1]"),
            Assumption("step_size", "alpha_t <= c/t", sympy.Le(alpha_t[t], c / t)),
        ),
        source=f"{HARDT}, Thm 3.12",
        schedules=("inverse_t",),
    ),
    Bound(
        name="adam",
        label="Adam / AdamW",
        algorithms=("adam", "adamw"),
        expression=C_adam / sympy.sqrt(N),
        convergence=None,
        assumptions=(_ABSTRACT_ONLY,),
        source=HOMEADAM,
    ),
    Bound(
        name="adam_srf",
        label="Adam-srf / AdamW-srf",
        algorithms=("adam_srf", "adamw_srf"),
        expression=C_srf * rho_hat ** (-2 * T) / N,
        convergence=C_srf_conv / (rho_breve * T ** sympy.Rational(1, 4)),
        assumptions=(
            _ABSTRACT_ONLY,
            Assumption("other", "rho_hat = smallest second-moment entry + small constant"),
            Assumption("other", "rho_breve <= rho_hat", sympy.Le(rho_breve, rho_hat)),
        ),
        source=HOMEADAM,
    ),
    Bound(
        name="homeadam",
        label="HomeAdam / HomeAdamW",
        algorithms=("homeadam", "homeadamw"),
        expression=C_home / N,
        convergence=C_home_conv / T ** sympy.Rational(1, 4),
        assumptions=(_ABSTRACT_ONLY,),
        source=HOMEADAM,
    ),
)

_BY_NAME = {record.name: record for record in BOUNDS}
_BY_ALGORITHM = {algorithm: record for record in BOUNDS for algorithm in record.algorithms}
_BY_ALGORITHM.update({algorithm: _BY_NAME[name] for algorithm, name in DEFAULT_RECORD.items()})


def known_names() -> tuple:
    """Every name ``bound_record`` accepts: record names and covered optimiser names."""
    return tuple(sorted(set(_BY_NAME) | set(_BY_ALGORITHM)))


def bound_record(name: str) -> Bound:
    """The catalogue record for a record name or an optimiser name (see module doc)."""
    key = name.lower()
    record = _BY_NAME.get(key) or _BY_ALGORITHM.get(key)
    if record is None:
        raise ValueError(
            f"no generalisation bound is catalogued for {name!r}; "
            f"names with a bound: {', '.join(known_names())}"
        )
    return record


def generalization_bound(name: str, step: Optional[str] = None) -> sympy.Expr:
    """The generalisation bound of ``name`` as a sympy expression in ``N``, ``T`` and constants.

    ``step`` chooses the step-size schedule where the bound depends on it
    (``"constant"`` or ``"inverse_t"``, see the module doc); ``None`` means the record's
    default (``constant`` for ``sgd_convex``, ``inverse_t`` for ``sgd_nonconvex``).
    """
    return bound_record(name).bound(step)


def convergence_rate(name: str) -> sympy.Expr:
    """The convergence column of the table for ``name``; ``ValueError`` where it is "--"."""
    record = bound_record(name)
    if record.convergence is None:
        with_rate = ", ".join(r.name for r in BOUNDS if r.convergence is not None)
        raise ValueError(
            f"no convergence rate is catalogued for {name!r} (record {record.name}); "
            f"records with one: {with_rate}"
        )
    return record.convergence
