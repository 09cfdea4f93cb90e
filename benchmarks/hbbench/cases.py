"""The benchmark cases and the problem every baseline sees (homebound's data and start).

A :class:`Case` is a preset plus overrides and its step counts; :func:`problem_of` turns one
of its configs into a :class:`Problem`: homebound's training data and initial parameters
(``simulate.run.prepare``) in the row-major layout the baselines use.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulate.loading import load_config
from simulate.run import prepare

DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Steps:
    """Step counts: homebound ``(N0, N)``, baselines ``N`` (after a warm-up), repeats."""

    hb_short: int
    hb_long: int
    baseline: int
    jax: int
    repeats: int
    hb_repeats: int


@dataclass(frozen=True)
class Case:
    name: str
    preset: str
    overrides: tuple
    full: Steps
    quick: Steps
    quick_overrides: tuple = ()
    note: str = ""

    def config(self, dtype: str, steps: int, quick: bool, extra=()):
        ov = [*self.overrides, *(self.quick_overrides if quick else ()), "data.n_test=100",
              f"model.dtype={dtype}", f"train.steps={steps}", f"train.log_every={steps}", *extra]
        return load_config(self.preset, ov)


_LARGE = ("data.n=10000", "data.d=4000", "model.m=100", "train.batch_size=0")
CASES = (
    Case("tang-minibatch", "tang2025", ("train.batch_size=2",),
         full=Steps(20, 20_000, 2_000, 5_000, 3, 3), quick=Steps(20, 2_000, 300, 1_000, 3, 3),
         note="tang2025, Adam, B=2"),
    Case("tang-largebatch", "tang2025", ("train.batch_size=100",),
         full=Steps(5, 300, 500, 1_000, 3, 3), quick=Steps(5, 40, 100, 200, 3, 3),
         note="tang2025, Adam, B=100"),
    Case("kou", "kou2023", ("train.batch_size=0",),
         full=Steps(10, 2_000, 1_000, 2_000, 3, 3), quick=Steps(10, 300, 200, 300, 3, 3),
         note="kou2023, GD, full batch n=20"),
    Case("large", "kou2023", _LARGE,
         full=Steps(1, 6, 3, 3, 2, 3), quick=Steps(1, 11, 3, 3, 2, 3),
         quick_overrides=("data.n=1000",),
         note="dense, n=10000 d=4000 m=100, GD full batch (--quick: n=1000)"),
)
CASE_NAMES = tuple(c.name for c in CASES) + ("sweep", "sweep-vs-vmap", "startup")


@dataclass
class Problem:
    """One case as the baselines see it: homebound's data and initial parameters."""

    X: np.ndarray          # (n, P, d) float64
    y: np.ndarray          # (n,)
    theta0: np.ndarray     # flat [W.ravel(), b.ravel()], W (2, m, d) row-major (``canonical``)
    m: int
    q: float
    c: float
    bias: bool
    optimizer: str         # "adam" or "sgd"
    lr: float
    betas: tuple
    eps: float
    batch: int             # effective batch size

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def P(self):
        return self.X.shape[1]

    @property
    def d(self):
        return self.X.shape[2]

    @property
    def full_batch(self):
        return self.batch == self.n

    @property
    def n_params(self):
        return self.theta0.size

    def split(self, theta):
        k = 2 * self.m * self.d
        W = theta[:k].reshape(2 * self.m, self.d)
        b = theta[k:] if self.bias else None
        return W, b

    def batches(self, steps: int, seed: int = 0):
        """``(steps, B)`` indices, reshuffled every epoch (``None`` for full batch)."""
        if self.full_batch:
            return None
        rng = np.random.default_rng(seed)
        per_epoch = self.n // self.batch
        epochs = -(-steps // per_epoch)
        rows = [rng.permutation(self.n)[: per_epoch * self.batch].reshape(per_epoch, self.batch)
                for _ in range(epochs)]
        return np.concatenate(rows)[:steps].astype(np.int64)


def canonical(theta: np.ndarray, m: int, d: int, bias: bool) -> np.ndarray:
    """Homebound's flat ``θ`` as ``[W.ravel(), b]`` with ``W (2, m, d)`` row-major, the layout
    the baselines use. ``simulate.network.unflatten`` defines homebound's own layout where it
    exists (the kernels may store ``Wᵀ``); without it ``θ`` is taken as already row-major."""
    try:
        from simulate.network import unflatten
    except ImportError:
        return np.asarray(theta, dtype=np.float64)
    W, b = unflatten(np.asarray(theta, dtype=np.float64), m, d, bias)
    parts = [np.asarray(W).reshape(-1)] + ([np.asarray(b).reshape(-1)] if bias else [])
    return np.concatenate(parts)


def problem_of(config) -> Problem:
    x = prepare(config)
    model, opt = config.model, config.optimizer
    hyper = opt.hyper
    if opt.name not in ("adam", "sgd"):
        raise ValueError(f"baselines implement adam and sgd, not {opt.name}")
    if opt.name == "sgd" and (hyper.momentum or hyper.weight_decay):
        raise ValueError("baselines implement plain GD only")
    if opt.name == "adam" and (hyper.weight_decay or not hyper.bias_correction):
        raise ValueError("baselines implement plain bias-corrected Adam only")
    if model.activation != "relu" or config.train.l2:
        raise ValueError("baselines implement relu^q without L2")
    return Problem(X=x.train.X.astype(np.float64), y=x.train.y.astype(np.float64),
                   theta0=canonical(x.params, model.m, config.data.d, bool(model.bias)),
                   m=model.m, q=float(model.q),
                   c=float(model.output_scale(config.data.patches)), bias=bool(model.bias),
                   optimizer=opt.name, lr=float(hyper.lr),
                   betas=tuple(getattr(hyper, "betas", (0.9, 0.999))),
                   eps=float(getattr(hyper, "eps", 1e-8)), batch=config.batch_size)


def flops_per_step(pb_shape) -> float:
    """``2·(forward + backward)`` multiply-adds: forward ``B·2m·P·d``, the weight gradient the
    same again (bias terms ignored)."""
    B, m, P, d = pb_shape
    return 2.0 * 2.0 * B * 2 * m * P * d


def update_bytes(optimizer: str, n_params: int, itemsize: int) -> float:
    return (7 if optimizer == "adam" else 3) * itemsize * n_params
