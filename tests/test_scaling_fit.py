"""Measured rates (theory.scaling): the bootstrap fit recovers planted power laws with honest
intervals, excludes what log space cannot hold, and words its verdicts by the stated rule."""
import math

import numpy as np
import pytest
import sympy

from theory import fit_constant, fit_power_law, generalization_bound, rate_verdict
from theory.scaling import CONSISTENT, FASTER, INCONCLUSIVE, NO_BOUND, NOT_FITTED, SLOWER

SIZES = (50, 100, 200, 400, 800)


def planted(exponent, rng, pairs=32, sigma=0.5, scale=3.0):
    """``scale·n^b`` times log-normal noise (mean-one), ``pairs`` draws per ``n``."""
    return {n: scale * n ** exponent * np.exp(sigma * rng.standard_normal(pairs) - sigma**2 / 2)
            for n in SIZES}


def test_recovers_a_planted_exponent():
    fit = fit_power_law(planted(-0.7, np.random.default_rng(0), pairs=400))
    assert fit.exponent == pytest.approx(-0.7, abs=0.05)
    assert fit.interval[0] < -0.7 < fit.interval[1]
    assert fit.interval[1] - fit.interval[0] < 0.15
    assert fit.x == SIZES and not fit.excluded


def test_interval_covers_the_true_exponent_in_at_least_90_percent_of_repetitions():
    rng = np.random.default_rng(1)
    covered = 0
    repetitions = 200
    for rep in range(repetitions):
        fit = fit_power_law(planted(-1.0, rng), n_boot=1000, seed=rep)
        covered += fit.interval[0] <= -1.0 <= fit.interval[1]
    assert covered / repetitions >= 0.90


def test_interval_does_not_cover_a_wrong_exponent():
    fit = fit_power_law(planted(-0.5, np.random.default_rng(2), pairs=200))
    assert not fit.interval[0] <= -1.0 <= fit.interval[1]


def test_bootstrap_is_reproducible_from_its_seed():
    groups = planted(-1.0, np.random.default_rng(3))
    assert fit_power_law(groups, seed=4).interval == fit_power_law(groups, seed=4).interval
    assert fit_power_law(groups, seed=4).interval != fit_power_law(groups, seed=5).interval


def test_non_positive_means_are_reported_and_left_out():
    groups = {50: [0.2, 0.3], 100: [0.1, 0.12], 200: [0.0, 0.0], 400: [-0.1, 0.05]}
    fit = fit_power_law(groups)
    assert fit.x == (50.0, 100.0)
    assert set(fit.excluded) == {200.0, 400.0}
    assert "≤ 0" in fit.excluded[200.0] and "log space" in fit.excluded[400.0]
    assert fit.exponent is not None


def test_fewer_than_two_usable_sizes_is_not_fitted_not_an_exception():
    fit = fit_power_law({50: [0.0, 0.0], 100: [1.0, 2.0]})
    assert not fit.fitted and fit.interval is None and 50.0 in fit.excluded
    assert rate_verdict(fit.interval, -1.0) == NOT_FITTED


def test_non_finite_measurements_are_an_error():
    with pytest.raises(ValueError, match="not all finite"):
        fit_power_law({50: [1.0, math.nan], 100: [1.0, 1.0]})


@pytest.mark.parametrize("interval,expected", [
    ((-1.3, -0.95), FASTER),          # upper end within the margin of −1
    ((-2.5, -1.6), FASTER),           # decays faster than the bound everywhere
    ((-1.2, -0.6), CONSISTENT),       # contains −1, upper end beyond the margin
    ((-0.8, -0.4), SLOWER),           # lower end above −1
    ((-1.9, -0.5), INCONCLUSIVE),     # wider than the limit (1.0)
])
def test_verdicts_follow_the_stated_rule(interval, expected):
    assert rate_verdict(interval, -1.0) == expected


def test_verdict_without_a_bound():
    assert rate_verdict((-1.0, -0.9), None) == NO_BOUND


def test_evaluated_bound_holds_or_is_violated():
    subs = {"L": 2.0, "alpha": 0.1, "T": 100}
    bound = generalization_bound("sgd_convex")
    sizes = np.array([50.0, 100.0, 200.0, 400.0])
    values = 2 * 2.0**2 * 0.1 * 100 / sizes
    below = fit_constant(bound, (sizes, 0.5 * values), subs=subs)
    assert below.mode == "evaluated" and below.verdict == "holds" and below.passed
    assert below.ratios == pytest.approx((0.5,) * 4)
    above = fit_constant(bound, (sizes, values * np.array([0.5, 0.5, 0.5, 1.5])), subs=subs)
    assert above.verdict == "violated" and not above.passed


def test_several_free_constants_are_an_error_that_names_them():
    with pytest.raises(ValueError, match="cannot fit L, beta, c together"):
        fit_constant("sgd_nonconvex", {100: 1.0, 200: 0.5, 400: 0.25}, subs={"T": 10})
