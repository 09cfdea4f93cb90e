"""SPEC §2: the two-layer CNN, its logistic loss and analytic gradient, in numba.

``f(W,x) = F_{+1}(W_{+1},x) − F_{−1}(W_{−1},x)``,
``F_j = c·Σ_{r=1..m} Σ_{p=1..P} σ(⟨w_{j,r}, x^(p)⟩ + b_{j,r})`` with ``σ(z) = max(z,0)^q``
(``relu``) or ``σ(z) = z`` (``linear``). Loss ``ℓ(y f) = log(1 + e^{−y f})`` averaged over the
batch, plus ``(λ₂/2)·‖θ‖²`` (coupled L2 on all parameters θ). Gradient
``∂ℓ/∂w_{j,r} = ℓ'(y f)·y·j·c·Σ_p σ'(⟨w_{j,r},x^(p)⟩ + b_{j,r})·x^(p)``, ``ℓ'(z) = −1/(1+e^z)``.

Layout: the ``U = 2m`` filters are "units" ``u = j·m + r`` (``j = 0`` is the ``+1`` class).
The flat parameter vector is ``θ = [Wᵀ.ravel(), b]`` with ``Wᵀ`` of shape ``(d, U)``
(coordinate-major) and biases ``b`` of shape ``(U,)`` when on; :func:`unflatten` gives
``W (2, m, d)`` and ``b (2, m)``. Coordinate-major storage makes every inner loop run over
the units, contiguous and vectorisable without reassociating any sum, for dense patches
(``x (P, d)``) and for sparse ones given as padded ``(index, value)`` lists
(``xi, xv (P, K)``, padding has value 0; ``K = 0`` means "use the dense ``x``").
Non-finite values propagate (NaN is never clipped to 0) so divergence is detected.
"""
from __future__ import annotations

import math

import numpy as np

from .jit import kernel

RELU, LINEAR = 0, 1
ACTIVATIONS = ("relu", "linear")


def n_params(m: int, d: int, bias: bool) -> int:
    return 2 * m * d + (2 * m if bias else 0)


def flatten(W: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """``W (2, m, d)`` and optional ``b (2, m)`` → flat ``θ`` in the kernel layout."""
    two, m, d = W.shape
    parts = [W.reshape(2 * m, d).T.ravel()]
    if b is not None:
        parts.append(np.asarray(b).ravel())
    return np.concatenate(parts)


def unflatten(theta: np.ndarray, m: int, d: int, bias: bool):
    """Flat ``θ`` → ``(W (2, m, d), b (2, m) or None)``."""
    U = 2 * m
    W = theta[: U * d].reshape(d, U).T.reshape(2, m, d)
    return W, (theta[U * d:].reshape(2, m) if bias else None)


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
def preactivations(w, x, xi, xv, p, has_bias, z):
    """``z[u] = ⟨w_u, x^(p)⟩ (+ b_u)`` for every unit, summed in coordinate order."""
    U = z.size
    d = (w.size - (U if has_bias else 0)) // U
    for u in range(U):
        z[u] = w[d * U + u] if has_bias else 0.0
    if xi.shape[1] > 0:
        for e in range(xi.shape[1]):
            value = xv[p, e]
            if value != 0.0:
                base = xi[p, e] * U
                for u in range(U):
                    z[u] += w[base + u] * value
    else:
        for k in range(d):
            value = x[p, k]
            base = k * U
            for u in range(U):
                z[u] += w[base + u] * value


@kernel
def accumulate(grad, x, xi, xv, p, has_bias, a):
    """``grad_u += a[u]·x^(p)`` (and ``a[u]`` into the bias) for every unit."""
    U = a.size
    d = (grad.size - (U if has_bias else 0)) // U
    if has_bias:
        for u in range(U):
            grad[d * U + u] += a[u]
    if xi.shape[1] > 0:
        for e in range(xi.shape[1]):
            value = xv[p, e]
            if value != 0.0:
                base = xi[p, e] * U
                for u in range(U):
                    grad[base + u] += a[u] * value
    else:
        for k in range(d):
            value = x[p, k]
            base = k * U
            for u in range(U):
                grad[base + u] += a[u] * value


@kernel
def margin(w, x, xi, xv, act, q, c, has_bias, z, slopes):
    """``f(W, x)`` for one input; writes ``σ'`` of every unit and patch into ``slopes (P, U)``."""
    P, U = slopes.shape
    m = U // 2
    f = 0.0
    for p in range(P):
        preactivations(w, x, xi, xv, p, has_bias, z)
        for u in range(U):
            s, ds = activation(z[u], act, q)
            f += c * s if u < m else -c * s
            slopes[p, u] = ds
    return f


@kernel
def loss_and_grad(w, X, XI, XV, y, batch, nb, act, q, c, has_bias, l2, grad, z, slopes, a):
    """Mean logistic loss over ``batch[:nb]`` (plus L2) and its gradient into ``grad``.

    Returns the loss; a non-finite margin makes it non-finite (NaN).
    """
    P, U = slopes.shape
    m = U // 2
    grad[:] = 0.0
    total = 0.0
    for b in range(nb):
        i = batch[b]
        f = margin(w, X[i], XI[i], XV[i], act, q, c, has_bias, z, slopes)
        yf = y[i] * f
        if not math.isfinite(yf):
            return math.nan
        total += softplus(-yf)
        coef = -y[i] * c / (1.0 + math.exp(yf)) / nb
        for p in range(P):
            active = False
            for u in range(U):
                a[u] = (coef if u < m else -coef) * slopes[p, u]
                active = active or a[u] != 0.0
            if active:
                accumulate(grad, X[i], XI[i], XV[i], p, has_bias, a)
    total /= nb
    if l2 != 0.0:
        sq = 0.0
        for k in range(w.size):
            sq += w[k] * w[k]
            grad[k] += l2 * w[k]
        total += 0.5 * l2 * sq
    return total


@kernel
def loss_and_error(w, X, XI, XV, y, act, q, c, has_bias, z, slopes):
    """Mean logistic loss and 0-1 error (``y·f ≤ 0`` counts as an error) over a whole set."""
    n = y.size
    loss = 0.0
    wrong = 0
    for i in range(n):
        yf = y[i] * margin(w, X[i], XI[i], XV[i], act, q, c, has_bias, z, slopes)
        loss += softplus(-yf)
        if not (yf > 0.0):
            wrong += 1
    return loss / n, wrong / n
