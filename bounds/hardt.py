"""Hardt, Recht & Singer 2016, Thm 3.8, evaluated on a stability experiment's own numbers.

For a convex, ``L``-Lipschitz, ``β``-smooth loss and steps ``α_t ≤ 2/β``, SGD run for ``T``
steps is uniformly stable with ``ε ≤ (2L²/n)·Σ_t α_t`` (``theory``'s ``sgd_convex`` bound).
The argument holds for any batch size and for full-batch GD: a step that uses the replaced
sample moves the two runs apart by at most ``2α_t L/B`` and it is used with probability
``B/n`` per step, every other step is non-expansive; coupled L2 ``λ`` keeps that so when
``α_t ≤ 2/(β + λ)``.

On the linear network (``model.activation = "linear"``) ``f(θ, x)`` is linear in ``θ`` and the
logistic loss ``ℓ(y f)`` is convex with ``|ℓ'| ≤ 1`` and ``ℓ'' ≤ 1/4``, so

    L = max_x ‖∇_θ f(θ, x)‖ = max_x c·√(2m)·√(‖Σ_p x^(p)‖² + P²·[bias]),   β = L²/4,

where the maximum runs over the points the experiment touches (every ``S``, ``S′`` and test
set: the data distributions are unbounded, so this is the empirical constant). The measured
side is the mean over pairs of ``max_z |ℓ(θ_T; z) − ℓ(θ′_T; z)|`` (an estimate of the
expectation over the algorithm's randomness that the bound controls).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulate.config import RunConfig
from simulate.data import generate, training_set
from simulate.fields import ConfigError
from simulate.training import SCHEDULES, scheduled_lr
from theory import generalization_bound, substitute


@dataclass(frozen=True)
class HardtCheck:
    """The bound evaluated at every ``n`` beside the measured loss difference."""

    optimizer: str
    lipschitz: float
    smoothness: float
    step_sum: float
    max_step: float
    step_condition: bool  # max α_t ≤ 2/(β + λ): the theorem's premise
    n: tuple
    bound: tuple
    measured: tuple
    ratios: tuple  # measured / bound

    @property
    def holds(self) -> bool:
        """Every measured value at or below the bound, and the step-size premise met."""
        return self.step_condition and all(r <= 1.0 for r in self.ratios)

    def to_dict(self) -> dict:
        return {"holds": self.holds, "lipschitz": self.lipschitz, "smoothness": self.smoothness,
                "step_sum": self.step_sum, "step_condition": self.step_condition,
                "bound": list(self.bound), "measured": list(self.measured),
                "ratio": list(self.ratios)}


def applies(config: RunConfig) -> bool:
    """Whether Thm 3.8 covers the run: plain SGD/GD on the linear (convex) network."""
    hyper = config.optimizer.hyper
    return (config.optimizer.name == "sgd" and config.model.activation == "linear"
            and hyper.momentum == 0.0)


def gradient_norms(config: RunConfig, X: np.ndarray) -> np.ndarray:
    """``‖∇_θ f(θ, x)‖`` of the linear network at every input of ``X (n, P, d)``."""
    model = config.model
    c = model.output_scale(config.data.patches)
    summed = np.linalg.norm(X.sum(axis=1), axis=-1) ** 2
    if model.bias:
        summed = summed + config.data.patches ** 2
    return c * math.sqrt(2 * model.m) * np.sqrt(summed)


def lipschitz_constant(configs) -> float:
    """``L`` over the training sets (``S`` or ``S′``) and test sets of ``configs`` (each test
    set once)."""
    high, tests = 0.0, set()
    for config in configs:
        data = config.data
        train = training_set(data, config.stream_seed("data"))
        high = max(high, gradient_norms(config, train.X).max())
        key = (config.stream_seed("test"), data)
        if key not in tests:
            tests.add(key)
            test = generate(data, data.n_test, config.stream_seed("test"), balanced=False)
            high = max(high, gradient_norms(config, test.X).max())
    return float(high)


def step_sizes(config: RunConfig) -> np.ndarray:
    """``α_1 … α_T`` of the run's schedule (the training loop's own ``scheduled_lr``)."""
    train, total = config.train, config.total_steps
    schedule = SCHEDULES.index(train.schedule)
    return np.array([scheduled_lr(config.optimizer.lr, schedule, t, total, train.step_size,
                                  train.gamma) for t in range(1, total + 1)])


def evaluate(label: str, configs_by_n: dict, lipschitz: float, measured: dict) -> HardtCheck:
    """Thm 3.8 with ``L = lipschitz`` and the runs' steps, beside ``measured`` (``n → value``)."""
    any_config = next(iter(configs_by_n.values()))
    if not applies(any_config):
        raise ConfigError(f"{label}: Hardt et al.'s convex bound needs plain SGD (momentum 0) "
                          "on model.activation = 'linear'")
    steps = step_sizes(any_config)
    decay = any_config.train.l2 + any_config.optimizer.hyper.weight_decay
    smoothness = lipschitz ** 2 / 4
    # the closed form for a constant step 2L²αT/N equals 2L²Σα_t/N with α the mean step
    bound = substitute(generalization_bound("sgd_convex", "constant"),
                       {"L": lipschitz, "alpha": steps.mean(), "T": steps.size})
    sizes = tuple(sorted(measured))
    values = tuple(float(bound.subs({s: n for s in bound.free_symbols})) for n in sizes)
    observed = tuple(float(measured[n]) for n in sizes)
    return HardtCheck(
        optimizer=label, lipschitz=lipschitz, smoothness=smoothness,
        step_sum=float(steps.sum()), max_step=float(steps.max()),
        step_condition=bool(steps.max() <= 2.0 / (smoothness + decay)),
        n=sizes, bound=values, measured=observed,
        ratios=tuple(m / b for m, b in zip(observed, values)))
