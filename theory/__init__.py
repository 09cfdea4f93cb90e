"""theory: the papers' generalisation bounds and data-model theorems, symbolically.

Self-contained (stdlib, numpy, scipy, sympy only; never imports the simulator).

* ``generalization_bound(name, step=None)`` / ``convergence_rate(name)`` / ``bound_record``:
  the SPEC §7 bound catalogue (``theory.bounds``);
* ``rate_exponent(expr, var)`` / ``growth_in(expr, var)``: exact asymptotic rates
  (``theory.rates``); exponential dependence raises ``ExponentialRateError``;
* ``fit_constant(bound, measurements, ...)``: calibrate a bound's unknown constant on small
  ``N`` and test its rate on the rest (``theory.calibration``);
* ``fit_power_law(groups)`` / ``rate_verdict(interval, exponent)``: a measured rate with a
  bootstrap interval, and its verdict in words against a bound's exponent
  (``theory.scaling``);
* ``theorems()`` / ``theorems.predict(config, constants=None)``: the data-model theorems
  as testable predictions (``theory.data_theorems``);
* ``theory.table.render(fmt)``: the bound table as text, LaTeX or JSON.

All symbols (``theory.symbols``) are declared positive, so ``expr.subs`` needs those symbol
objects; ``substitute(expr, {"L": 1, ...})`` accepts names as well.
"""

from . import table
from .bounds import BOUNDS, Assumption, Bound, bound_record, convergence_rate, generalization_bound
from .calibration import Calibration, fit_constant
from .data_theorems import THEOREMS, theorems
from .rates import Asymptotics, ExponentialRateError, asymptotics, growth_in, rate_exponent
from .scaling import VERDICTS, PowerLawFit, fit_power_law, rate_verdict
from .symbols import substitute
from .theorem_model import (
    DEFAULT_CONSTANTS, INTERMEDIATE, PREMISE_NOT_MET, Condition, Evidence, Prediction, Regime,
    Theorem,
)

__all__ = [
    "BOUNDS", "Assumption", "Asymptotics", "Bound", "Calibration", "Condition",
    "DEFAULT_CONSTANTS", "Evidence", "ExponentialRateError", "INTERMEDIATE", "PREMISE_NOT_MET",
    "PowerLawFit", "Prediction", "Regime", "THEOREMS", "Theorem", "VERDICTS", "asymptotics",
    "bound_record", "convergence_rate", "fit_constant", "fit_power_law", "generalization_bound",
    "growth_in", "rate_exponent", "rate_verdict", "substitute", "table", "theorems",
]
