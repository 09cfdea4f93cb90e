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
#: Dense batches with at least this many multiply-adds per pass (``nb·P·2m·d``) go through
#: BLAS matrix products (``Z = X Wᵀ``, ``∇Wᵀ = Xᵀ A``) instead of the per-sample loops.
BLAS_MIN_WORK = 20_000_000


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
def _uses_blas(X, nb, U):
    n, P, d = X.shape
    return d > 0 and nb * P * U * d >= BLAS_MIN_WORK


@kernel
def _blas_margins(w, X, y, batch, nb, act, q, c, has_bias, U):
    """Margins ``y·f`` of ``X[batch[:nb]]`` and the slopes ``σ'`` (rows ``i·P + p``) via one
    matrix product ``Z = X Wᵀ`` (BLAS); returns ``(yf, slopes, rows)``."""
    n, P, d = X.shape
    m = U // 2
    if nb == n and batch[0] == 0 and batch[nb - 1] == nb - 1:
        rows = X.reshape(n * P, d)
    else:
        rows = np.empty((nb * P, d), dtype=X.dtype)
        for b in range(nb):
            rows[b * P:(b + 1) * P] = X[batch[b]]
    Z = np.dot(rows, w[: d * U].reshape(d, U))
    slopes = np.empty((nb * P, U))
    yf = np.zeros(nb)
    for b in range(nb):
        f = 0.0
        for p in range(P):
            for u in range(U):
                zu = Z[b * P + p, u] + (w[d * U + u] if has_bias else 0.0)
                s, ds = activation(zu, act, q)
                f += c * s if u < m else -c * s
                slopes[b * P + p, u] = ds
        yf[b] = y[batch[b]] * f
    return yf, slopes, rows


@kernel
def _blas_loss_and_grad(w, X, y, batch, nb, act, q, c, has_bias, grad, U):
    """:func:`loss_and_grad` for large dense batches: ``∇Wᵀ = Xᵀ A`` by BLAS."""
    n, P, d = X.shape
    m = U // 2
    yf, A, rows = _blas_margins(w, X, y, batch, nb, act, q, c, has_bias, U)
    total = 0.0
    for b in range(nb):
        if not math.isfinite(yf[b]):
            return math.nan
        total += softplus(-yf[b])
        coef = -y[batch[b]] * c / (1.0 + math.exp(yf[b])) / nb
        for p in range(P):
            for u in range(U):
                A[b * P + p, u] *= coef if u < m else -coef
    grad[: d * U] = np.dot(rows.T, A.astype(rows.dtype)).ravel()
    if has_bias:
        for u in range(U):
            grad[d * U + u] = np.sum(A[:, u])
    return total / nb


@kernel
def loss_and_grad(w, X, XI, XV, y, batch, nb, act, q, c, has_bias, l2, grad, z, slopes, a):
    """Mean logistic loss over ``batch[:nb]`` (plus L2) and its gradient into ``grad``.

    Returns the loss; a non-finite margin makes it non-finite (NaN).
    """
    P, U = slopes.shape
    m = U // 2
    if _uses_blas(X, nb, U):
        total = _blas_loss_and_grad(w, X, y, batch, nb, act, q, c, has_bias, grad, U)
        return _add_l2(w, grad, l2, total)
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
    return _add_l2(w, grad, l2, total / nb)


@kernel
def _add_l2(w, grad, l2, loss):
    """Coupled L2: ``grad += λ₂ θ``; returns ``loss + (λ₂/2)‖θ‖²``."""
    if l2 == 0.0:
        return loss
    sq = 0.0
    for k in range(w.size):
        sq += w[k] * w[k]
        grad[k] += l2 * w[k]
    return loss + 0.5 * l2 * sq


@kernel
def loss_and_error(w, X, XI, XV, y, act, q, c, has_bias, z, slopes):
    """Mean logistic loss and 0-1 error (``y·f ≤ 0`` counts as an error) over a whole set."""
    n = y.size
    U = z.size
    loss = 0.0
    wrong = 0
    big = _uses_blas(X, n, U)
    if big:
        margins = _blas_margins(w, X, y, np.arange(n), n, act, q, c, has_bias, U)[0]
    for i in range(n):
        if big:
            yf = margins[i]
        else:
            yf = y[i] * margin(w, X[i], XI[i], XV[i], act, q, c, has_bias, z, slopes)
        loss += softplus(-yf)
        if not (yf > 0.0):
            wrong += 1
    return loss / n, wrong / n
