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


from .network import loss_and_error
from .jit import kernel

METRICS = ("train_loss", "train_error", "test_loss", "test_error", "gap", "feature_pos",
           "feature_neg", "noise_mean", "noise_min", "noise_max", "weight_norm", "lr")
(TRAIN_LOSS, TRAIN_ERROR, TEST_LOSS, TEST_ERROR, GAP, FEATURE_POS, FEATURE_NEG, NOISE_MEAN,
 NOISE_MIN, NOISE_MAX, WEIGHT_NORM, LR) = range(len(METRICS))


@kernel
def record(w, X, y, Xte, yte, u, noise, act, q, c, m, has_bias, lr, slopes, row, memorisation):
    """Fill ``row`` (``len(METRICS)``) and ``memorisation`` (``n``) for parameters ``w``."""
    d = X.shape[2]
    row[TRAIN_LOSS], row[TRAIN_ERROR] = loss_and_error(w, X, y, act, q, c, m, has_bias, slopes)
    row[TEST_LOSS], row[TEST_ERROR] = loss_and_error(w, Xte, yte, act, q, c, m, has_bias, slopes)
    row[GAP] = row[TEST_LOSS] - row[TRAIN_LOSS]
    for j in range(2):
        best = -math.inf
        for r in range(m):
            base = (j * m + r) * d
            g = 0.0
            for k in range(d):
                g += w[base + k] * u[k]
            best = max(best, g if j == 0 else -g)
        row[FEATURE_POS + j] = best
    total, low, high = 0.0, math.inf, -math.inf
    n = X.shape[0]
    for i in range(n):
        j = 0 if y[i] > 0 else 1
        best = -math.inf
        for r in range(m):
            base = (j * m + r) * d
            rho = 0.0
            for p in range(noise.shape[1]):
                for k in range(d):
                    rho += w[base + k] * noise[i, p, k]
            best = max(best, rho)
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


def metric_index(name: str) -> int:
    return METRICS.index(name)



