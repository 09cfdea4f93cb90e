"""Frozen hyperparameter records of the optimisers (names and defaults as in PyTorch).

Each record validates its fields through :func:`simulate.fields.build` and packs the
non-learning-rate hyperparameters into the float64 vector its numba kernel reads
(:meth:`pack`); the learning rate is passed to the kernel separately because the training
loop schedules it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..fields import ConfigError, rule as hp

_LR = dict(kind="float", allowed="a number > 0", check=lambda v: v > 0)
_UNIT = dict(kind="float", allowed="in [0, 1)", check=lambda v: 0.0 <= v < 1.0)
_NONNEG = dict(kind="float", allowed="a number ≥ 0", check=lambda v: v >= 0.0)
_BETAS = dict(kind="pair", allowed="two numbers in [0, 1)",
              check=lambda v: all(0.0 <= b < 1.0 for b in v))

# Slots of the Adam-family packed vector (read by the kernels in adam_family.py).
B1, B2, EPS, WD, BIAS_CORRECTION, DECOUPLED, EXTRA = range(7)
RULES = ("global", "elementwise")


@dataclass(frozen=True)
class SGDHyper:
    """SGD with PyTorch's momentum, dampening, Nesterov and coupled weight decay."""

    lr: float = hp(1e-3, **_LR)
    momentum: float = hp(0.0, **_UNIT)
    dampening: float = hp(0.0, **_UNIT)
    nesterov: bool = hp(False, "bool")
    weight_decay: float = hp(0.0, **_NONNEG)

    def __post_init__(self):
        if self.nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ConfigError("nesterov = true: needs momentum > 0 and dampening = 0")

    def pack(self) -> np.ndarray:
        return np.array([self.momentum, self.dampening, float(self.nesterov), self.weight_decay])


@dataclass(frozen=True)
class SignSGDHyper:
    """SignSGD: only a learning rate."""

    lr: float = hp(1e-3, **_LR)

    def pack(self) -> np.ndarray:
        return np.zeros(0)


@dataclass(frozen=True)
class SignumHyper:
    """Signum: the momentum coefficient β is given as ``momentum``."""

    lr: float = hp(1e-3, **_LR)
    momentum: float = hp(0.9, **_UNIT)

    def pack(self) -> np.ndarray:
        return np.array([self.momentum])


@dataclass(frozen=True)
class SignSGDWHyper:
    """SignSGD with decoupled weight decay."""

    lr: float = hp(1e-3, **_LR)
    weight_decay: float = hp(0.01, **_NONNEG)

    def pack(self) -> np.ndarray:
        return np.array([self.weight_decay])


@dataclass(frozen=True)
class AdamHyper:
    """Adam with coupled weight decay (PyTorch ``Adam(weight_decay)``, ℓ2-Adam)."""

    DECOUPLED: ClassVar[bool] = False
    lr: float = hp(1e-3, **_LR)
    betas: tuple = hp((0.9, 0.999), **_BETAS)
    eps: float = hp(1e-8, **_NONNEG)
    weight_decay: float = hp(0.0, **_NONNEG)
    bias_correction: bool = hp(True, "bool")

    def extra(self) -> list:
        return []

    def pack(self) -> np.ndarray:
        return np.array([self.betas[0], self.betas[1], self.eps, self.weight_decay,
                         float(self.bias_correction), float(self.DECOUPLED), *self.extra()])


@dataclass(frozen=True)
class AdamWHyper(AdamHyper):
    """Adam with decoupled weight decay (PyTorch ``AdamW``; default λ = 0.01)."""

    DECOUPLED: ClassVar[bool] = True
    weight_decay: float = hp(0.01, **_NONNEG)


@dataclass(frozen=True)
class HomeAdamHyper(AdamHyper):
    """HomeAdam: threshold ``tau`` on v̂, ``rule`` global | elementwise (coupled decay)."""

    tau: float = hp(1.0, "float", "a number > 0", lambda v: v > 0)
    rule: str = hp("global", "str", choices=RULES)
    tau_includes_eps: bool = hp(False, "bool")

    def extra(self) -> list:
        return [self.tau, float(RULES.index(self.rule)), float(self.tau_includes_eps)]


@dataclass(frozen=True)
class HomeAdamWHyper(HomeAdamHyper):
    """HomeAdamW: HomeAdam with decoupled weight decay (default λ = 0.01)."""

    DECOUPLED: ClassVar[bool] = True
    weight_decay: float = hp(0.01, **_NONNEG)


@dataclass(frozen=True)
class InvAdamHyper(AdamHyper):
    """InvAdam: Adam's moments with decoupled weight decay (default 0)."""

    DECOUPLED: ClassVar[bool] = True


@dataclass(frozen=True)
class DualAdamHyper(AdamHyper):
    """DualAdam: ``switch_rate`` ξ of α_t = max(0, 1 − tξ), decoupled decay (default 0)."""

    DECOUPLED: ClassVar[bool] = True
    switch_rate: float = hp(0.01, **_NONNEG)

    def extra(self) -> list:
        return [self.switch_rate]
