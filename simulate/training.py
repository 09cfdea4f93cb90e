"""SPEC §5: the training loop, entirely inside numba, and its batched form.

``train_run`` advances one network in place: it draws minibatches (reshuffled each epoch or
with replacement, from the run's SplitMix64 batch seed), computes the loss and gradient,
applies the scheduled learning rate and the optimiser kernel chosen by its registry code,
and logs metrics into preallocated arrays at the steps in ``log_steps``. A non-finite loss
(or non-finite parameters at a log step) stops the run and marks it diverged at that step.
``train_batch`` runs many independent runs of one shape with ``prange``; each run is
sequential inside, so results do not depend on the thread count.

Per-run settings come packed: ``ints[I_*]`` and ``floats[F_*]`` below.
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange

from .metrics import record
from .network import clear_batch_rows, dense_split, loss_and_grad, sparse_loss_and_grad
from .optimizers import N_DIAG, apply_update
from .rng import below, shuffle
from .jit import kernel

SAMPLINGS = ("reshuffle", "replacement")
SCHEDULES = ("constant", "cosine", "step")
I_KIND, I_ACT, I_M, I_BIAS, I_BATCH, I_SAMPLING, I_SCHEDULE, I_STEP_SIZE, I_SEED = range(9)
F_Q, F_C, F_LR, F_GAMMA, F_L2 = range(5)
N_INTS, N_FLOATS = 9, 5
C_DONE, C_POSITION, C_ROW, C_SINCE, C_RNG, C_DIVERGED = range(6)
N_CURSOR = 6


@kernel
def scheduled_lr(lr, schedule, t, total, step_size, gamma):
    """``η_t``: constant; cosine ``η(1+cos(π(t−1)/T))/2``; step ``η·γ^⌊(t−1)/step_size⌋``."""
    if schedule == 1:
        return lr * 0.5 * (1.0 + math.cos(math.pi * (t - 1) / total))
    if schedule == 2:
        return lr * gamma ** ((t - 1) // step_size)
    return lr


@kernel
def _finite(w):
    for k in range(w.size):
        if not math.isfinite(w[k]):
            return False
    return True


@kernel
def train_run(train, y, test, yte, u, noise, w, state, h, ints, floats, log_steps, until,
              cursor, order, diag_sum, logged, metrics, memorisation, diagnostics):
    """Advance one run in place up to step ``until`` (resumable: call again with a larger
    ``until``; the result does not depend on how the steps are split into calls).

    ``train`` and ``test`` are ``(X, index, value)`` patch triples (see ``network``). The
    loop state lives in ``cursor`` (``C_*`` slots: steps done, position in the epoch, next
    log row, steps since that row, batch RNG state, step of divergence or −1), ``order``
    (the epoch's sample permutation) and ``diag_sum``; a fresh run has ``cursor`` zero but
    ``C_DIVERGED = −1``. ``logged[i]`` is the step of log row ``i`` (−1 if unused) and
    ``diagnostics[i]`` the optimiser diagnostics averaged over the steps since the last row.
    """
    X, XI, XV = train
    n = y.size
    kind, act, m, has_bias = ints[I_KIND], ints[I_ACT], ints[I_M], ints[I_BIAS] != 0
    batch_size, sampling = ints[I_BATCH], ints[I_SAMPLING]
    schedule, step_size = ints[I_SCHEDULE], ints[I_STEP_SIZE]
    q, c, lr0, gamma, l2 = floats[F_Q], floats[F_C], floats[F_LR], floats[F_GAMMA], floats[F_L2]
    total = log_steps[-1]
    rng = cursor[C_RNG:C_RNG + 1].view(np.uint64)
    batch = np.arange(n)
    grad = np.zeros_like(w)
    # Scratch in the parameters' dtype: float32 runs sum pre-activations in float32.
    slopes = np.zeros((XI.shape[1], 2 * m), dtype=w.dtype)
    z = np.zeros(2 * m, dtype=w.dtype)
    a = np.zeros(2 * m, dtype=w.dtype)
    diag = np.zeros(N_DIAG)
    full_batch = batch_size == n and sampling == 0
    if cursor[C_DIVERGED] >= 0:
        return
    # A full batch has the same rows every step: split them once (dense data, BLAS path).
    rows = dense_split(X, batch, n if full_batch else 0, 2 * m)
    # Small sparse batches without L2 keep the gradient zero between steps by clearing the
    # rows each batch wrote, when that is less than zeroing all of it.
    touched = batch_size * XI.shape[1] * XI.shape[2] * 2 * m
    clear = XI.shape[2] > 0 and l2 == 0.0 and touched < w.size
    if cursor[C_ROW] == 0:
        logged[:] = -1
        metrics[:] = np.nan
        memorisation[:] = np.nan
        diagnostics[:] = np.nan
        order[:] = np.arange(n)
        rng[0] = np.uint64(ints[I_SEED])
        cursor[C_POSITION] = n
        lr = scheduled_lr(lr0, schedule, 1, total, step_size, gamma)
        record(w, train, y, test, yte, u, noise, act, q, c, has_bias, lr, z, slopes,
               metrics[0], memorisation[0])
        logged[0] = 0
        cursor[C_ROW] = 1
    position, row, since = cursor[C_POSITION], cursor[C_ROW], cursor[C_SINCE]
    for t in range(cursor[C_DONE] + 1, min(until, total) + 1):
        nb = batch_size
        if full_batch:
            pass
        elif sampling == 0:
            if position >= n:
                shuffle(rng, order)
                position = 0
            nb = min(batch_size, n - position)
            batch[:nb] = order[position:position + nb]
            position += nb
        else:
            for b in range(nb):
                batch[b] = below(rng, n)
        lr = scheduled_lr(lr0, schedule, t, total, step_size, gamma)
        if clear:
            loss = sparse_loss_and_grad(w, XI, XV, y, batch, nb, act, q, c, has_bias, grad, z,
                                        slopes, a)
        else:
            loss = loss_and_grad(w, X, XI, XV, y, batch, nb, act, q, c, has_bias, l2, grad, z,
                                 slopes, a, rows)
        if not math.isfinite(loss):
            _close(w, train, y, test, yte, u, noise, act, q, c, has_bias, lr, z, slopes, t - 1,
                   row, logged, metrics, memorisation)
            cursor[C_DIVERGED], cursor[C_DONE] = t, t - 1
            return
        apply_update(kind, w, grad, state, h, t, lr, diag)
        if clear:
            clear_batch_rows(grad, XI, XV, batch, nb, has_bias, 2 * m)
        diag_sum += diag
        since += 1
        cursor[C_DONE] = t
        if t == log_steps[row]:
            record(w, train, y, test, yte, u, noise, act, q, c, has_bias, lr, z, slopes,
                   metrics[row], memorisation[row])
            logged[row] = t
            diagnostics[row] = diag_sum / since
            diag_sum[:] = 0.0
            since = 0
            row += 1
            if not _finite(w):
                cursor[C_DIVERGED] = t
                break
    cursor[C_POSITION], cursor[C_ROW], cursor[C_SINCE] = position, row, since


@kernel
def _close(w, train, y, test, yte, u, noise, act, q, c, has_bias, lr, z, slopes, done, row,
           logged, metrics, memorisation):
    """Log the state a diverged run stopped in, unless that step is already logged."""
    if logged[row - 1] != done:
        record(w, train, y, test, yte, u, noise, act, q, c, has_bias, lr, z, slopes,
               metrics[row], memorisation[row])
        logged[row] = done


@kernel(parallel=True)
def train_batch(train, y, test, yte, u, noise, w, state, h, ints, floats, log_steps, until,
                cursor, order, diag_sum, logged, metrics, memorisation, diagnostics):
    """``train_run`` over the leading (run) axis of every array but ``log_steps``, in
    parallel (one run per task: runs never share a reduction)."""
    X, XI, XV = train
    Xte, XIte, XVte = test
    for r in prange(y.shape[0]):
        train_run((X[r], XI[r], XV[r]), y[r], (Xte[r], XIte[r], XVte[r]), yte[r], u[r], noise[r],
                  w[r], state[r], h[r], ints[r], floats[r], log_steps, until, cursor[r], order[r],
                  diag_sum[r], logged[r], metrics[r], memorisation[r], diagnostics[r])
