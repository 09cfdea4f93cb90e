"""SPEC §2: the two-layer CNN, its logistic loss and analytic gradient, in numba.

``f(W,x) = F_{+1}(W_{+1},x) − F_{−1}(W_{−1},x)``,
``F_j = c·Σ_{r=1..m} Σ_{p=1..P} σ(⟨w_{j,r}, x^(p)⟩ + b_{j,r})`` with ``σ(z) = max(z,0)^q``
(``relu``) or ``σ(z) = z`` (``linear``). Loss ``ℓ(y f) = log(1 + e^{−y f})`` averaged over the
batch, plus ``(λ₂/2)·‖θ‖²`` (coupled L2 on all parameters θ). Gradient
``∂ℓ/∂w_{j,r} = ℓ'(y f)·y·j·c·Σ_p σ'(⟨w_{j,r},x^(p)⟩ + b_{j,r})·x^(p)``, ``ℓ'(z) = −1/(1+e^z)``.

Parameters live in one flat vector ``θ = [W.ravel(), b.ravel()]`` with ``W`` of shape
``(2, m, d)`` (row ``j = 0`` is the ``+1`` class) and ``b`` of shape ``(2, m)`` when biases
are on. Non-finite values propagate (NaN is never clipped to 0) so divergence is detected.
"""
from __future__ import annotations

import math

import numpy as np

from .jit import kernel

RELU, LINEAR = 0, 1
ACTIVATIONS = ("relu", "linear")


def n_params(m: int, d: int, bias: bool) -> int:
    return 2 * m * d + (2 * m if bias else 0)


@kernel(inline="always")
def activation(z, act, q):
    """``(σ(z), σ'(z))``; NaN passes through as NaN."""
    if act == LINEAR:
        return z, 1.0
    if z > 0.0:
        if q == 1.0:
            return z, 1.0
        if q == 2.0:
            return z * z, 2.0 * z
        if q == 3.0:
            return z * z * z, 3.0 * z * z
        return z ** q, q * z ** (q - 1.0)
    if z <= 0.0:
        return 0.0, 0.0
    return z, z


@kernel(inline="always")
def softplus(z):
    """``log(1 + e^z)`` computed stably."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@kernel
def margin(w, x, act, q, c, m, has_bias, slopes):
    """``f(W, x)`` for one input ``x (P, d)``; writes ``σ'`` of every unit into ``slopes (2,m,P)``."""
    P, d = x.shape
    f = 0.0
    for j in range(2):
        sign = 1.0 if j == 0 else -1.0
        for r in range(m):
            base = (j * m + r) * d
            b = w[2 * m * d + j * m + r] if has_bias else 0.0
            for p in range(P):
                z = b
                for k in range(d):
                    z += w[base + k] * x[p, k]
                s, ds = activation(z, act, q)
                f += sign * c * s
                slopes[j, r, p] = ds
    return f


@kernel
def loss_and_grad(w, X, y, batch, nb, act, q, c, m, has_bias, l2, grad, slopes):
    """Mean logistic loss over ``X[batch[:nb]]`` (plus L2) and its gradient into ``grad``.

    Returns the loss; a non-finite margin makes it non-finite.
    """
    d = X.shape[2]
    P = X.shape[1]
    grad[:] = 0.0
    total = 0.0
    for b in range(nb):
        i = batch[b]
        f = margin(w, X[i], act, q, c, m, has_bias, slopes)
        z = y[i] * f
        if not math.isfinite(z):
            return math.nan
        total += softplus(-z)
        coef = -y[i] * c / (1.0 + math.exp(z)) / nb
        for j in range(2):
            sign = coef if j == 0 else -coef
            for r in range(m):
                base = (j * m + r) * d
                for p in range(P):
                    a = sign * slopes[j, r, p]
                    if a != 0.0:
                        for k in range(d):
                            grad[base + k] += a * X[i, p, k]
                        if has_bias:
                            grad[2 * m * d + j * m + r] += a
    total /= nb
    if l2 != 0.0:
        sq = 0.0
        for k in range(w.size):
            sq += w[k] * w[k]
            grad[k] += l2 * w[k]
        total += 0.5 * l2 * sq
    return total


@kernel
def loss_and_error(w, X, y, act, q, c, m, has_bias, slopes):
    """Mean logistic loss and 0-1 error (``y·f ≤ 0`` counts as an error) over all of ``X``."""
    n = X.shape[0]
    loss = 0.0
    wrong = 0
    for i in range(n):
        z = y[i] * margin(w, X[i], act, q, c, m, has_bias, slopes)
        loss += softplus(-z)
        if not (z > 0.0):
            wrong += 1
    return loss / n, wrong / n
