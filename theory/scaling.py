"""Measured rates: a power law fitted to repeated measurements, and its verdict against a bound.

``fit_power_law(groups)`` takes, for each ``x`` (e.g. the sample size ``n``), the repeated
measurements at that ``x`` (e.g. ``δ_T`` of every coupled pair) and fits

    log ȳ(x) = a + b log x

by ordinary least squares on the per-``x`` means ``ȳ``. The interval for ``b`` is a
percentile bootstrap: the measurements are resampled with replacement *within* each ``x``
(pairs stay at their ``n``), the means and the slope are recomputed, and the
``(1 ± confidence)/2`` quantiles of the slopes are the interval (SPEC §6). An ``x`` whose
mean is zero or negative (a generalisation gap can be) cannot enter log space: it is left
out with the reason recorded, never raised; bootstrap resamples with a non-positive mean at
a kept ``x`` are dropped and counted.

``rate_verdict(interval, exponent)`` states in words how the fitted interval ``[lo, hi]``
stands against a bound's exponent ``r`` (a bound ``O(n^r)`` is an upper bound, so decaying
faster is allowed), checked in this order:

1. ``inconclusive``: the interval is wider than ``max_width``;
2. ``decays at least as fast as the bound``: ``hi ≤ r + margin``;
3. ``consistent with the bound's rate``: ``lo ≤ r ≤ hi``;
4. ``decays slower than the bound``: ``lo > r``.

A fitted exponent over a finite range of ``x`` is evidence about a rate, not a proof.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

FASTER = "decays at least as fast as the bound"
CONSISTENT = "consistent with the bound's rate"
SLOWER = "decays slower than the bound"
INCONCLUSIVE = "inconclusive"
NO_BOUND = "no bound to compare with"
NOT_FITTED = "not fitted"
VERDICTS = (FASTER, CONSISTENT, SLOWER, INCONCLUSIVE, NO_BOUND, NOT_FITTED)

#: Defaults of :func:`rate_verdict`.
MARGIN = 0.1
MAX_WIDTH = 1.0


@dataclass(frozen=True)
class PowerLawFit:
    """``log ȳ = intercept + exponent·log x`` on the kept ``x`` and its bootstrap interval.

    ``exponent``, ``intercept`` and ``interval`` are ``None`` when fewer than two ``x`` are
    left to fit (``excluded`` says why each was left out)."""

    exponent: Optional[float]
    intercept: Optional[float]
    interval: Optional[tuple]
    confidence: float
    x: tuple
    means: tuple
    excluded: dict
    n_boot: int
    dropped_resamples: int

    @property
    def fitted(self) -> bool:
        return self.exponent is not None


def _slopes(log_x: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """OLS slopes of each row of ``log_y`` against ``log_x``."""
    centred = log_x - log_x.mean()
    return (log_y - log_y.mean(axis=-1, keepdims=True)) @ centred / (centred @ centred)


def fit_power_law(groups: Mapping[float, Sequence[float]], confidence: float = 0.95,
                  n_boot: int = 2000, seed: int = 0) -> PowerLawFit:
    """Fit ``log ȳ = a + b log x`` to ``groups`` (``x`` → its measurements); see the module doc.

    ``seed`` makes the bootstrap reproducible. Non-finite measurements are an error (a
    diverged run must be taken out, and counted, by the caller)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence = {confidence}: must be in (0, 1)")
    if n_boot < 1:
        raise ValueError(f"n_boot = {n_boot}: must be an integer ≥ 1")
    kept, samples, excluded = [], [], {}
    for x in sorted(groups):
        values = np.asarray(groups[x], dtype=float).ravel()
        if not np.all(np.isfinite(values)):
            raise ValueError(f"measurements at x = {x} are not all finite")
        if x <= 0:
            excluded[float(x)] = "x ≤ 0 cannot be fitted in log space"
        elif values.size == 0:
            excluded[float(x)] = "no measurements"
        elif values.mean() <= 0:
            excluded[float(x)] = f"mean {values.mean():.3g} ≤ 0 cannot be fitted in log space"
        else:
            kept.append(float(x))
            samples.append(values)
    means = tuple(float(v.mean()) for v in samples)
    if len(kept) < 2:
        return PowerLawFit(None, None, None, confidence, tuple(kept), means, excluded, n_boot, 0)
    log_x = np.log(np.array(kept))
    log_means = np.log(np.array(means))
    exponent = float(_slopes(log_x, log_means[None, :])[0])
    intercept = float(log_means.mean() - exponent * log_x.mean())
    rng = np.random.Generator(np.random.PCG64(seed))
    resampled = np.column_stack([v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
                                 for v in samples])
    positive = np.all(resampled > 0, axis=1)
    slopes = _slopes(log_x, np.log(resampled[positive]))
    tail = (1 - confidence) / 2
    interval = (tuple(float(q) for q in np.quantile(slopes, [tail, 1 - tail]))
                if slopes.size else None)
    return PowerLawFit(exponent, intercept, interval, confidence, tuple(kept), means, excluded,
                       n_boot, int(n_boot - positive.sum()))


def rate_verdict(interval: Optional[tuple], exponent: Optional[float], margin: float = MARGIN,
                 max_width: float = MAX_WIDTH) -> str:
    """The verdict of a fitted ``interval`` against a bound's ``exponent`` (module doc);
    ``NO_BOUND`` when there is no exponent, ``NOT_FITTED`` when there is no interval."""
    if exponent is None:
        return NO_BOUND
    if interval is None:
        return NOT_FITTED
    low, high = interval
    if high - low > max_width:
        return INCONCLUSIVE
    if high <= exponent + margin:
        return FASTER
    if low <= exponent <= high:
        return CONSISTENT
    return SLOWER
