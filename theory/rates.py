"""Asymptotic rates of bound expressions.

``rate_exponent(expr, var)`` is the exact exponent ``a`` with ``expr = var^(a + o(1))``,

    a = lim_{var -> oo} log(expr) / log(var),

computed by sympy (``-1``, ``-1/2``, ``beta*c/(beta*c + 1)``, ...).  It is ``0`` when
``expr`` does not grow polynomially in ``var`` (constant or logarithmic, e.g. the harmonic
number ``H_T`` of a ``c/t`` step schedule).

Exponential dependence -- the ``rho_hat^(-2T)`` factor of the Adam(W)-srf bound
(HomeAdam, arXiv 2603.02649) -- has no finite exponent: ``log(expr)/log(var)`` diverges.
``rate_exponent`` then raises ``ExponentialRateError`` (a ``ValueError``) that carries the
exponential rate ``k = lim log(expr)/var`` (``expr = e^(k var + o(var))``; for the srf
bound ``k = -2 log(rho_hat)``, a growth when ``rho_hat < 1``).  It never returns ``oo``, so
an exponential dependence cannot be mistaken for a number.

``growth_in(expr, var)`` names the class of the dependence: ``"exponential"``,
``"polynomial"`` (non-zero exponent, log factors allowed: ``T log T`` has exponent 1),
``"logarithmic"`` (exponent 0 but ``log expr`` still diverges, e.g. ``log T`` or
``1/log T``) or ``"constant"`` (``expr`` tends to a finite non-zero limit, including not
depending on ``var`` at all).  Symbols are matched by name; an expression with no symbol of
that name is constant in it.
"""

import functools
from typing import NamedTuple

import sympy


class ExponentialRateError(ValueError):
    """``expr`` depends exponentially on ``var``: no polynomial exponent exists.

    ``rate`` is ``k = lim_{var -> oo} log(expr)/var`` (``expr ~ e^(k var)``).
    """

    def __init__(self, expr: sympy.Expr, var: str, rate: sympy.Expr):
        self.expr, self.var, self.rate = expr, var, rate
        super().__init__(
            f"{expr} depends exponentially on {var} (log of it ~ ({rate})*{var}); "
            f"it has no polynomial rate exponent in {var}"
        )


class Asymptotics(NamedTuple):
    """``growth`` class and ``exponent``: the polynomial exponent, ``0`` for logarithmic or
    constant growth, or the exponential rate ``k`` when ``growth == "exponential"``."""

    growth: str
    exponent: sympy.Expr


def _symbol(expr: sympy.Expr, var) -> sympy.Symbol | None:
    name = str(var)
    return next((s for s in expr.free_symbols if s.name == name), None)


def _limit(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    value = sympy.limit(expr, x, sympy.oo)
    if value.has(sympy.Limit, sympy.AccumBounds, sympy.nan):
        raise ValueError(f"cannot determine the limit of {expr} as {x} -> oo")
    return value


def _total_limit(terms: list, scale: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """``lim sum(terms)/scale`` as the sum of the terms' limits (each simpler for sympy)."""
    total = sympy.simplify(sum(_limit(term / scale, x) for term in terms))
    if total is sympy.nan:
        raise ValueError(f"cannot determine the limit of ({sympy.Add(*terms)})/{scale}")
    return total


@functools.lru_cache(maxsize=None)
def _classify(expr: sympy.Expr, x: sympy.Symbol) -> Asymptotics:
    # log(expr) as a sum of terms; only the terms containing x matter
    terms = [
        term
        for term in sympy.Add.make_args(sympy.expand_log(sympy.log(expr), force=True))
        if term.has(x)
    ]
    rate = _total_limit(terms, x, x)
    if rate != 0:
        if rate.is_finite is False:
            raise ValueError(f"{expr} grows faster than exponentially in {x}")
        return Asymptotics("exponential", rate)
    exponent = _total_limit(terms, sympy.log(x), x)
    if exponent.is_finite is False:
        raise ValueError(f"{expr} grows faster than polynomially in {x}")
    if exponent != 0:
        return Asymptotics("polynomial", exponent)
    if _limit(sympy.Add(*terms), x).is_finite is False:  # whole sum: its terms may cancel
        return Asymptotics("logarithmic", exponent)
    return Asymptotics("constant", exponent)


def asymptotics(expr, var) -> Asymptotics:
    """Growth class and exponent of ``expr`` in ``var`` (never raises for exponential)."""
    expr = sympy.sympify(expr)
    x = _symbol(expr, var)
    if x is None:
        return Asymptotics("constant", sympy.Integer(0))
    if not x.is_positive:
        x_pos = sympy.Symbol(x.name, positive=True)
        expr, x = expr.subs(x, x_pos), x_pos
    return _classify(expr, x)


def rate_exponent(expr, var) -> sympy.Expr:
    """Exact ``lim log(expr)/log(var)`` as ``var -> oo``; see the module doc.

    Raises ``ExponentialRateError`` when the dependence on ``var`` is exponential.
    """
    result = asymptotics(expr, var)
    if result.growth == "exponential":
        raise ExponentialRateError(sympy.sympify(expr), str(var), result.exponent)
    return result.exponent


def growth_in(expr, var) -> str:
    """``"exponential"``, ``"polynomial"``, ``"logarithmic"`` or ``"constant"``: the class of
    ``expr``'s dependence on ``var`` as ``var -> oo`` (see the module doc)."""
    return asymptotics(expr, var).growth
