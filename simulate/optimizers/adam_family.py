"""Adam-family update kernels: Adam(W), Adam(W)-srf, HomeAdam(W), InvAdam, DualAdam.

Uniform signature ``update(w, g, state, h, t, lr, diag)`` (see ``sgd_family``). State rows:
``state[0] = m``, ``state[1] = v``. Packed hyperparameters ``h`` (slots in ``hyper.py``):
``[β1, β2, ε, λ, bias_correction, decoupled, extra…]``. Shared moment update, for every rule:

    decoupled decay:  w ← w − η λ w           (AdamW order: before the step)
    coupled decay:    g ← g + λ w             (PyTorch ``Adam(weight_decay)``, ℓ2-Adam)
    m ← β1 m + (1−β1) g,   v ← β2 v + (1−β2) g²
    m̂ = m / (1−β1^t),      v̂ = v / (1−β2^t)   (m̂ = m, v̂ = v without bias correction)

Only the final step differs between the rules. As in ``torch.optim.Adam``, the bias
corrections are folded into per-step scalars instead of being divided out of every
coordinate: with ``step = η/(1−β1^t)``, ``root = 1/√(1−β2^t)`` and ``inverse = 1/(1−β2^t)``,

    Adam      η·m̂/(√v̂ + ε)              = step·(m / (√v·root + ε))
    srf       η·m̂/(v̂ + ε)               = step·(m / (v·inverse + ε))
    InvAdam   η·m̂⊙(√v̂ + ε)              = step·(m·(√v·root + ε))

so each coordinate costs at most one square root and one division (PyTorch divides by
``√(1−β2^t)``; multiplying by its reciprocal rounds differently by at most an ulp). These
are the SPEC formulas rounded differently (agreement to ~1e-15 relative per step);
``tests/optimizer_reference.py`` transcribes both arrangements. HomeAdam's home test
``v̂ (+ε) ≥ τ`` keeps the exact quotient ``v̂ = v/(1−β2^t)``, so its decisions are the
formula's. Without bias correction every folded scalar is 1 and the arithmetic is the
formula's operation for operation. The loops vectorise (see ``simulate.jit``); the
diagnostics' ``v`` range is taken in the same pass. Float32 parameters are updated in
float32 arithmetic (the per-step scalars are computed in float64 and cast once).
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from .hyper import B1, B2, BIAS_CORRECTION, DECOUPLED, EPS, EXTRA, WD
from ..jit import kernel, scalar_like


def _bits(values):
    """Integer view of a non-negative float array (numba only)."""


@overload(_bits)
def _bits_impl(values):
    if values.dtype == types.float32:
        return lambda values: values.view(np.int32)
    return lambda values: values.view(np.int64)


@intrinsic
def _bits_of(typingctx, x):
    """The IEEE bit pattern of a float scalar, as the signed integer of the same width."""
    width = x.bitwidth
    signature = (types.int32 if width == 32 else types.int64)(x)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(width))

    return signature, codegen


def _bit_limits(values):
    """``(largest, smallest)`` signed integer of the width of ``values``' floats (numba only):
    the start of a min and a max reduction over bit patterns."""


@overload(_bit_limits)
def _bit_limits_impl(values):
    if values.dtype == types.float32:
        return lambda values: (np.int32(0x7FFFFFFF), np.int32(-0x80000000))
    return lambda values: (np.int64(0x7FFFFFFFFFFFFFFF), np.int64(-0x8000000000000000))


@kernel(inline="always")
def _as_floats(v, low, high):
    """Two bit patterns of ``v``'s float width back as float64 numbers."""
    ends = np.empty(2, dtype=_bits(v).dtype)
    ends[0], ends[1] = low, high
    values = ends.view(v.dtype)
    return float(values[0]), float(values[1])


@kernel
def value_range(v):
    """``(min, max)`` of a non-negative array (``v`` is a sum of squares).

    Non-negative IEEE floats order like their bit patterns read as integers, and integer
    min/max reductions vectorise where float ones (which must respect NaN) do not; a NaN
    sorts above +∞ and so shows up as the maximum.
    """
    bits = _bits(v)
    low, high = bits[0], bits[0]
    for i in range(bits.size):
        low = min(low, bits[i])
        high = max(high, bits[i])
    return _as_floats(v, low, high)


@kernel(inline="always")
def _setup(w, h, t, lr):
    """Per-step scalars in ``w``'s dtype: β1, 1−β1, β2, 1−β2, ε, the coupled and decoupled
    decay coefficients, ``1−β2^t`` and the folded corrections ``step = η/(1−β1^t)``,
    ``root = 1/√(1−β2^t)``, ``inverse = 1/(1−β2^t)`` (``η``, 1, 1 and 1 when off).

    With ``coupled = 0`` the gradient ``g + 0·w`` is ``g``; with ``shrink = 0`` the weight
    ``w − 0·w`` is ``w``: one branch-free loop serves both kinds of decay."""
    b1, b2, eps, wd = h[B1], h[B2], h[EPS], h[WD]
    coupled = 0.0 if h[DECOUPLED] != 0.0 else wd
    shrink = lr * wd if h[DECOUPLED] != 0.0 else 0.0
    if h[BIAS_CORRECTION] != 0.0:
        # libm pow, not numba's integer-power expansion, whose rounding depends on inlining
        c1 = 1.0 - math.pow(b1, float(t))
        c2 = 1.0 - math.pow(b2, float(t))
    else:
        c1, c2 = 1.0, 1.0
    return (scalar_like(w, b1), scalar_like(w, 1.0 - b1), scalar_like(w, b2),
            scalar_like(w, 1.0 - b2), scalar_like(w, eps), scalar_like(w, coupled),
            scalar_like(w, shrink), scalar_like(w, c2), scalar_like(w, lr / c1),
            scalar_like(w, 1.0 / math.sqrt(c2)), scalar_like(w, 1.0 / c2))


@kernel(inline="always")
def _unbias(x, c):
    """``x / c``, skipping the division when ``c == 1`` (exact: ``x / 1.0`` is ``x``)."""
    return x if c == 1.0 else x / c


@kernel(inline="always")
def _moment(w, g, m, v, i, coefficients):
    """Decay and moment update of coordinate ``i`` (``coefficients`` from :func:`_setup`);
    returns the decayed weight and the new ``m_i``, ``v_i``."""
    b1, rest1, b2, rest2, _, coupled, shrink = coefficients[:7]
    wi = w[i]
    gi = g[i] + coupled * wi
    mi = b1 * m[i] + rest1 * gi
    vi = b2 * v[i] + rest2 * gi * gi
    m[i] = mi
    v[i] = vi
    return wi - shrink * wi, mi, vi


@kernel
def _moments(w, g, m, v, h, t, lr):
    """Decay and moment update of every coordinate (for rules needing v̂ before the step)."""
    coefficients = _setup(w, h, t, lr)
    for i in range(w.size):
        w[i] = _moment(w, g, m, v, i, coefficients)[0]


@kernel(inline="always")
def _report_range(v, low, high, c2, diag):
    """Diagnostics ``[min_k v̂_k, max_k v̂_k]`` from the bit patterns of ``v``'s extremes."""
    vmin, vmax = _as_floats(v, low, high)
    diag[0], diag[1] = vmin / c2, vmax / c2


@kernel
def adam_update(w, g, state, h, t, lr, diag):
    """Adam (Kingma & Ba 2015), PyTorch form: ``w ← w − η·m̂/(√v̂ + ε)``.

    With decoupled decay this is AdamW (Loshchilov & Hutter 2019; Zhou et al., TPAMI 2024).
    Diagnostics: ``[min_k v̂_k, max_k v̂_k]``.
    """
    m, v = state[0], state[1]
    coefficients = _setup(w, h, t, lr)
    eps, c2, step, root = coefficients[4], coefficients[7], coefficients[8], coefficients[9]
    low, high = _bit_limits(v)
    for i in range(w.size):
        wi, mi, vi = _moment(w, g, m, v, i, coefficients)
        w[i] = wi - step * (mi / (np.sqrt(vi) * root + eps))
        low, high = min(low, _bits_of(vi)), max(high, _bits_of(vi))
    _report_range(v, low, high, c2, diag)


@kernel
def srf_update(w, g, state, h, t, lr, diag):
    """Adam-srf / AdamW-srf, square-root free (HomeAdam paper, arXiv 2603.02649).

    ``w ← w − η·m̂/(v̂ + ε)``. Diagnostics: ``[min_k v̂_k, max_k v̂_k]``.
    """
    m, v = state[0], state[1]
    coefficients = _setup(w, h, t, lr)
    eps, c2, step, inverse = coefficients[4], coefficients[7], coefficients[8], coefficients[10]
    low, high = _bit_limits(v)
    for i in range(w.size):
        wi, mi, vi = _moment(w, g, m, v, i, coefficients)
        w[i] = wi - step * (mi / (vi * inverse + eps))
        low, high = min(low, _bits_of(vi)), max(high, _bits_of(vi))
    _report_range(v, low, high, c2, diag)


@kernel
def invadam_update(w, g, state, h, t, lr, diag):
    """InvAdam (arXiv 2603.07122): multiplies where Adam divides.

    ``w ← w − η·m̂ ⊙ (√v̂ + ε)``. Diagnostics: ``[min_k v̂_k, max_k v̂_k]``.
    """
    m, v = state[0], state[1]
    coefficients = _setup(w, h, t, lr)
    eps, c2, step, root = coefficients[4], coefficients[7], coefficients[8], coefficients[9]
    low, high = _bit_limits(v)
    for i in range(w.size):
        wi, mi, vi = _moment(w, g, m, v, i, coefficients)
        w[i] = wi - step * (mi * (np.sqrt(vi) * root + eps))
        low, high = min(low, _bits_of(vi)), max(high, _bits_of(vi))
    _report_range(v, low, high, c2, diag)


@kernel
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
    coefficients = _setup(w, h, t, lr)
    eps, c2, step, inverse = coefficients[4], coefficients[7], coefficients[8], coefficients[10]
    tau = scalar_like(w, h[EXTRA])
    shift = eps if h[EXTRA + 2] != 0.0 else scalar_like(w, 0.0)
    _moments(w, g, m, v, h, t, lr)
    vmin = value_range(v)[0] / c2
    if h[EXTRA + 1] != 0.0:
        home = 0
        for i in range(w.size):
            vhat = _unbias(v[i], c2)   # the exact quotient: the test is the formula's
            stays = vhat + shift >= tau
            home += 0 if stays else 1
            w[i] = w[i] - step * (m[i] / (vhat + eps if stays else scalar_like(w, 1.0)))
        diag[1] = home / w.size
    else:
        went_home = not (vmin + shift >= tau)
        if went_home:
            for i in range(w.size):
                w[i] = w[i] - step * m[i]
        else:
            for i in range(w.size):
                w[i] = w[i] - step * (m[i] / (v[i] * inverse + eps))
        diag[1] = 1.0 if went_home else 0.0
    diag[0] = vmin + eps


@kernel
def dualadam_update(w, g, state, h, t, lr, diag):
    """DualAdam (arXiv 2603.07122, authors' code): Adam mixed with InvAdam, then Adam.

    ``α_t = max(0, 1 − t·ξ)`` with switch rate ξ = ``h[EXTRA]``; decoupled decay first; if
    ``α_t ≥ ξ``: ``w ← w − η·((1−α_t)·m̂/(√v̂+ε) + α_t·m̂⊙(√v̂+ε))``, else the plain Adam step.
    ``ξ = 0`` is InvAdam throughout. Diagnostics: ``[α_t, 1 if the mixed step was taken]``.
    """
    xi = h[EXTRA]
    alpha = max(0.0, 1.0 - t * xi)
    mixed = alpha >= xi
    if not mixed:
        adam_update(w, g, state, h, t, lr, diag)
    else:
        m, v = state[0], state[1]
        coefficients = _setup(w, h, t, lr)
        eps, step, root = coefficients[4], coefficients[8], coefficients[9]
        beta, mix = scalar_like(w, 1.0 - alpha), scalar_like(w, alpha)
        for i in range(w.size):
            wi, mi, vi = _moment(w, g, m, v, i, coefficients)
            denominator = np.sqrt(vi) * root + eps
            w[i] = wi - step * (beta * mi / denominator + mix * mi * denominator)
    diag[0] = alpha
    diag[1] = 1.0 if mixed else 0.0
