"""SGD-family update kernels: SGD (momentum, Nesterov), SignSGD, Signum, SignSGDW.

Every kernel has the uniform signature ``update(w, g, state, h, t, lr, diag)``: parameters
``w`` (updated in place), gradient ``g`` (read only), optimiser state ``state`` of shape
``(n_state, k)`` (updated in place), packed hyperparameters ``h`` (float64), 1-based step
``t``, scheduled learning rate ``lr``, and the diagnostics vector ``diag`` (unused here).
"""
from __future__ import annotations

import numpy as np

from ..jit import kernel, scalar_like


@kernel
def sgd_update(w, g, state, h, t, lr, diag):
    """SGD, PyTorch form (Robbins & Monro 1951; Polyak 1964; Sutskever et al. 2013).

    ``g ← g + λw`` (coupled decay); with momentum μ ≠ 0: ``b_1 = g``,
    ``b_t = μ b_{t−1} + (1−dampening) g``; Nesterov: ``g ← g + μ b`` else ``g ← b``;
    ``w ← w − η g``. Packed ``h = [μ, dampening, nesterov, λ]``; state row 0 is ``b``.
    """
    mu, keep, nesterov = scalar_like(w, h[0]), scalar_like(w, 1.0 - h[1]), h[2] != 0.0
    wd, lr = scalar_like(w, h[3]), scalar_like(w, lr)
    b = state[0]
    for i in range(w.size):
        gi = g[i] + wd * w[i]
        if mu != 0.0:
            if t == 1:
                bi = gi
            else:
                bi = mu * b[i] + keep * gi
            b[i] = bi
            gi = gi + mu * bi if nesterov else bi
        w[i] = w[i] - lr * gi


@kernel
def signsgd_update(w, g, state, h, t, lr, diag):
    """SignSGD (Bernstein et al. 2018): ``w ← w − η·sign(g)``, with ``sign(0) = 0``."""
    lr = scalar_like(w, lr)
    for i in range(w.size):
        w[i] = w[i] - lr * np.sign(g[i])


@kernel
def signum_update(w, g, state, h, t, lr, diag):
    """Signum (Bernstein et al. 2018): ``m ← β m + (1−β) g``, ``w ← w − η·sign(m)``.

    Packed ``h = [β]``; state row 0 is ``m``.
    """
    beta, rest, lr = scalar_like(w, h[0]), scalar_like(w, 1.0 - h[0]), scalar_like(w, lr)
    m = state[0]
    for i in range(w.size):
        mi = beta * m[i] + rest * g[i]
        m[i] = mi
        w[i] = w[i] - lr * np.sign(mi)


@kernel
def signsgdw_update(w, g, state, h, t, lr, diag):
    """SignSGD with decoupled decay: ``w ← w − ηλw``, then ``w ← w − η·sign(g)``.

    Packed ``h = [λ]``.
    """
    shrink, lr = scalar_like(w, lr * h[0]), scalar_like(w, lr)
    for i in range(w.size):
        wi = w[i] - shrink * w[i]
        w[i] = wi - lr * np.sign(g[i])
