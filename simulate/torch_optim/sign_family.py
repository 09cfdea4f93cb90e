"""The sign rules as ``torch.optim`` classes (Bernstein et al. 2018; SPEC §4), computed as
the kernels in ``simulate/optimizers/sgd_family.py`` compute them (``sign(0) = 0``)."""
from __future__ import annotations

import torch

from .base import RuleOptimizer, decay


class SignSGD(RuleOptimizer):
    """SignSGD: ``w ← w − η·sign(g)``."""

    name = "signsgd"

    def _group_step(self, group: dict):
        pairs = self._gradients(group)
        for p, g in pairs:
            decay(p, group["lr"], group.get("weight_decay", 0.0))
            p.sub_(torch.sign(g).mul_(group["lr"]))
        return {} if pairs else None


class SignSGDW(SignSGD):
    """SignSGDW: decoupled decay ``w ← w − ηλw``, then ``w ← w − η·sign(g)``."""

    name = "signsgdw"


class Signum(RuleOptimizer):
    """Signum: ``m ← β·m + (1−β)·g``, ``w ← w − η·sign(m)``; β is ``momentum``; state
    ``momentum_buffer`` (m)."""

    name = "signum"

    def _group_step(self, group: dict):
        beta = group["momentum"]
        pairs = self._gradients(group)
        for p, g in pairs:
            state = self.state[p]
            if not state:
                state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            m = state["momentum_buffer"]
            m.mul_(beta).add_(g * (1.0 - beta))
            p.sub_(torch.sign(m).mul_(group["lr"]))
        return {} if pairs else None
