"""The optimiser registry: one line per optimiser, and the numba dispatcher over it.

Adding an optimiser means writing one kernel with the uniform signature
``update(w, g, state, h, t, lr, diag)`` and one :class:`OptimizerSpec` line in
``_SPECS``. Its position in ``_SPECS`` is its integer ``kind``, which is what the numba
training loop carries; :func:`apply_update` dispatches on it without the loop knowing any rule.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import literal_unroll
from numba.core.errors import NumbaExperimentalFeatureWarning

from ..fields import ConfigError, build
from . import adam_family as af
from . import sgd_family as sf
from . import hyper as hp
from ..jit import kernel

# Iterating a tuple of kernels is typed through numba's first-class function machinery.
warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning,
                        message=".*First-class function type.*")

ADAM_DIAGNOSTICS = ("v_hat_min", "v_hat_max")


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimiser: its name, hyperparameter record, numba kernel and diagnostics."""

    name: str
    hyper_cls: type
    update: Any
    n_state: int
    diagnostics: tuple
    summary: str

    def init(self, k: int, dtype=np.float64) -> np.ndarray:
        """Fresh optimiser state: zeros of shape ``(n_state, k)`` (moments start at 0)."""
        return np.zeros((self.n_state, k), dtype=dtype)

    def hyper(self, mapping=None, prefix: str = ""):
        """Validated hyperparameter record from a mapping (unknown keys are errors)."""
        return build(self.hyper_cls, mapping or {}, prefix)


_SPECS = (
    OptimizerSpec("sgd", hp.SGDHyper, sf.sgd_update, 1, (),
                  "SGD / GD with PyTorch momentum, dampening, Nesterov, coupled decay"),
    OptimizerSpec("signsgd", hp.SignSGDHyper, sf.signsgd_update, 0, (),
                  "w ← w − η·sign(g)"),
    OptimizerSpec("signum", hp.SignumHyper, sf.signum_update, 1, (),
                  "sign of an exponential moving average of g"),
    OptimizerSpec("signsgdw", hp.SignSGDWHyper, sf.signsgdw_update, 0, (),
                  "SignSGD with decoupled weight decay"),
    OptimizerSpec("adam", hp.AdamHyper, af.adam_update, 2, ADAM_DIAGNOSTICS,
                  "Adam, coupled weight decay (ℓ2-Adam)"),
    OptimizerSpec("adamw", hp.AdamWHyper, af.adam_update, 2, ADAM_DIAGNOSTICS,
                  "Adam with decoupled weight decay"),
    OptimizerSpec("adam_srf", hp.AdamHyper, af.srf_update, 2, ADAM_DIAGNOSTICS,
                  "square-root-free Adam: η·m̂/(v̂+ε)"),
    OptimizerSpec("adamw_srf", hp.AdamWHyper, af.srf_update, 2, ADAM_DIAGNOSTICS,
                  "square-root-free AdamW"),
    OptimizerSpec("homeadam", hp.HomeAdamHyper, af.homeadam_update, 2, ("rho_hat", "home_share"),
                  "srf Adam that goes home to momentum SGD when v̂ < τ (reconstruction)"),
    OptimizerSpec("homeadamw", hp.HomeAdamWHyper, af.homeadam_update, 2, ("rho_hat", "home_share"),
                  "HomeAdam with decoupled weight decay (reconstruction)"),
    OptimizerSpec("invadam", hp.InvAdamHyper, af.invadam_update, 2, ADAM_DIAGNOSTICS,
                  "inverse Adam: η·m̂⊙(√v̂+ε)"),
    OptimizerSpec("dualadam", hp.DualAdamHyper, af.dualadam_update, 2, ("alpha", "mixed"),
                  "InvAdam mixed into Adam with weight α_t = max(0, 1 − tξ)"),
)

OPTIMIZER_NAMES = tuple(spec.name for spec in _SPECS)
KERNELS = tuple(spec.update for spec in _SPECS)
N_STATE = max(spec.n_state for spec in _SPECS)
N_DIAG = max(len(spec.diagnostics) for spec in _SPECS)
N_HYPER = max(spec.hyper_cls().pack().size for spec in _SPECS)


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry of ``name``; ``ValueError`` naming the allowed names otherwise."""
    for spec in _SPECS:
        if spec.name == name:
            return spec
    raise ConfigError(f"optimizer.name = {name!r}: unknown optimiser; allowed: {', '.join(OPTIMIZER_NAMES)}")


def kind_of(name: str) -> int:
    """Integer code of an optimiser inside the numba loops."""
    return OPTIMIZER_NAMES.index(get_optimizer(name).name)


def packed_hyper(record) -> np.ndarray:
    """The record's packed vector padded to the registry-wide length ``N_HYPER``."""
    out = np.zeros(N_HYPER)
    packed = record.pack()
    out[: packed.size] = packed
    return out


@kernel
def apply_update(kind, w, g, state, h, t, lr, diag):
    """Apply optimiser number ``kind`` (its index in the registry) to ``w`` in place."""
    index = 0
    for kernel in literal_unroll(KERNELS):
        if index == kind:
            kernel(w, g, state, h, t, lr, diag)
        index += 1
