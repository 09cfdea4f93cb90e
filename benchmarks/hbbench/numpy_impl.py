"""The plain-NumPy baseline: the same network, loss and optimiser written with arrays."""
from __future__ import annotations

import numpy as np

from .cases import Problem


def make(pb: Problem, dtype: str):
    X = pb.X.astype(dtype)
    y = pb.y.astype(dtype)
    W0, b0 = pb.split(pb.theta0.astype(dtype))
    W, b = W0.copy(), (b0.copy() if pb.bias else None)
    params = [W] + ([b] if pb.bias else [])
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    sign = np.concatenate([np.ones(pb.m), -np.ones(pb.m)]).astype(dtype)
    q, c, P, d = pb.q, pb.c, pb.P, pb.d
    b1, b2 = pb.betas
    t = [0]

    def grads(xb, yb):
        B = xb.shape[0]
        flat = xb.reshape(B * P, d)
        z = flat @ W.T
        if b is not None:
            z += b
        r = np.maximum(z, 0.0)
        if q == 1.0:
            s, ds = r, (z > 0).astype(dtype)
        else:
            rq1 = r ** (q - 1.0)
            s, ds = rq1 * r, q * rq1
        f = c * (s.reshape(B, P, -1).sum(axis=1) @ sign)
        lp = -yb / (1.0 + np.exp(yb * f)) / B          # dℓ/df per sample
        A = ds * (c * sign)
        A = (A.reshape(B, P, -1) * lp[:, None, None]).reshape(B * P, -1)
        gW = A.T @ flat
        return [gW] + ([A.sum(axis=0)] if b is not None else [])

    def run(steps, batches):
        for k in range(steps):
            if batches is None:
                g = grads(X, y)
            else:
                idx = batches[k]
                g = grads(X[idx], y[idx])
            t[0] += 1
            for p, gp, (mm, vv) in zip(params, g, moments):
                if pb.optimizer == "sgd":
                    p -= pb.lr * gp
                    continue
                mm *= b1
                mm += (1.0 - b1) * gp
                vv *= b2
                gp *= gp
                vv += (1.0 - b2) * gp
                denom = np.sqrt(vv)
                denom /= np.sqrt(1.0 - b2 ** t[0])
                denom += pb.eps
                p -= (pb.lr / (1.0 - b1 ** t[0])) * (mm / denom)
        return np.concatenate([p.ravel() for p in params]).astype(np.float64)

    return run
