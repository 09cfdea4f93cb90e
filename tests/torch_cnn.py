"""SPEC §2's two-layer CNN written in PyTorch, on the data and initialisation homebound draws.

``f(W,x) = F_{+1} − F_{−1}``, ``F_j = c·Σ_r Σ_p σ(⟨w_{j,r}, x^(p)⟩ + b_{j,r})``, logistic loss
averaged over the batch plus ``(λ₂/2)‖θ‖²``; autograd gives the gradient. The parameters are
two tensors, ``W (2, m, d)`` and (with ``model.bias``) ``b (2, m)``, taken from
``simulate.run.prepare`` (the same draws ``simulate.run.train`` starts from).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from simulate.network import flatten, unflatten
from simulate.run import prepare


@dataclass
class TorchCNN:
    params: list
    X: torch.Tensor
    y: torch.Tensor
    q: float
    c: float
    linear: bool
    l2: float

    def loss(self, index=None) -> torch.Tensor:
        """Mean logistic loss over the samples ``index`` (all by default), plus L2."""
        X, y = (self.X, self.y) if index is None else (self.X[index], self.y[index])
        W = self.params[0]
        two, m, d = W.shape
        n, P, _ = X.shape
        z = X.reshape(n * P, d) @ W.reshape(two * m, d).T
        if len(self.params) > 1:
            z = z + self.params[1].reshape(two * m)
        s = z if self.linear else torch.relu(z) ** self.q
        per_unit = s.reshape(n, P, two * m).sum(dim=1)
        f = self.c * (per_unit[:, :m].sum(dim=1) - per_unit[:, m:].sum(dim=1))
        loss = torch.nn.functional.softplus(-y * f).mean()
        if self.l2:
            loss = loss + 0.5 * self.l2 * sum((p * p).sum() for p in self.params)
        return loss

    def theta(self) -> np.ndarray:
        """The parameters as homebound's flat float64 ``θ``."""
        return self._flat([p.detach() for p in self.params])

    def grad(self) -> np.ndarray:
        """The parameters' gradients in the layout of ``θ``."""
        return self._flat([p.grad for p in self.params])

    @staticmethod
    def _flat(tensors) -> np.ndarray:
        arrays = [t.cpu().double().numpy() for t in tensors]
        return flatten(arrays[0], arrays[1] if len(arrays) > 1 else None)


def torch_cnn(config) -> TorchCNN:
    """The network of ``config`` with homebound's training data and initial parameters."""
    inputs = prepare(config)
    dtype = getattr(torch, config.model.dtype)
    W, b = unflatten(inputs.params, config.model.m, config.data.d, config.model.bias)
    params = [torch.tensor(np.array(W), dtype=dtype, requires_grad=True)]
    if b is not None:
        params.append(torch.tensor(np.array(b), dtype=dtype, requires_grad=True))
    return TorchCNN(params=params, X=torch.tensor(inputs.train.X, dtype=dtype),
                    y=torch.tensor(inputs.train.y, dtype=dtype), q=config.model.q,
                    c=config.model.output_scale(config.data.patches),
                    linear=config.model.activation == "linear", l2=config.train.l2)
