"""SPEC §3: the quantities logged during training, as one numba kernel.

Row layout of the scalar log (``METRICS``):

- ``train_loss``, ``train_error``, ``test_loss``, ``test_error``: mean logistic loss (without
  the L2 term) and 0-1 error on the training set and the fresh test set;
- ``gap`` = test loss − train loss;
- ``feature_pos``, ``feature_neg``: ``max_r γ_{j,r}``, ``γ_{j,r} = ⟨w_{j,r}, j·u⟩`` with ``u`` the
  unit feature direction, for ``j = +1, −1``;
- ``noise_mean``, ``noise_min``, ``noise_max``: over training samples ``i`` of
  ``max_r ρ_{i,r}``, ``ρ_{i,r} = ⟨w_{y_i,r}, ξ_i⟩`` with ``ξ_i`` the random part of sample
  ``i``'s noise patch (summed over noise patches when ``P > 2``); the per-sample values are
  logged too;
- ``weight_norm`` = ``‖θ‖_F`` (weights and biases), ``lr`` = the scheduled step size.
"""
from __future__ import annotations

import math


import numpy as np

from .jit import kernel
from .network import loss_and_error

METRICS = ("train_loss", "train_error", "test_loss", "test_error", "gap", "feature_pos",
           "feature_neg", "noise_mean", "noise_min", "noise_max", "weight_norm", "lr")
(TRAIN_LOSS, TRAIN_ERROR, TEST_LOSS, TEST_ERROR, GAP, FEATURE_POS, FEATURE_NEG, NOISE_MEAN,
 NOISE_MIN, NOISE_MAX, WEIGHT_NORM, LR) = range(len(METRICS))


@kernel
def record(w, train, y, test, yte, u, noise, act, q, c, has_bias, lr, z, slopes, row,
           memorisation):
    """Fill ``row`` (``len(METRICS)``) and ``memorisation`` (``n``) for parameters ``w``.

    ``train`` and ``test`` are ``(X, index, value)`` patch triples (see ``network``)."""
    P, U = slopes.shape
    m = U // 2
    d = u.size
    X, XI, XV = train
    row[TRAIN_LOSS], row[TRAIN_ERROR] = loss_and_error(w, X, XI, XV, y, act, q, c, has_bias, z, slopes)
    X, XI, XV = test
    row[TEST_LOSS], row[TEST_ERROR] = loss_and_error(w, X, XI, XV, yte, act, q, c, has_bias, z, slopes)
    row[GAP] = row[TEST_LOSS] - row[TRAIN_LOSS]
    z[:] = 0.0
    for k in range(d):
        for unit in range(U):
            z[unit] += w[k * U + unit] * u[k]
    row[FEATURE_POS] = np.max(z[:m])
    row[FEATURE_NEG] = np.max(-z[m:])
    total, low, high = 0.0, math.inf, -math.inf
    n = y.size
    for i in range(n):
        first = 0 if y[i] > 0 else m
        z[:] = 0.0
        for p in range(noise.shape[1]):
            for k in range(d):
                value = noise[i, p, k]
                if value != 0.0:
                    for r in range(m):
                        z[r] += w[k * U + first + r] * value
        best = np.max(z[:m])
        memorisation[i] = best
        total += best
        low = min(low, best)
        high = max(high, best)
    row[NOISE_MEAN], row[NOISE_MIN], row[NOISE_MAX] = total / n, low, high
    sq = 0.0
    for k in range(w.size):
        sq += w[k] * w[k]
    row[WEIGHT_NORM] = math.sqrt(sq)
    row[LR] = lr
