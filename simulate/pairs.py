"""SPEC §6: coupled runs on neighbouring data sets, advanced in lockstep inside numba.

A pair is two configs that differ only in their training set: ``S`` and its neighbour ``S′``
(``data.replace_index``; see :func:`simulate.data.training_set`). Both runs start from the
same initialisation and draw the same batch-index sequence (their init and batch seeds are
equal), so any difference between them comes from the replaced sample. At every logged step
``t`` the kernel measures

- ``δ_t = ‖θ_t − θ′_t‖_F`` over all parameters (weights and, when on, biases);
- ``|ℓ(θ_t; z) − ℓ(θ′_t; z)|`` on every held-out test point ``z`` (the two runs share the
  test set), as its mean and its maximum over the points (the empirical uniform-stability
  estimate).

Each run also keeps its own log (train/test loss and error, so its generalisation gap), but
not the per-sample memorisation, which a stability experiment does not read and which would
hold ``rows × n`` numbers per run.
A pair in which either run diverges stops at that run's divergence; its later rows are NaN.
All pairs of one shape go through one parallel call (``prange`` over pairs; each pair is
sequential inside), so the numbers do not depend on the thread count or on the batching.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from numba import prange
from threadpoolctl import threadpool_limits

from . import training as tr
from .config import RunConfig
from .jit import kernel
from .network import set_margins, softplus
from .run import RunResult, by_shape, pack_group, shape_key


@kernel
def point_losses(w, test, y, act, q, c, has_bias, z, slopes, out):
    """``out[i] = ℓ(y_i f(θ, x_i))`` for every point of the set ``test`` (an ``(X, index,
    value)`` triple), logistic loss without the L2 term."""
    X, XI, XV = test
    margins = set_margins(w, X, XI, XV, y, act, q, c, has_bias, z, slopes)
    for i in range(y.size):
        out[i] = softplus(-margins[i])


@kernel(parallel=True)
def train_pairs_batch(train, y, test, yte, u, noise, w, state, h, ints, floats, log_steps,
                      cursor, order, diag_sum, logged, metrics, memorisation, diagnostics,
                      row_from, row_until, delta, loss_diff_mean, loss_diff_max):
    """Advance pairs ``(r, R + r)`` of the ``2R`` stacked runs through log rows
    ``row_from … row_until − 1`` and fill ``delta``, ``loss_diff_mean``, ``loss_diff_max``
    ``(R, L)`` at those rows (resumable: the runs keep their state in ``cursor``)."""
    X, XI, XV = train
    Xte, XIte, XVte = test
    R = y.shape[0] // 2
    for r in prange(R):
        m = ints[r, tr.I_M]
        act, has_bias = ints[r, tr.I_ACT], ints[r, tr.I_BIAS] != 0
        q, c = floats[r, tr.F_Q], floats[r, tr.F_C]
        z = np.zeros(2 * m)
        slopes = np.zeros((XI.shape[2], 2 * m))
        first = np.empty(yte.shape[1])
        second = np.empty(yte.shape[1])
        b = R + r
        for row in range(row_from, row_until):
            until = log_steps[row]
            for side in range(2):
                s = r + side * R
                tr.train_run((X[s], XI[s], XV[s]), y[s], (Xte[s], XIte[s], XVte[s]), yte[s],
                             u[s], noise[s], w[s], state[s], h[s], ints[s], floats[s], log_steps,
                             until, cursor[s], order[s], diag_sum[s], logged[s], metrics[s],
                             memorisation[s], diagnostics[s])
            if cursor[r, tr.C_DIVERGED] >= 0 or cursor[b, tr.C_DIVERGED] >= 0:
                break
            sq = 0.0
            for k in range(w.shape[1]):
                diff = w[r, k] - w[b, k]
                sq += diff * diff
            delta[r, row] = math.sqrt(sq)
            point_losses(w[r], (Xte[r], XIte[r], XVte[r]), yte[r], act, q, c, has_bias, z, slopes,
                         first)
            point_losses(w[b], (Xte[b], XIte[b], XVte[b]), yte[b], act, q, c, has_bias, z, slopes,
                         second)
            total, high = 0.0, 0.0
            for i in range(first.size):
                gap = abs(first[i] - second[i])
                total += gap
                high = max(high, gap)
            loss_diff_mean[r, row] = total / first.size
            loss_diff_max[r, row] = high


@dataclass(frozen=True)
class PairResult:
    """One coupled pair: the run on ``S``, the run on ``S′`` and their distance over the
    logged ``steps`` (NaN after either run diverged)."""

    run: RunResult
    neighbour: RunResult
    steps: np.ndarray
    delta: np.ndarray
    loss_diff_mean: np.ndarray
    loss_diff_max: np.ndarray

    @property
    def diverged(self) -> bool:
        return self.run.diverged or self.neighbour.diverged


def train_pairs(pairs: Sequence[tuple[RunConfig, RunConfig]],
                progress: Callable[[int], None] | None = None) -> list[PairResult]:
    """Train every pair ``(config on S, config on S′)`` in lockstep; pairs of one shape go
    through one parallel numba call. ``progress``, if given, is called with the number of
    steps (summed over both runs of every pair) done since its last call."""
    for index, (first, second) in enumerate(pairs):
        if shape_key(first) != shape_key(second):
            raise ValueError(f"pair {index}: the two configs have different shapes")
    return by_shape(pairs, [shape_key(first) for first, _ in pairs],
                    lambda group: _train_pair_group(group, progress))


def _row_slices(rows: int, progress) -> list[tuple[int, int]]:
    """Log-row ranges per call: all at once, or about 100 slices for a progress bar."""
    if progress is None:
        return [(0, rows)]
    edges = np.unique(np.linspace(0, rows, min(rows, 100) + 1).astype(np.int64))
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def _train_pair_group(pairs, progress) -> list[PairResult]:
    R = len(pairs)
    packed = pack_group([a for a, _ in pairs] + [b for _, b in pairs])
    log_steps = packed.inputs[-1]
    distances = [np.full((R, log_steps.size), np.nan) for _ in range(3)]
    done = 0
    with threadpool_limits(limits=1, user_api="blas"):
        for row_from, row_until in _row_slices(log_steps.size, progress):
            train_pairs_batch(*packed.inputs, *packed.loop_state, *packed.outputs,
                              row_from, row_until, *distances)
            if progress is not None:
                now = int(packed.cursor[:, tr.C_DONE].sum())
                progress(now - done)
                done = now
    runs = packed.results(memorisation=False)
    delta, mean, high = distances
    return [PairResult(run=runs[r], neighbour=runs[R + r], steps=log_steps, delta=delta[r],
                       loss_diff_mean=mean[r], loss_diff_max=high[r]) for r in range(R)]
