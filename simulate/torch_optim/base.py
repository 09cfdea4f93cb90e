"""The shared machinery of the ``torch.optim`` classes: hyperparameters, groups, diagnostics.

Every class names one rule of the simulator's registry (``simulate.optimizers``); its
hyperparameters, their defaults and their validation come from that rule's record in
``simulate.optimizers.hyper`` (plus the class's torch-only options, declared the same way),
so a bad value raises the same one-line :class:`~simulate.fields.ConfigError` (a
``ValueError``) as the config's ``[optimizer]`` section does. Parameter groups are validated
when they are added (their messages name the group: ``param_groups[1].lr = …``); values
changed later in ``param_groups`` (by a learning-rate scheduler, say) are read as they are.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Any, ClassVar

import torch

from ..fields import build, describe, field_names
from ..optimizers import get_optimizer

#: How each diagnostic of a parameter group combines over several groups: minima and
#: maxima over all coordinates, or the coordinate-weighted mean of the groups' values.
COMBINE = {"v_hat_min": "min", "rho_hat": "min", "v_hat_max": "max",
           "home_share": "mean", "alpha": "mean", "mixed": "mean"}


def _options(record_cls: type, extra: tuple) -> type:
    """The record class of the rule, extended by the torch-only fields ``extra``
    (``(name, type, simulate.fields.rule(...))`` triples) when there are any."""
    if not extra:
        return record_cls
    return dataclasses.make_dataclass(f"{record_cls.__name__}Torch", list(extra),
                                      bases=(record_cls,), frozen=True)


def _values(record) -> dict:
    return {name: getattr(record, name) for name in field_names(type(record))}


def _signature(options: type) -> inspect.Signature:
    parameters = [inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters += [inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                     default=f.default) for f in dataclasses.fields(options)]
    return inspect.Signature(parameters)


def _hyper_doc(record_cls: type, options: type) -> str:
    lines = [f"    {f.name} = {describe(f.default)}  ({f.metadata['rule'].allowed or f.metadata['rule'].kind})"
             for f in dataclasses.fields(options)]
    return ("\n\n    Hyperparameters, in positional order after ``params`` (defaults and allowed "
            f"values from ``simulate.optimizers.hyper.{record_cls.__name__}``"
            + (" and the torch-only options" if options is not record_cls else "") + "):\n\n"
            + "\n".join(lines) + "\n")


def decay(p: torch.Tensor, lr: float, weight_decay: float) -> None:
    """Decoupled weight decay in place, as the kernels compute it: ``w ← w − (ηλ)·w``."""
    if weight_decay != 0.0:
        p.sub_(p * (lr * weight_decay))


def gather(values: list) -> torch.Tensor:
    """0-d tensors (possibly of several devices and dtypes) as one 1-d tensor on the first's
    device, in their promoted dtype (no host synchronisation)."""
    dtype = values[0].dtype
    for value in values[1:]:
        dtype = torch.promote_types(dtype, value.dtype)
    device = values[0].device
    return torch.stack([value.to(device=device, dtype=dtype) for value in values])


class RuleOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` running rule ``name`` of the simulator's registry.

    Subclasses set ``name`` (the registry name), optionally ``extra`` (torch-only options),
    and implement :meth:`_group_step`, which updates one parameter group in place and returns
    that group's diagnostics, keyed by the registry's diagnostic names, or ``None`` when no
    parameter of the group had a gradient. A value is a number, a 0-d tensor, or a function
    of no arguments computing it when :meth:`diagnostics` is called (from the optimiser state,
    which stays as the step left it until the next step), so steps need not pay for them.
    """

    name: ClassVar[str] = ""
    extra: ClassVar[tuple] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return
        cls.spec = get_optimizer(cls.name)
        cls.options = _options(cls.spec.hyper_cls, cls.extra)
        cls.__signature__ = _signature(cls.options)
        cls.__doc__ = (cls.__doc__ or "") + _hyper_doc(cls.spec.hyper_cls, cls.options)

    def __init__(self, params, *args, **hyper: Any):
        names = field_names(self.options)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes at most {len(names)} positional "
                            f"hyperparameters ({', '.join(names)}), got {len(args)}")
        for key, value in zip(names, args):
            if key in hyper:
                raise TypeError(f"{type(self).__name__}() got multiple values for {key!r}")
            hyper[key] = value
        record = build(self.options, hyper)
        self._last: list = []
        super().__init__(params, _values(record))

    def add_param_group(self, param_group: dict) -> None:
        """Add a group, validating its own hyperparameters (missing ones take the defaults)."""
        if isinstance(param_group, dict):
            index = len(self.param_groups)
            merged = {key: param_group.get(key, self.defaults[key]) for key in field_names(self.options)}
            param_group.update(_values(build(self.options, merged, f"param_groups[{index}].")))
            self._init_group(param_group)
        super().add_param_group(param_group)
        if any(p.is_complex() for p in self.param_groups[-1]["params"]):
            self.param_groups.pop()
            raise ValueError(f"params: {type(self).__name__} takes real floating-point tensors only")

    def _init_group(self, group: dict) -> None:
        """Per-group bookkeeping a rule keeps in the group (saved with ``state_dict``)."""

    @staticmethod
    def _gradients(group: dict) -> list:
        """``(parameter, gradient)`` of the group's non-empty parameters that have a gradient."""
        pairs = []
        for p in group["params"]:
            if p.grad is None or p.numel() == 0:
                continue
            if p.grad.is_sparse:
                raise RuntimeError("sparse gradients are not supported")
            pairs.append((p, p.grad))
        return pairs

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter group; ``closure`` (re-evaluating the model and
        returning the loss) is called first, with gradients enabled, if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._last = [(self._group_step(group),
                       sum(p.numel() for p, _ in self._gradients(group)))
                      for group in self.param_groups]
        return loss

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("_last", [])

    def _group_step(self, group: dict):
        raise NotImplementedError

    def diagnostics(self, per_group: bool = False):
        """The simulator's logged diagnostics of the last step (names from the registry).

        One dict ``{name: float}`` over all parameters: ``v_hat_min``, ``rho_hat`` are
        minima over every coordinate, ``v_hat_max`` the maximum, and ``home_share``,
        ``mixed``, ``alpha`` the coordinate-weighted means of the groups' values (for one
        group, or groups with equal settings, exactly the group's value). With
        ``per_group=True`` a list of one such dict per parameter group. NaN before the
        first step and for groups without gradients in the last step.
        """
        names = self.spec.diagnostics
        nan = {key: math.nan for key in names}
        groups = [({key: float(value() if callable(value) else value) for key, value in diag.items()}
                   if diag is not None else nan, size) for diag, size in self._last]
        if per_group:
            return [values for values, _ in groups] or [dict(nan) for _ in self.param_groups]
        taken = [(values, size) for (values, size), (diag, _) in zip(groups, self._last)
                 if diag is not None]
        if not taken:
            return dict(nan)
        total = sum(size for _, size in taken)
        out = {}
        for key in names:
            column = [values[key] for values, _ in taken]
            how = COMBINE[key]
            if how == "min" or how == "max":
                out[key] = min(column) if how == "min" else max(column)
            elif all(value == column[0] for value in column):  # one group, or equal values
                out[key] = column[0]
            else:
                out[key] = sum(values[key] * size for values, size in taken) / total
        return out
