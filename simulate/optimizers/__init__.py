"""The optimiser suite: twelve update rules as numba kernels behind one registry (SPEC §4).

``get_optimizer(name)`` gives the spec (hyperparameter record, ``init``, kernel);
``replay(name, params0, grads, **hyper)`` runs a rule on a recorded gradient trace;
``apply_update(kind, ...)`` is what the numba training loop calls.
"""
from .registry import (N_DIAG, N_HYPER, N_STATE, OPTIMIZER_NAMES, OptimizerSpec, apply_update,
                       get_optimizer, kind_of, packed_hyper)
from .replay import replay

__all__ = ["N_DIAG", "N_HYPER", "N_STATE", "OPTIMIZER_NAMES", "OptimizerSpec", "apply_update",
           "get_optimizer", "kind_of", "packed_hyper", "replay"]
