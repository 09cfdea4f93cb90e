"""Convergence measurements: the full-batch gradient norm of the training objective at the end
of training, ``‖∇L_S(θ_T)‖`` (``L_S`` the mean logistic loss over the whole training set plus
the run's coupled L2 term), for the convergence rates of SPEC §7 (HomeAdam(W): ``O(1/T^{1/4})``;
Adam(W)-srf: ``O(ρ̆^{-1}/T^{1/4})``).

Runs are trained with :func:`simulate.run.train_many` (their final parameters are not kept by
the sweep store), so measuring over a grid of ``T`` means one run per ``T``: with a constant
learning rate a run of ``T`` steps is the first ``T`` steps of a longer one.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from simulate.config import RunConfig
from simulate.network import ACTIVATIONS, loss_and_grad
from simulate.run import prepare, train_many


def gradient_norm(config: RunConfig, params: np.ndarray) -> float:
    """``‖∇L_S(θ)‖_2`` over the full training set of ``config`` at flat parameters ``params``
    (NaN when the loss is not finite)."""
    inputs = prepare(config)
    n, m = config.data.n, config.model.m
    w = np.ascontiguousarray(params, dtype=inputs.params.dtype)
    grad = np.zeros_like(w)
    X, XI, XV = inputs.train_arrays
    loss = loss_and_grad(w, X, XI, XV, inputs.train.y, np.arange(n), n,
                         ACTIVATIONS.index(config.model.activation), config.model.q,
                         config.model.output_scale(config.data.patches), config.model.bias,
                         config.train.l2, grad, np.zeros(2 * m),
                         np.zeros((config.data.patches, 2 * m)), np.zeros(2 * m))
    return float(np.linalg.norm(grad)) if math.isfinite(loss) else math.nan


def final_gradient_norms(configs: Sequence[RunConfig]) -> np.ndarray:
    """``‖∇L_S(θ_T)‖`` of every config after training (NaN for a diverged run)."""
    results = train_many(list(configs))
    return np.array([math.nan if r.diverged else gradient_norm(r.config, r.params)
                     for r in results])
