"""Replay an optimiser on a recorded gradient trace (optimiser behaviour on its own)."""
from __future__ import annotations

import numpy as np

from .registry import N_DIAG, N_STATE, apply_update, get_optimizer, kind_of, packed_hyper
from ..jit import kernel


@kernel
def _replay(kind, w, grads, state, h, lr, trajectory, diagnostics):
    trajectory[0] = w
    diag = np.zeros(diagnostics.shape[1])
    for t in range(1, grads.shape[0] + 1):
        apply_update(kind, w, grads[t - 1], state, h, t, lr, diag)
        trajectory[t] = w
        diagnostics[t - 1] = diag


def replay(name: str, params0, grads, *, return_diagnostics: bool = False, **hyperparams):
    """Run optimiser ``name`` on the gradient trace ``grads`` from ``params0``.

    ``params0`` has shape ``(k,)`` and ``grads`` shape ``(T, k)``. The computation runs in
    ``params0``'s dtype (float32 or float64; ``grads`` are cast to it). Returns the float64
    trajectory of shape ``(T+1, k)``: row 0 is ``params0``, row ``t`` the parameters after
    step ``t`` with gradient ``grads[t-1]``. With ``return_diagnostics=True`` also returns a
    dict mapping each diagnostic name of the optimiser to a float64 array of shape ``(T,)``.
    Unknown names or hyperparameters and out-of-range values raise ``ValueError``.
    """
    spec = get_optimizer(name)
    record = spec.hyper(hyperparams)
    params0 = np.asarray(params0)
    dtype = params0.dtype if params0.dtype in (np.float32, np.float64) else np.float64
    w = np.array(params0, dtype=dtype).ravel()
    grads = np.ascontiguousarray(np.asarray(grads, dtype=dtype).reshape(-1, w.size))
    trajectory = np.empty((grads.shape[0] + 1, w.size), dtype=dtype)
    diagnostics = np.zeros((grads.shape[0], N_DIAG))
    state = np.zeros((N_STATE, w.size), dtype=dtype)
    _replay(kind_of(name), w, grads, state, packed_hyper(record), record.lr, trajectory, diagnostics)
    trajectory = trajectory.astype(np.float64)
    if not return_diagnostics:
        return trajectory
    return trajectory, {key: diagnostics[:, i].copy() for i, key in enumerate(spec.diagnostics)}
