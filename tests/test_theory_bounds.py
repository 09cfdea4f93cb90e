"""The SPEC §7 bound catalogue and the exact rates of its entries."""

import dataclasses

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import (
    BOUNDS, ExponentialRateError, bound_record, convergence_rate, generalization_bound,
    growth_in, rate_exponent, substitute,
)
from theory.symbols import L, N, T, alpha, beta, c, rho_hat


@pytest.mark.parametrize(
    "name, exponent",
    [
        ("sgd_convex", -1),
        ("sgd_strongly_convex", -1),
        ("sgd_nonconvex", -1),
        ("sgd", -1),
        ("adam", sympy.Rational(-1, 2)),
        ("adamw", sympy.Rational(-1, 2)),
        ("adam_srf", -1),
        ("adamw_srf", -1),
        ("homeadam", -1),
        ("homeadamw", -1),
    ],
)
def test_exponent_in_n(name, exponent):
    result = rate_exponent(generalization_bound(name), "N")
    assert isinstance(result, sympy.Rational)
    assert result == exponent


@pytest.mark.parametrize(
    "name, step, exponent, growth",
    [
        ("sgd_convex", "constant", 1, "polynomial"),
        ("sgd_convex", "inverse_t", 0, "logarithmic"),
        ("sgd_strongly_convex", None, 0, "constant"),
        ("adam", None, 0, "constant"),
        ("homeadam", None, 0, "constant"),
    ],
)
def test_exponent_and_growth_in_t(name, step, exponent, growth):
    bound = generalization_bound(name, step=step)
    assert rate_exponent(bound, "T") == exponent
    assert growth_in(bound, "T") == growth


def test_hardt_convex_constant_step_is_2_l2_alpha_t_over_n():
    bound = generalization_bound("sgd_convex", step="constant")
    assert sympy.simplify(bound - 2 * L**2 * alpha * T / N) == 0


def test_hardt_convex_inverse_t_step_is_a_harmonic_number():
    bound = generalization_bound("sgd_convex", step="inverse_t")
    assert sympy.simplify(bound - 2 * L**2 * c * sympy.harmonic(T) / N) == 0


def test_hardt_nonconvex_t_exponent():
    exponent = rate_exponent(generalization_bound("sgd_nonconvex"), "T")
    assert sympy.simplify(exponent - beta * c / (beta * c + 1)) == 0


def test_srf_is_exponential_in_t_and_has_no_exponent():
    bound = generalization_bound("adam_srf")
    assert growth_in(bound, "T") == "exponential"
    with pytest.raises(ExponentialRateError) as info:
        rate_exponent(bound, "T")
    assert sympy.simplify(info.value.rate + 2 * sympy.log(rho_hat)) == 0
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["homeadam", "adam_srf"])
def test_convergence_rate_is_t_to_minus_quarter(name):
    assert rate_exponent(convergence_rate(name), "T") == sympy.Rational(-1, 4)


@pytest.mark.parametrize("name", ["sgd", "sgd_convex", "adam", "adamw"])
def test_convergence_rate_missing_raises(name):
    with pytest.raises(ValueError, match="no convergence rate"):
        convergence_rate(name)


@pytest.mark.parametrize("name", ["invadam", "dualadam", "signsgd", "signum", "nonsense"])
def test_no_bound_is_invented(name):
    with pytest.raises(ValueError, match="no generalisation bound is catalogued") as info:
        generalization_bound(name)
    assert "homeadam" in str(info.value) and "sgd_convex" in str(info.value)


def test_plain_sgd_resolves_to_the_nonconvex_row():
    assert bound_record("sgd").name == "sgd_nonconvex"
    assert bound_record("AdamW").name == "adam"


@pytest.mark.parametrize(
    "name, step", [("sgd_nonconvex", "constant"), ("sgd_strongly_convex", "inverse_t"),
                   ("adam", "constant"), ("sgd_convex", "cosine")]
)
def test_uncovered_step_schedule_raises(name, step):
    with pytest.raises(ValueError, match="allowed"):
        generalization_bound(name, step=step)


def test_no_made_up_numbers_and_positive_constants():
    for record in BOUNDS:
        assert not record.expression.atoms(sympy.Float), record.name
        assert all(s.is_positive for s in record.bound().free_symbols), record.name
    assert [s.name for s in bound_record("adam").constants] == ["C_adam"]
    assert [s.name for s in bound_record("homeadam").constants] == ["C_home", "C_home_conv"]


def test_bound_evaluates_to_a_number_once_constants_are_given():
    values = {"L": 1, "alpha": sympy.Rational(1, 10), "T": 100, "N": 1000}
    assert substitute(generalization_bound("sgd_convex"), values) == sympy.Rational(1, 50)
    by_symbol = generalization_bound("sgd_convex").subs({L: 1, alpha: 0.1, T: 100, N: 1000})
    assert float(by_symbol.evalf()) == pytest.approx(0.02)


def test_assumptions_are_data():
    kinds = {a.kind for a in bound_record("sgd_nonconvex").assumptions}
    assert {"lipschitz", "smoothness", "loss_range", "step_size"} <= kinds
    step = next(a for a in bound_record("sgd_convex").assumptions if a.kind == "step_size")
    assert isinstance(step.condition, sympy.core.relational.Relational)


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BOUNDS[0].name = "other"


def test_rate_helpers_on_plain_expressions():
    x = sympy.Symbol("N")  # no assumptions: matched by name
    assert rate_exponent(3 * x**-2 + 1 / x**3, "N") == -2
    assert growth_in(sympy.exp(x), "N") == "exponential"
    assert growth_in(sympy.log(x), "N") == "logarithmic"
    assert growth_in(1 + 1 / x, "N") == "constant"
    assert growth_in(sympy.Integer(5), "N") == "constant"


@settings(max_examples=15, deadline=None)
@given(st.fractions(min_value=-3, max_value=3, max_denominator=8), st.integers(1, 50))
def test_rate_exponent_of_a_monomial_is_its_power(power, constant):
    power = sympy.Rational(power.numerator, power.denominator)
    assert rate_exponent(constant * N**power * sympy.log(3), "N") == power
