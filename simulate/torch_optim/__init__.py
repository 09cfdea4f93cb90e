"""The simulator's update rules as ``torch.optim`` optimisers (needs ``pip install -e '.[torch]'``).

One ``torch.optim.Optimizer`` subclass per rule PyTorch lacks — :class:`SignSGD`,
:class:`Signum`, :class:`SignSGDW`, :class:`AdamSRF`, :class:`AdamWSRF`, :class:`HomeAdam`,
:class:`HomeAdamW`, :class:`InvAdam`, :class:`DualAdam` — computed operation for operation as
the numba kernels of ``simulate.optimizers`` compute them, with the hyperparameter names,
defaults and validation messages of the config's ``[optimizer]`` section (built from the
records in ``simulate.optimizers.hyper``). :func:`make` gives the optimiser of any of the
twelve registry names, ``torch.optim``'s own for the three PyTorch has (:data:`NATIVE`).

Every class takes parameter groups with their own settings, ``closure``, tensors on any
device, float32 and float64; ``state_dict`` / ``load_state_dict`` carry everything a resumed
run needs to continue bit-identically; ``diagnostics()`` returns what the simulator logs for
the rule (``v_hat_min``/``v_hat_max``; HomeAdam ``rho_hat``, ``home_share``; DualAdam
``alpha``, ``mixed``). Importing ``simulate`` never imports this module or torch.
"""
from __future__ import annotations

import torch

from ..fields import build, field_names, to_plain
from ..optimizers import get_optimizer
from .adam_family import (SCOPES, AdamSRF, AdamWSRF, DualAdam, ExactAdam, ExactAdamW,
                          HomeAdam, HomeAdamW, InvAdam)
from .base import RuleOptimizer
from .sign_family import SignSGD, SignSGDW, Signum

#: This module's class of every registry name but ``sgd`` (``adam``/``adamw``: the
#: simulator's own form, used by :func:`make` when bias correction is off).
CLASSES: dict[str, type[RuleOptimizer]] = {
    cls.name: cls for cls in (SignSGD, Signum, SignSGDW, ExactAdam, ExactAdamW, AdamSRF,
                              AdamWSRF, HomeAdam, HomeAdamW, InvAdam, DualAdam)}

#: The three rules PyTorch has: ``torch.optim`` class and the translation of the registry's
#: hyperparameter names to its keywords. The names coincide; ``bias_correction`` has no
#: counterpart (torch.optim.Adam and AdamW always correct), so ``make`` returns
#: :class:`ExactAdam` / :class:`ExactAdamW` when it is off.
NATIVE: dict[str, tuple[type, dict[str, str]]] = {
    "sgd": (torch.optim.SGD, {"lr": "lr", "momentum": "momentum", "dampening": "dampening",
                              "nesterov": "nesterov", "weight_decay": "weight_decay"}),
    "adam": (torch.optim.Adam, {"lr": "lr", "betas": "betas", "eps": "eps",
                                "weight_decay": "weight_decay"}),
    "adamw": (torch.optim.AdamW, {"lr": "lr", "betas": "betas", "eps": "eps",
                                  "weight_decay": "weight_decay"}),
}


def make(name: str, params, **hyper) -> torch.optim.Optimizer:
    """The optimiser of registry rule ``name`` over ``params`` (tensors or parameter-group
    dicts) with hyperparameters ``hyper`` (the config's ``[optimizer]`` keys; unknown names,
    keys or values, also in a group, raise ``ValueError``).

    ``sgd``, ``adam``, ``adamw`` give ``torch.optim.SGD``, ``Adam``, ``AdamW`` with the keys
    translated by :data:`NATIVE`; ``adam``/``adamw`` with ``bias_correction = false`` (given
    or in any group) give :class:`ExactAdam`/:class:`ExactAdamW`. Every other name gives its
    class in :data:`CLASSES`, which also takes its torch-only options (HomeAdam's ``scope``).
    """
    spec = get_optimizer(name)
    if name not in NATIVE:
        return CLASSES[name](params, **hyper)
    if isinstance(params, torch.Tensor):
        raise TypeError("params: an iterable of tensors or of parameter-group dicts, not a tensor")
    base = spec.hyper(hyper)
    fields = field_names(spec.hyper_cls)
    params = list(params)
    groups = params if params and isinstance(params[0], dict) else [{"params": params}]
    records = [build(spec.hyper_cls, {**to_plain(base), **{k: group[k] for k in fields if k in group}},
                     f"param_groups[{i}].") for i, group in enumerate(groups)]
    if not all(getattr(record, "bias_correction", True) for record in records):
        return CLASSES[name](params, **hyper)
    cls, keywords = NATIVE[name]
    native_groups = [{**{k: v for k, v in group.items() if k not in fields},
                      **{theirs: getattr(record, ours) for ours, theirs in keywords.items() if ours in group}}
                     for group, record in zip(groups, records)]
    return cls(native_groups, **{theirs: getattr(base, ours) for ours, theirs in keywords.items()})


__all__ = ["CLASSES", "NATIVE", "SCOPES", "AdamSRF", "AdamWSRF", "DualAdam", "ExactAdam",
           "ExactAdamW", "HomeAdam", "HomeAdamW", "InvAdam", "RuleOptimizer", "SignSGD",
           "SignSGDW", "Signum", "make"]
