"""Hold measurements against a bound's *rate*, not just a number.

``fit_constant(bound, measurements, var="N", ...)``:

1. substitute the known symbols (``subs``); the free symbols left besides ``var`` are the
   unknown constants (for an ``O(.)`` bound, the single multiplicative constant such as
   ``C_adam``);
2. fit them by least squares in log space, ``min sum_i (log b(x_i; C) - log y_i)^2``, on the
   points with the smaller ``var`` (``x <= fit_upto``, or the lowest ``fit_fraction`` of the
   distinct ``x`` values);
   When no free symbol is left (every constant known) the bound is *evaluated*, not
   fitted: ``mode = "evaluated"`` and the verdict is ``"holds"`` when every measurement lies
   at or below the bound's value (``ratios`` = measured/bound at every point), ``"violated"``
   otherwise. Several free symbols are unidentifiable from a rate (a bound's constants enter
   as one factor) and raise ``ValueError`` naming them;
3. predict the held-out larger-``x`` points and compare: log error ``log(pred/measured)``,
   relative error ``pred/measured - 1``.  The verdict is ``"consistent"`` when every
   ``|log error| <= log_tolerance`` (default ``log 2``: within a factor 2),
   ``"violated"`` when the worst point lies *above* the prediction (the measurements decay
   slower than the bound's rate, e.g. ``N^-1/2`` data against an ``O(1/N)`` bound), and
   ``"loose"`` when it lies *below* (the measurements decay faster than the rate);
4. independently, fit a free exponent on all points, ``log y = a + b log x`` (ordinary
   least squares, ``scipy.stats.linregress``), with a two-sided Student-t confidence
   interval ``b +- t_{(1+confidence)/2, n-2} * stderr``, reported beside the bound's exact
   exponent (``theory.rates.rate_exponent``).  Over a finite range this is evidence about a
   rate, not a proof (SPEC §6).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

import numpy as np
import sympy
from scipy import optimize, stats

from .bounds import generalization_bound
from .rates import asymptotics
from .symbols import substitute

#: Relative slack for rounding when an evaluated bound is compared with a measurement.
EVALUATED_RTOL = 1e-12


@dataclass(frozen=True)
class Calibration:
    """Result of ``fit_constant``; see the module doc for every quantity."""

    bound: sympy.Expr  # the bound after ``subs``, constants still symbolic
    fitted_bound: sympy.Expr  # the bound with the fitted constants substituted
    var: str
    constants: dict  # fitted constant name -> value, sorted by name
    fit_x: tuple
    fit_y: tuple
    test_x: tuple
    measured: tuple
    predicted: tuple
    log_errors: tuple  # log(predicted / measured) per held-out point
    relative_errors: tuple  # predicted / measured - 1 per held-out point
    max_abs_log_error: float
    log_tolerance: float
    verdict: str  # fitted: "consistent" | "violated" | "loose"; evaluated: "holds" | "violated"
    fitted_exponent: float
    exponent_interval: tuple  # (low, high) at ``confidence``
    confidence: float
    bound_growth: str  # theory.rates.growth_in(bound, var)
    bound_exponent: Optional[sympy.Expr]  # exact exponent; None when exponential in var
    mode: str = "fitted"  # "fitted" | "evaluated" (no free constant left)
    ratios: tuple = ()  # evaluated: measured / bound at every point (fit and held-out)

    @property
    def passed(self) -> bool:
        """Fitted: the bound's rate, calibrated on small ``var``, predicts the rest.
        Evaluated: every measurement is at or below the bound."""
        return self.verdict in ("consistent", "holds")

    @property
    def exponent_in_interval(self) -> Optional[bool]:
        """Whether the bound's exponent lies in the fitted exponent's interval."""
        if self.bound_exponent is None or self.bound_exponent.free_symbols:
            return None
        low, high = self.exponent_interval
        return bool(low <= float(self.bound_exponent) <= high)


def _floats(values) -> tuple:
    return tuple(float(v) for v in values)


def _as_arrays(measurements) -> tuple:
    if isinstance(measurements, Mapping):
        xs, ys = list(measurements.keys()), list(measurements.values())
    else:
        xs, ys = measurements
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise ValueError("measurements: a mapping x -> value or two equal-length 1-d arrays")
    both = np.concatenate([xs, ys])
    if not (np.all(np.isfinite(both)) and np.all(both > 0)):
        raise ValueError("measurements must be finite and positive (compared in log space)")
    if len(xs) < 3:
        raise ValueError("need at least 3 measurements to fit an exponent with an interval")
    return xs, ys


def _fit_mask(xs, fit_fraction: float, fit_upto: Optional[float]) -> np.ndarray:
    if fit_upto is None:
        if not 0 < fit_fraction < 1:
            raise ValueError(f"fit_fraction must be in (0, 1), got {fit_fraction}")
        distinct = np.unique(xs)
        fit_upto = distinct[max(1, int(fit_fraction * len(distinct))) - 1]
    mask = xs <= fit_upto
    if mask.all() or not mask.any():
        raise ValueError(
            f"the split at x <= {fit_upto} leaves no fit points or no held-out points"
        )
    return mask


def _unknowns(expr: sympy.Expr, x: sympy.Symbol) -> list:
    unknowns = sorted(expr.free_symbols - {x}, key=str)
    not_positive = [s.name for s in unknowns if not s.is_positive]
    if not_positive:
        raise ValueError(
            f"cannot fit {', '.join(not_positive)}: not declared positive; substitute via subs"
        )
    if len(unknowns) > 1:
        raise ValueError(
            f"cannot fit {', '.join(s.name for s in unknowns)} together: a rate identifies one "
            "constant factor; substitute all but one via subs"
        )
    return unknowns


def fit_constant(
    bound,
    measurements,
    var: str = "N",
    subs: Optional[Mapping] = None,
    fit_fraction: float = 0.5,
    fit_upto: Optional[float] = None,
    log_tolerance: float = math.log(2),
    confidence: float = 0.95,
) -> Calibration:
    """Fit the unknown constant(s) of ``bound`` on small ``var`` and test the prediction.

    ``bound`` is a sympy expression or a catalogue name (``theory.generalization_bound``);
    ``measurements`` a mapping ``x -> value`` or a pair ``(xs, values)`` (repeated ``x``
    allowed); ``subs`` substitutes the known symbols (``theory.symbols.substitute``: keys
    are symbols or their names; names the bound does not contain are ignored).
    See the module doc for the method and the verdict.
    """
    expr = generalization_bound(bound) if isinstance(bound, str) else sympy.sympify(bound)
    expr = substitute(expr, subs or {})
    x = next((s for s in expr.free_symbols if s.name == var), None)
    if x is None:
        raise ValueError(f"the bound {expr} does not depend on {var!r} after substitution")
    unknowns = _unknowns(expr, x)
    xs, ys = _as_arrays(measurements)
    fit = _fit_mask(xs, fit_fraction, fit_upto)

    evaluate = sympy.lambdify([x, *unknowns], expr, ["numpy", "scipy"])  # scipy: harmonic, ...

    def model(points, log_constants):
        return np.broadcast_to(evaluate(points, *np.exp(log_constants)), points.shape)

    def log_residuals(log_constants):
        return np.log(model(xs[fit], log_constants)) - np.log(ys[fit])

    log_constants = (
        optimize.least_squares(log_residuals, np.zeros(len(unknowns))).x if unknowns else []
    )
    constants = {s.name: float(np.exp(v)) for s, v in zip(unknowns, log_constants)}

    test_x, measured = xs[~fit], ys[~fit]
    predicted = model(test_x, log_constants)
    log_errors = np.log(predicted) - np.log(measured)
    worst = int(np.argmax(np.abs(log_errors)))
    ratios = ()
    if not unknowns:
        ratios = _floats(ys / model(xs, log_constants))
        verdict = "holds" if max(ratios) <= 1 + EVALUATED_RTOL else "violated"
    elif abs(log_errors[worst]) <= log_tolerance:
        verdict = "consistent"
    else:
        verdict = "violated" if log_errors[worst] < 0 else "loose"

    regression = stats.linregress(np.log(xs), np.log(ys))
    half_width = stats.t.ppf((1 + confidence) / 2, len(xs) - 2) * regression.stderr
    growth, exponent = asymptotics(expr, var)
    return Calibration(
        bound=expr,
        fitted_bound=expr.subs({s: constants[s.name] for s in unknowns}),
        var=var,
        constants=constants,
        fit_x=_floats(xs[fit]),
        fit_y=_floats(ys[fit]),
        test_x=_floats(test_x),
        measured=_floats(measured),
        predicted=_floats(predicted),
        log_errors=_floats(log_errors),
        relative_errors=_floats(predicted / measured - 1),
        max_abs_log_error=float(abs(log_errors[worst])),
        log_tolerance=log_tolerance,
        verdict=verdict,
        fitted_exponent=float(regression.slope),
        exponent_interval=_floats((regression.slope - half_width, regression.slope + half_width)),
        confidence=confidence,
        bound_growth=growth,
        bound_exponent=None if growth == "exponential" else exponent,
        mode="fitted" if unknowns else "evaluated",
        ratios=ratios,
    )
