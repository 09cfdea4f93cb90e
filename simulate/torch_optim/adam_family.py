"""The Adam-family rules as ``torch.optim`` classes, computed as the numba kernels compute them.

Shared moment update (SPEC §4; ``simulate/optimizers/adam_family.py``), per tensor:

    decoupled decay:  w ← w − (ηλ)·w           (the W rules, InvAdam, DualAdam: first)
    coupled decay:    g ← g + λ·w              (Adam, Adam-srf, HomeAdam: PyTorch ``Adam(weight_decay)``)
    m ← β1·m + (1−β1)·g,   v ← β2·v + ((1−β2)·g)·g
    m̂ = m/(1−β1^t),        v̂ = v/(1−β2^t)      (m̂ = m, v̂ = v with bias_correction = false)

then the rule's step ``w ← w − s``. Every line is one tensor operation in the kernel's order
(``m̂`` is a division, not a multiplication by a reciprocal; no fused multiply-adds), so float64
trajectories agree with ``simulate.optimizers.replay`` to a few ulps per step (PyTorch's
vectorised ``sqrt`` is not correctly rounded on every CPU, so not always to the last bit).
State per tensor: ``step`` (its update count ``t``, an ``int``), ``exp_avg`` (m) and
``exp_avg_sq`` (v), as in ``torch.optim.Adam``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ..fields import rule
from .base import RuleOptimizer, decay, gather

#: Over which coordinates HomeAdam's global rule takes ``min v̂``.
SCOPES = ("group", "tensor")


class Moments(NamedTuple):
    """One tensor after the moment update: parameter, m, v and the divisors ``1−β^t``."""

    p: torch.Tensor
    m: torch.Tensor
    v: torch.Tensor
    c1: float
    c2: float


def unbias(x: torch.Tensor, c: float) -> torch.Tensor:
    """``x / c``; ``x`` itself when ``c == 1`` (exact either way; never modify the result)."""
    return x if c == 1.0 else x / c


def adam_step(mhat, vhat, eps: float, lr: float) -> torch.Tensor:
    """``(η·m̂)/(√v̂ + ε)``."""
    return (mhat * lr).div_(vhat.sqrt().add_(eps))


def srf_step(mhat, vhat, eps: float, lr: float) -> torch.Tensor:
    """``(η·m̂)/(v̂ + ε)``."""
    return (mhat * lr).div_(vhat + eps)


class AdamFamily(RuleOptimizer):
    """Base of the Adam-family classes: the shared moment update and the ``v̂`` range."""

    def _moments(self, group: dict) -> list:
        """Decay and moment update of every tensor of the group with a gradient."""
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        decoupled = self.spec.hyper_cls.DECOUPLED
        entries = []
        for p, g in self._gradients(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["step"] += 1
            t = state["step"]
            if decoupled:
                decay(p, lr, weight_decay)
            elif weight_decay != 0.0:
                g = g + p * weight_decay
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m.mul_(beta1).add_(g * (1.0 - beta1))
            v.mul_(beta2).add_(g * (1.0 - beta2) * g)
            if group["bias_correction"]:
                c1, c2 = 1.0 - math.pow(beta1, t), 1.0 - math.pow(beta2, t)
            else:
                c1, c2 = 1.0, 1.0
            entries.append(Moments(p, m, v, c1, c2))
        return entries

    @staticmethod
    def _v_hat_min(entries: list) -> torch.Tensor:
        """``min v̂`` over the entries' coordinates (``min v / (1−β2^t)`` per tensor)."""
        return gather([e.v.amin() / e.c2 for e in entries]).amin()

    @classmethod
    def _range(cls, entries: list) -> dict:
        """Diagnostics ``v_hat_min``, ``v_hat_max`` over the group's coordinates (lazy)."""
        return {"v_hat_min": lambda: cls._v_hat_min(entries),
                "v_hat_max": lambda: gather([e.v.amax() / e.c2 for e in entries]).amax()}

    def _rule_step(self, mhat, vhat, eps: float, lr: float) -> torch.Tensor:
        raise NotImplementedError

    def _group_step(self, group: dict):
        entries = self._moments(group)
        if not entries:
            return None
        for e in entries:
            e.p.sub_(self._rule_step(unbias(e.m, e.c1), unbias(e.v, e.c2), group["eps"], group["lr"]))
        return self._range(entries)


class ExactAdam(AdamFamily):
    """Adam (Kingma & Ba 2015) operation for operation as the simulator's kernel computes it:
    ``w ← w − η·m̂/(√v̂ + ε)``,
    coupled weight decay (ℓ2-Adam), and a ``bias_correction`` switch (off: the form Tang et
    al. analyse) that ``torch.optim.Adam`` lacks. ``make("adam", …)`` returns
    ``torch.optim.Adam`` unless bias correction is off."""

    name = "adam"

    def _rule_step(self, mhat, vhat, eps, lr):
        return adam_step(mhat, vhat, eps, lr)


class ExactAdamW(ExactAdam):
    """AdamW (Loshchilov & Hutter 2019) as the simulator computes it: decoupled decay
    ``w ← w − ηλw``, then the Adam step; ``bias_correction`` switch."""

    name = "adamw"


class AdamSRF(AdamFamily):
    """Adam-srf, square-root free (HomeAdam paper, arXiv 2603.02649): ``w ← w − η·m̂/(v̂ + ε)``,
    coupled weight decay."""

    name = "adam_srf"

    def _rule_step(self, mhat, vhat, eps, lr):
        return srf_step(mhat, vhat, eps, lr)


class AdamWSRF(AdamSRF):
    """AdamW-srf: Adam-srf with decoupled weight decay (arXiv 2603.02649)."""

    name = "adamw_srf"


class InvAdam(AdamFamily):
    """InvAdam (arXiv 2603.07122), multiplies where Adam divides: ``w ← w − η·m̂⊙(√v̂ + ε)``,
    decoupled weight decay."""

    name = "invadam"

    def _rule_step(self, mhat, vhat, eps, lr):
        return (mhat * lr).mul_(vhat.sqrt().add_(eps))


class HomeAdam(AdamFamily):
    """HomeAdam, "sometimes go home" to momentum SGD (arXiv 2603.02649), coupled decay.

    RECONSTRUCTION (SPEC §4): only the paper's abstract was available; this is the rule two
    independent re-implementations agree on. The test value is ``v̂`` (or ``v̂ + ε`` with
    ``tau_includes_eps``), the threshold ``tau``:

    - ``rule="global"``: if ``min v̂ ≥ τ`` the srf step ``η·m̂/(v̂+ε)``, else the momentum step
      ``η·m̂``. The minimum ranges over the whole parameter group (``scope="group"``, the
      default) or over each tensor alone (``scope="tensor"``). The group is the default
      because it is the rule the simulator runs (``min`` over all of θ) and the one the
      paper's analysis is stated in: ``ρ̂`` is the smallest second-moment entry over all
      parameters (SPEC §3, §7), so one coordinate with a small second moment, in any tensor,
      sends every tensor home. Per tensor lets each layer go home on its own, a variant the
      analysis does not cover; for any other partition put the tensors in separate groups.
    - ``rule="elementwise"``: per coordinate ``h = v̂ + ε`` if ``v̂ ≥ τ`` else ``1``; step
      ``η·m̂/h`` (``scope`` does not matter).

    Diagnostics: ``rho_hat = min v̂ + ε`` over the group and ``home_share``, the share of the
    group's coordinates that took the momentum step (global rule, group scope: 1 if the step
    went home, else 0, as the simulator logs it).
    """

    name = "homeadam"
    extra = (("scope", str, rule("group", "str", choices=SCOPES)),)

    def _group_step(self, group: dict):
        entries = self._moments(group)
        if not entries:
            return None
        lr, eps, tau = group["lr"], group["eps"], group["tau"]
        shift = eps if group["tau_includes_eps"] else 0.0
        if group["rule"] == "elementwise":
            home = [self._elementwise(e, lr, eps, tau, shift) for e in entries]
        else:
            lows = ([self._v_hat_min([e]) for e in entries] if group["scope"] == "tensor"
                    else [self._v_hat_min(entries)] * len(entries))
            home = [self._global(e, lr, eps, bool(low + shift >= tau)) for e, low in zip(entries, lows)]
        size = sum(e.p.numel() for e in entries)
        return {"rho_hat": lambda: self._v_hat_min(entries) + eps,
                "home_share": lambda: sum(float(count) for count in home) / size}

    @staticmethod
    def _global(e: Moments, lr: float, eps: float, stays: bool) -> int:
        """The srf step if ``stays`` else the momentum step; the number of coordinates home."""
        mhat = unbias(e.m, e.c1)
        e.p.sub_(srf_step(mhat, unbias(e.v, e.c2), eps, lr) if stays else mhat * lr)
        return 0 if stays else e.p.numel()

    @staticmethod
    def _elementwise(e: Moments, lr: float, eps: float, tau: float, shift: float) -> torch.Tensor:
        """``w ← w − η·m̂/h``, ``h = v̂ + ε`` where the test value is ≥ τ, else 1; returns the
        number of coordinates home (a 0-d tensor). The masks are 0/1 tensors of the parameter
        dtype (a comparison into a float tensor is ~20× faster on the CPU than ``torch.where``
        on a boolean one) and ``h = (v̂+ε)·keep + home`` is exact: ``v̂+ε`` or ``0 + 1``."""
        vhat = unbias(e.v, e.c2)
        test = vhat + shift if shift else vhat
        keep = torch.ge(test, tau, out=torch.empty_like(test))
        home = torch.lt(test, tau, out=torch.empty_like(test))
        e.p.sub_((unbias(e.m, e.c1) * lr).div_((vhat + eps).mul_(keep).add_(home)))
        return torch.count_nonzero(home)


class HomeAdamW(HomeAdam):
    """HomeAdamW: HomeAdam with decoupled weight decay ``w ← w − ηλw`` first (reconstruction)."""

    name = "homeadamw"


class DualAdam(AdamFamily):
    """DualAdam (arXiv 2603.07122, the authors' code): Adam mixed with InvAdam, then Adam.

    ``α_t = max(0, 1 − t·ξ)`` (``switch_rate`` ξ); decoupled decay first; if ``α_t ≥ ξ`` the
    mixed step ``η·((1−α_t)·m̂/(√v̂+ε) + α_t·m̂⊙(√v̂+ε))``, else the Adam step. ``t`` is one
    counter per parameter group, ``param_groups[i]["global_step"]``, counting ``step()``
    calls as the authors' ``self._step`` does (kept in the group so that it survives
    ``state_dict`` round trips); bias correction uses each tensor's own ``step``, which is the
    same number whenever every parameter has a gradient at every step.
    Diagnostics: ``alpha`` (α_t) and ``mixed`` (1 if the mixed step was taken).
    """

    name = "dualadam"

    def _init_group(self, group: dict) -> None:
        group.setdefault("global_step", 0)

    def _group_step(self, group: dict):
        group["global_step"] += 1
        xi = group["switch_rate"]
        alpha = max(0.0, 1.0 - group["global_step"] * xi)
        mixed = alpha >= xi
        entries = self._moments(group)
        if not entries:
            return None
        lr, eps = group["lr"], group["eps"]
        for e in entries:
            mhat, vhat = unbias(e.m, e.c1), unbias(e.v, e.c2)
            if mixed:
                root = vhat.sqrt().add_(eps)
                mix = (mhat * (1.0 - alpha)).div_(root).add_((mhat * alpha).mul_(root))
                e.p.sub_(mix.mul_(lr))
            else:
                e.p.sub_(adam_step(mhat, vhat, eps, lr))
        return {"alpha": alpha, "mixed": 1.0 if mixed else 0.0}
