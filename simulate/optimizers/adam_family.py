"""Adam-family update kernels: Adam(W), Adam(W)-srf, HomeAdam(W), InvAdam, DualAdam.

Uniform signature ``update(w, g, state, h, t, lr, diag)`` (see ``sgd_family``). State rows:
``state[0] = m``, ``state[1] = v``. Packed hyperparameters ``h`` (slots in ``hyper.py``):
``[β1, β2, ε, λ, bias_correction, decoupled, extra…]``. Shared moment update, for every rule:

    decoupled decay:  w ← w − η λ w           (AdamW order: before the step)
    coupled decay:    g ← g + λ w             (PyTorch ``Adam(weight_decay)``, ℓ2-Adam)
    m ← β1 m + (1−β1) g,   v ← β2 v + (1−β2) g²
    m̂ = m / (1−β1^t),      v̂ = v / (1−β2^t)   (m̂ = m, v̂ = v without bias correction)

Only the final step differs between the rules.
"""
from __future__ import annotations

import math

from numba import njit

from .hyper import B1, B2, BIAS_CORRECTION, DECOUPLED, EPS, EXTRA, WD

# Step forms of the shared kernel.
ADAM, SRF, INVERSE = 0, 1, 2


@njit(cache=True, nogil=True, inline="always")
def _corrections(h, t):
    """Bias-correction divisors ``(1−β1^t, 1−β2^t)``, or ``(1, 1)`` when switched off."""
    if h[BIAS_CORRECTION] != 0.0:
        return 1.0 - h[B1] ** t, 1.0 - h[B2] ** t
    return 1.0, 1.0


@njit(cache=True, nogil=True, inline="always")
def _moments(w, g, m, v, i, h, lr):
    """Decay and moment update of coordinate ``i``; returns the decayed weight."""
    wi = w[i]
    gi = g[i]
    if h[DECOUPLED] != 0.0:
        wi = wi - lr * h[WD] * wi
    else:
        gi = gi + h[WD] * wi
    m[i] = h[B1] * m[i] + (1.0 - h[B1]) * gi
    v[i] = h[B2] * v[i] + (1.0 - h[B2]) * gi * gi
    return wi


@njit(cache=True, nogil=True, inline="always")
def _moment_step(w, g, state, h, t, lr, diag, form):
    """Shared loop of Adam, srf and InvAdam; ``diag = [min v̂, max v̂]``."""
    m, v = state[0], state[1]
    c1, c2 = _corrections(h, t)
    eps = h[EPS]
    vmin, vmax = math.inf, -math.inf
    for i in range(w.size):
        wi = _moments(w, g, m, v, i, h, lr)
        mhat = m[i] / c1
        vhat = v[i] / c2
        if form == ADAM:
            w[i] = wi - lr * mhat / (math.sqrt(vhat) + eps)
        elif form == SRF:
            w[i] = wi - lr * mhat / (vhat + eps)
        else:
            w[i] = wi - lr * mhat * (math.sqrt(vhat) + eps)
        vmin = min(vmin, vhat)
        vmax = max(vmax, vhat)
    diag[0] = vmin
    diag[1] = vmax


@njit(cache=True, nogil=True)
def adam_update(w, g, state, h, t, lr, diag):
    """Adam (Kingma & Ba 2015), PyTorch form: ``w ← w − η·m̂/(√v̂ + ε)``.

    With decoupled decay this is AdamW (Loshchilov & Hutter 2019; Zhou et al., TPAMI 2024).
    Diagnostics: ``[min_k v̂_k, max_k v̂_k]``.
    """
    _moment_step(w, g, state, h, t, lr, diag, ADAM)


@njit(cache=True, nogil=True)
def srf_update(w, g, state, h, t, lr, diag):
    """Adam-srf / AdamW-srf, square-root free (HomeAdam paper, arXiv 2603.02649).

    ``w ← w − η·m̂/(v̂ + ε)``. Diagnostics: ``[min_k v̂_k, max_k v̂_k]``.
    """
    _moment_step(w, g, state, h, t, lr, diag, SRF)


@njit(cache=True, nogil=True)
def invadam_update(w, g, state, h, t, lr, diag):
    """InvAdam (arXiv 2603.07122): multiplies where Adam divides.

    ``w ← w − η·m̂ ⊙ (√v̂ + ε)``. Diagnostics: ``[min_k v̂_k, max_k v̂_k]``.
    """
    _moment_step(w, g, state, h, t, lr, diag, INVERSE)


@njit(cache=True, nogil=True)
def homeadam_update(w, g, state, h, t, lr, diag):
    """HomeAdam / HomeAdamW, "sometimes go home" to momentum SGD (arXiv 2603.02649).

    RECONSTRUCTION: only the paper's abstract was available; this is the rule two
    independent re-implementations agree on (SPEC §4). Threshold τ = ``h[EXTRA]``,
    rule ``h[EXTRA+1]`` (0 global, 1 element-wise), test value ``v̂`` or, with
    ``tau_includes_eps`` (``h[EXTRA+2]``), ``v̂ + ε``:

    - global: if ``min_k v̂_k ≥ τ`` the srf step ``η·m̂/(v̂+ε)``, else the momentum step ``η·m̂``;
    - element-wise: ``h_k = v̂_k + ε`` if ``v̂_k ≥ τ`` else ``1``; step ``η·m̂/h``.

    Diagnostics: ``[ρ̂_t = min_k v̂_k + ε, share that went home]`` (global: 1 if this step
    went home else 0; element-wise: the fraction of coordinates with ``h_k = 1``).
    """
    m, v = state[0], state[1]
    c1, c2 = _corrections(h, t)
    eps, tau = h[EPS], h[EXTRA]
    elementwise = h[EXTRA + 1] != 0.0
    shift = eps if h[EXTRA + 2] != 0.0 else 0.0
    vmin = math.inf
    if elementwise:
        home = 0
        for i in range(w.size):
            wi = _moments(w, g, m, v, i, h, lr)
            vhat = v[i] / c2
            vmin = min(vmin, vhat)
            if vhat + shift >= tau:
                w[i] = wi - lr * (m[i] / c1) / (vhat + eps)
            else:
                home += 1
                w[i] = wi - lr * (m[i] / c1)
        diag[1] = home / w.size
    else:
        for i in range(w.size):
            w[i] = _moments(w, g, m, v, i, h, lr)
            vmin = min(vmin, v[i] / c2)
        went_home = not (vmin + shift >= tau)
        for i in range(w.size):
            if went_home:
                w[i] = w[i] - lr * (m[i] / c1)
            else:
                w[i] = w[i] - lr * (m[i] / c1) / (v[i] / c2 + eps)
        diag[1] = 1.0 if went_home else 0.0
    diag[0] = vmin + eps


@njit(cache=True, nogil=True)
def dualadam_update(w, g, state, h, t, lr, diag):
    """DualAdam (arXiv 2603.07122, authors' code): Adam mixed with InvAdam, then Adam.

    ``α_t = max(0, 1 − t·ξ)`` with switch rate ξ = ``h[EXTRA]``; decoupled decay first; if
    ``α_t ≥ ξ``: ``w ← w − η·((1−α_t)·m̂/(√v̂+ε) + α_t·m̂⊙(√v̂+ε))``, else the plain Adam step.
    ``ξ = 0`` is InvAdam throughout. Diagnostics: ``[α_t, 1 if the mixed step was taken]``.
    """
    m, v = state[0], state[1]
    c1, c2 = _corrections(h, t)
    eps, xi = h[EPS], h[EXTRA]
    alpha = max(0.0, 1.0 - t * xi)
    mixed = alpha >= xi
    for i in range(w.size):
        wi = _moments(w, g, m, v, i, h, lr)
        mhat = m[i] / c1
        root = math.sqrt(v[i] / c2) + eps
        if mixed:
            w[i] = wi - lr * ((1.0 - alpha) * mhat / root + alpha * mhat * root)
        else:
            w[i] = wi - lr * mhat / root
    diag[0] = alpha
    diag[1] = 1.0 if mixed else 0.0
