"""The PyTorch baseline: eager autograd and ``torch.optim`` on one thread."""
from __future__ import annotations

from .cases import Problem


def available():
    try:
        import torch
        return True, torch.__version__
    except (ImportError, OSError, RuntimeError) as err:  # absent, or a broken binary wheel
        return False, f"{type(err).__name__}: {err}"


def make(pb: Problem, dtype: str):
    import torch
    torch.set_num_threads(1)
    tdt = getattr(torch, dtype)
    X = torch.from_numpy(pb.X.astype(dtype))
    y = torch.from_numpy(pb.y.astype(dtype))
    W0, b0 = pb.split(pb.theta0)
    W = torch.tensor(W0, dtype=tdt, requires_grad=True)
    params = [W]
    if pb.bias:
        b = torch.tensor(b0, dtype=tdt, requires_grad=True)
        params.append(b)
    if pb.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=pb.lr, betas=pb.betas, eps=pb.eps)
    else:
        opt = torch.optim.SGD(params, lr=pb.lr)
    sign = torch.cat([torch.ones(pb.m), -torch.ones(pb.m)]).to(tdt)
    q, c, P, d = pb.q, pb.c, pb.P, pb.d
    F = torch.nn.functional

    def step(xb, yb):
        B = xb.shape[0]
        z = xb.reshape(B * P, d) @ W.T
        if pb.bias:
            z = z + params[1]
        s = F.relu(z) if q == 1.0 else F.relu(z) ** q
        f = c * (s.reshape(B, P, -1).sum(dim=1) @ sign)
        loss = F.softplus(-yb * f).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def run(steps, batches):
        if batches is not None:
            batches = torch.from_numpy(batches)
        for k in range(steps):
            if batches is None:
                step(X, y)
            else:
                idx = batches[k]
                step(X[idx], y[idx])
        with torch.no_grad():
            return torch.cat([p.detach().reshape(-1) for p in params]).double().numpy()

    return run
