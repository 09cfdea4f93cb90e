"""fit_constant: planted constants and rates are recovered; wrong rates are caught."""

import math

import numpy as np
import pytest
import sympy

from theory import fit_constant, generalization_bound, substitute

SIZES = np.repeat(np.geomspace(100, 10_000, 7), 3)  # 3 repeats per N


def noisy(values, seed=0, sigma=0.1):
    """Multiplicative log-normal noise, seeded."""
    rng = np.random.default_rng(seed)
    return values * np.exp(sigma * rng.standard_normal(values.shape))


def test_recovers_planted_constant_and_rate():
    result = fit_constant("homeadam", (SIZES, noisy(3.0 / SIZES)))
    assert result.constants.keys() == {"C_home"}
    assert result.constants["C_home"] == pytest.approx(3.0, rel=0.1)
    assert result.verdict == "consistent" and result.passed
    assert result.max_abs_log_error < 0.3
    assert max(abs(e) for e in result.relative_errors) < 0.35
    assert result.bound_exponent == -1 and result.bound_growth == "polynomial"
    low, high = result.exponent_interval
    assert low < -1 < high and high - low < 0.2
    assert result.exponent_in_interval is True
    assert set(result.fit_x) == set(SIZES[: 3 * 3])  # lower half of the 7 distinct N
    assert min(result.test_x) > max(result.fit_x)


def test_slower_rate_than_the_bound_fails():
    # N^-1/2 data held against an O(1/N) bound: the constant fitted on small N underpredicts
    result = fit_constant("homeadam", (SIZES, noisy(3.0 / np.sqrt(SIZES), seed=1)))
    assert result.verdict == "violated" and not result.passed
    assert result.max_abs_log_error > 1.0
    assert all(e < 0 for e in result.log_errors[-3:])  # prediction below the measurements
    assert result.fitted_exponent == pytest.approx(-0.5, abs=0.05)
    assert result.exponent_in_interval is False


def test_faster_rate_than_the_bound_is_loose():
    result = fit_constant("adam", (SIZES, noisy(3.0 / SIZES, seed=2)))
    assert result.verdict == "loose" and not result.passed
    assert result.bound_exponent == sympy.Rational(-1, 2)


def test_mapping_input_and_fit_upto():
    sizes = [100, 200, 400, 800, 1600]
    result = fit_constant("adam", {n: 2.5 / math.sqrt(n) for n in sizes}, fit_upto=200)
    assert result.fit_x == (100.0, 200.0)
    assert result.test_x == (400.0, 800.0, 1600.0)
    assert result.constants["C_adam"] == pytest.approx(2.5, rel=1e-9)
    assert result.max_abs_log_error < 1e-9
    assert result.fitted_exponent == pytest.approx(-0.5, abs=1e-9)


def test_subs_leaves_only_the_multiplicative_constant():
    subs = {"T": 10, "rho_hat": sympy.Rational(1, 2), "L": 1}  # L is absent: ignored
    sizes = np.geomspace(50, 5000, 6)
    measured = 7.0 * 2**20 / sizes
    result = fit_constant(generalization_bound("adam_srf"), (sizes, measured), subs=subs)
    assert result.constants.keys() == {"C_srf"}
    assert result.constants["C_srf"] == pytest.approx(7.0, rel=1e-9)
    assert result.passed


def test_fully_specified_bound_fits_nothing():
    subs = {"L": 1, "beta": 1, "c": 1, "T": 100}
    bound = generalization_bound("sgd_nonconvex")
    sizes = np.array([100.0, 200.0, 400.0, 800.0])
    exact = np.array([float(substitute(bound, {**subs, "N": n})) for n in sizes])
    result = fit_constant(bound, (sizes, exact), subs=subs)
    assert result.constants == {}
    assert result.predicted == pytest.approx(tuple(exact[2:]))
    assert result.passed


def test_exponential_var_has_no_bound_exponent():
    steps = np.arange(1.0, 9.0)
    result = fit_constant("adam_srf", (steps, 4.0 ** steps / 10), var="T",
                          subs={"N": 10, "rho_hat": sympy.Rational(1, 2)})
    assert result.bound_growth == "exponential" and result.bound_exponent is None
    assert result.exponent_in_interval is None
    assert result.constants["C_srf"] == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize(
    "measurements, kwargs, message",
    [
        (([100, 200, 400], [1.0, -1.0, 1.0]), {}, "positive"),
        (([100, 200], [1.0, 0.5]), {}, "at least 3"),
        (([100, 200, 400], [1.0, 0.5, 0.25]), {"fit_upto": 1000}, "no held-out"),
        (([100, 200, 400], [1.0, 0.5, 0.25]), {"fit_fraction": 1.5}, "fit_fraction"),
        (([100, 200, 400], [1.0, 0.5, 0.25]), {"var": "d"}, "does not depend"),
    ],
)
def test_bad_input_raises(measurements, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_constant("homeadam", measurements, **kwargs)
