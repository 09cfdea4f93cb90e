#!/usr/bin/env python
"""Speed of homebound's numba training loop against PyTorch, JAX and plain NumPy.

    python benchmarks/run.py            # full run (~15 min on 2 cores)
    python benchmarks/run.py --quick    # shrunken step counts (~2 min)
    python benchmarks/run.py --only kou,sweep --json out.json

Everything is measured in one process run, single-threaded (BLAS, PyTorch and XLA are pinned
to one thread before they are imported; homebound trains one run per ``train`` call, which
is one numba thread), except the ``sweep`` case, which runs in subprocesses with
``NUMBA_NUM_THREADS=1`` and ``=2``, and ``startup``, which times the command line end to end.

Homebound's steps/second come from its public API only: ``train(config)`` with
``log_every = steps`` (so it logs only the first and last step) and a 100-sample test set.
The per-step time is ``(median T(N) − median T(N0)) / (N − N0)`` for a long run of ``N``
steps and a short one of ``N0`` steps on the same config, which cancels data generation and
the two log evaluations. Numba compilation is excluded by a warm-up ``train`` call per dtype.
The baselines implement the same network, loss and optimiser (SPEC §2, §4) on the data and
initial parameters homebound draws (``simulate.run.prepare``), and a check runs three
full-batch steps in every implementation and compares the parameters with homebound's.

Machine limits, measured in the same run: a large NumPy matmul's FLOP/s (the bound of the
matrix-product-bound ``large`` case) and a streaming ``b = a·s`` over a 64 MB array, bytes/s
(16 bytes per element; the bound of an optimiser update, which reads w, g, m, v and writes
w, m, v: 7 numbers per parameter per Adam step, 3 per plain GD step).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# One thread everywhere, before numpy / torch / jax are imported.
for _key in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_key] = "1"
_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
if _XLA not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _XLA).strip()

# These imports must follow the thread settings above (BLAS and XLA read them at import);
# the project itself comes from the installed package (`pip install -e '.[bench]'`).
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

from simulate.loading import load_config  # noqa: E402
from simulate.run import prepare, train, train_many  # noqa: E402

DTYPES = ("float64", "float32")
BACKENDS = ("homebound", "pytorch", "jax", "numpy")


# ---------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------
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
CASE_NAMES = tuple(c.name for c in CASES) + ("sweep", "startup")


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def median(xs):
    return statistics.median(xs)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class CpuMonitor:
    """CPU used by *other* processes while a measurement ran, in cores: busy time of the whole
    machine (``/proc/stat``) minus this process's and its children's own CPU time, over the
    wall time. Near 0 on a quiet machine; 1 means another process kept a core busy."""

    def __init__(self):
        self.start = self._snap()

    @staticmethod
    def _snap():
        import resource
        busy = None
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            values = [int(v) for v in fields]
            busy = (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
        own = sum(getattr(resource.getrusage(who), f) for who in
                  (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for f in ("ru_utime", "ru_stime"))
        return time.perf_counter(), busy, own

    def foreign(self) -> float | None:
        wall1, busy1, own1 = self._snap()
        wall0, busy0, own0 = self.start
        if busy0 is None or busy1 is None or wall1 <= wall0:
            return None
        return max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))


_ALL_CPUS = None


def pin_one_cpu() -> str:
    """Pin this process (and so every thread PyTorch, XLA, BLAS or numba may start) to one
    CPU: a thread-count setting alone does not hold XLA's CPU runtime to one core."""
    global _ALL_CPUS
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    _ALL_CPUS = os.sched_getaffinity(0)
    cpu = max(_ALL_CPUS)
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def _unpin():
    """Undo :func:`pin_one_cpu` before the subprocesses that must see every CPU (the 2-thread
    sweep, the CLI); they inherit the parent's affinity."""
    if _ALL_CPUS is not None:
        os.sched_setaffinity(0, _ALL_CPUS)


_WAITED = [0.0]


def wait_quiet(limit: float, threshold: float = 0.3, window: float = 2.0) -> None:
    """Wait (at most ``limit`` seconds) until other processes use less than ``threshold``
    cores over a ``window``-second sample, so a measurement does not share the CPU."""
    if limit <= 0:
        return
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        monitor = CpuMonitor()
        time.sleep(window)
        load = monitor.foreign()
        if load is None or load < threshold:
            break
        log(f"  waiting for a quiet CPU (other processes use {load:.2f} cores) …")
    _WAITED[0] += time.perf_counter() - t0


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    import numba
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = ["?"] * 3
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "loadavg": " ".join(load),
            "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__,
            "platform": platform.platform()}
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags"))
        info["simd"] = " ".join(f for f in ("avx2", "fma", "avx512f") if f" {f}" in flags)
    except (OSError, StopIteration):
        pass
    return info


def measure_limits(quick: bool) -> dict:
    """Single-thread matmul FLOP/s per dtype and streaming ``b = a*s`` bytes/s, each the best
    of several repeats (a limit is what the machine can reach)."""
    out = {}
    size = 2000
    rng = np.random.default_rng(0)
    for dtype in DTYPES:
        a = rng.random((size, size)).astype(dtype)
        b = rng.random((size, size)).astype(dtype)
        a @ b
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - t0)
        out[f"matmul_{dtype}"] = 2.0 * size ** 3 / min(times)
    elems = 64 * 2 ** 20 // 8
    a = np.full(elems, 1.5)
    b = np.empty_like(a)
    np.multiply(a, 0.5, out=b)
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        np.multiply(a, 0.5, out=b)
        times.append(time.perf_counter() - t0)
    out["stream"] = 16.0 * elems / min(times)
    # The FP divider: Adam's per-parameter m/(√v + ε) on an L2-resident array (NumPy's SIMD
    # sqrt and divide), seconds per element, per dtype.
    for dtype in DTYPES:
        k = 40_000
        v = rng.random(k).astype(dtype)
        mm = rng.random(k).astype(dtype)
        o = np.empty_like(v)
        eps = np.dtype(dtype).type(1e-8)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(200):
                np.sqrt(v, out=o)
                np.add(o, eps, out=o)
                np.divide(mm, o, out=o)
            times.append((time.perf_counter() - t0) / 200 / k)
        out[f"divsqrt_{dtype}"] = min(times)
    return out


# ---------------------------------------------------------------------------------------
# the problem as the baselines see it
# ---------------------------------------------------------------------------------------
@dataclass
class Problem:
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


# ---------------------------------------------------------------------------------------
# baselines: each ``make_*(problem, dtype)`` returns ``run(steps, batches) -> theta``
# (``batches`` as ``Problem.batches``); state carries over between calls.
# ---------------------------------------------------------------------------------------
def make_numpy(pb: Problem, dtype: str):
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


def torch_available():
    try:
        import torch
        return True, torch.__version__
    except (ImportError, OSError, RuntimeError) as err:  # absent, or a broken binary wheel
        return False, f"{type(err).__name__}: {err}"


def make_torch(pb: Problem, dtype: str):
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


def jax_available():
    try:
        import jax
        import optax
        jax.config.update("jax_enable_x64", True)
        return True, f"{jax.__version__} (optax {optax.__version__})"
    except (ImportError, OSError, RuntimeError) as err:  # absent, or a broken binary wheel
        return False, f"{type(err).__name__}: {err}"


def make_jax(pb: Problem, dtype: str):
    import jax
    import jax.numpy as jnp
    import optax
    from jax import lax
    jax.config.update("jax_enable_x64", True)
    X = jnp.asarray(pb.X, dtype=dtype)
    y = jnp.asarray(pb.y, dtype=dtype)
    W0, b0 = pb.split(pb.theta0)
    params = {"W": jnp.asarray(W0, dtype=dtype)}
    if pb.bias:
        params["b"] = jnp.asarray(b0, dtype=dtype)
    if pb.optimizer == "adam":
        opt = optax.adam(pb.lr, b1=pb.betas[0], b2=pb.betas[1], eps=pb.eps)
    else:
        opt = optax.sgd(pb.lr)
    sign = jnp.concatenate([jnp.ones(pb.m), -jnp.ones(pb.m)]).astype(dtype)
    q, c, P, d = pb.q, pb.c, pb.P, pb.d

    def loss_fn(p, xb, yb):
        B = xb.shape[0]
        z = xb.reshape(B * P, d) @ p["W"].T
        if pb.bias:
            z = z + p["b"]
        s = jax.nn.relu(z) if q == 1.0 else jax.nn.relu(z) ** q
        f = c * (s.reshape(B, P, -1).sum(axis=1) @ sign)
        return jnp.mean(jax.nn.softplus(-yb * f))

    def update(carry, xb, yb):
        p, st = carry
        g = jax.grad(loss_fn)(p, xb, yb)
        upd, st = opt.update(g, st, p)
        return (optax.apply_updates(p, upd), st)

    @jax.jit
    def run_batches(carry, X, y, idxs):
        def body(carry, idx):
            return update(carry, X[idx], y[idx]), None
        return lax.scan(body, carry, idxs)[0]

    from functools import partial

    @partial(jax.jit, static_argnums=3)
    def run_full(carry, X, y, steps):
        def body(carry, _):
            return update(carry, X, y), None
        return lax.scan(body, carry, None, length=steps)[0]

    state = [(params, opt.init(params))]

    def run(steps, batches):
        if batches is None:
            carry = run_full(state[0], X, y, steps)
        else:
            carry = run_batches(state[0], X, y, jnp.asarray(batches))
        jax.block_until_ready(carry)
        state[0] = carry
        p = carry[0]
        parts = [np.asarray(p["W"]).ravel()] + ([np.asarray(p["b"]).ravel()] if pb.bias else [])
        return np.concatenate(parts).astype(np.float64)

    return run


MAKERS = {"pytorch": make_torch, "jax": make_jax, "numpy": make_numpy}


def baseline_rate(backend: str, pb: Problem, dtype: str, steps: int, repeats: int) -> dict:
    """Steps/s of a baseline: a warm-up call on the same shapes (JAX compiles there), then
    ``repeats`` timed calls of ``steps`` steps; also the CPU-time/wall-time ratio."""
    run = MAKERS[backend](pb, dtype)
    batches = pb.batches(steps)
    warm = steps if backend == "jax" else min(steps, max(2, steps // 10))
    run(warm, None if batches is None else batches[:warm] if backend != "jax" else batches)
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        run(steps, batches)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"rate": steps / median(times), "cpu_per_wall": sum(cpu) / sum(times)}


# ---------------------------------------------------------------------------------------
# homebound
# ---------------------------------------------------------------------------------------
_WARM = set()


def hb_warm(case: Case, dtype: str, quick: bool, optimizer: str | None = None):
    """Compile (or load from the numba cache) before timing: a 2-step run of this dtype."""
    key = (case.preset, dtype, optimizer)
    if key in _WARM:
        return
    extra = [f"optimizer.name={optimizer}"] if optimizer else []
    cfg = load_config(case.preset, ["data.n=20", "data.n_test=10", "data.d=50", "data.s=5", "model.m=2",
                                    f"model.dtype={dtype}", "train.steps=2", "train.batch_size=2",
                                    *extra])
    train(cfg)
    _WARM.add(key)


def hb_time(config) -> float:
    t0 = time.perf_counter()
    result = train(config)
    elapsed = time.perf_counter() - t0
    if result.steps_done != config.total_steps:
        raise RuntimeError(f"homebound run stopped at step {result.steps_done} "
                           f"(diverged at {result.diverged_at})")
    return elapsed


def hb_rate(case: Case, dtype: str, quick: bool, optimizer: str | None = None) -> dict:
    """Steps/s from the difference of a long and a short run (same config otherwise)."""
    st = case.quick if quick else case.full
    hb_warm(case, dtype, quick, optimizer)
    extra = [f"optimizer.name={optimizer}"] if optimizer else []
    if optimizer:
        # the same learning rate (the other hyperparameters are the optimiser's defaults)
        base = case.config(dtype, 1, quick)
        extra.append(f"optimizer.lr={base.optimizer.lr}")
    long_cfg = case.config(dtype, st.hb_long, quick, extra)
    short_cfg = case.config(dtype, st.hb_short, quick, extra)
    longs, shorts = [], []
    for _ in range(st.hb_repeats):
        shorts.append(hb_time(short_cfg))
        longs.append(hb_time(long_cfg))
    per_step = (median(longs) - median(shorts)) / (st.hb_long - st.hb_short)
    if per_step <= 0:  # noise swamped the difference: fall back to the long run alone
        per_step = median(longs) / st.hb_long
    return {"rate": 1.0 / per_step, "long_s": median(longs), "short_s": median(shorts)}


# ---------------------------------------------------------------------------------------
# agreement check: three full-batch steps everywhere, parameters compared with homebound
# ---------------------------------------------------------------------------------------
def _step_kernels(cfg, batch: np.ndarray, dense: bool = False):
    """Homebound's two per-step kernels bound to one problem: ``grad()`` runs
    ``loss_and_grad`` on the samples ``batch`` and ``update(t)`` runs ``apply_update`` (what
    ``train_run`` calls each step). Patches go as ``train`` passes them (sparse lists where
    ``prepare`` makes them) unless ``dense``. Internal API: arguments are matched by name; an
    unknown signature raises ``TypeError`` and the caller skips what needed it."""
    import inspect
    from simulate.network import ACTIVATIONS, loss_and_grad
    from simulate.optimizers import N_DIAG, N_STATE, apply_update, kind_of, packed_hyper
    x = prepare(cfg)
    X, y, w = x.train.X, x.train.y, x.params.copy()
    n, P = X.shape[0], X.shape[1]
    model = cfg.model
    U = 2 * model.m
    XI = np.zeros((n, P, 0), dtype=np.int32)
    XV = np.zeros((n, P, 0), dtype=X.dtype)
    if not dense and hasattr(x, "train_arrays"):
        X, XI, XV = x.train_arrays
    names = list(inspect.signature(loss_and_grad.py_func).parameters)
    unit_major = "z" in names          # slopes (P, U) with scratch z, a; else slopes (2, m, P)
    grad = np.zeros_like(w)
    values = {
        "w": w, "X": X, "XI": XI, "XV": XV, "y": y, "batch": np.asarray(batch, dtype=np.int64),
        "nb": len(batch), "act": ACTIVATIONS.index(model.activation), "q": float(model.q),
        "c": float(model.output_scale(P)), "m": model.m, "has_bias": bool(model.bias),
        "l2": float(cfg.train.l2), "grad": grad, "z": np.zeros(U),
        "slopes": np.zeros((P, U)) if unit_major else np.zeros((2, model.m, P)),
        "a": np.zeros(U)}
    missing = [nm for nm in names if nm not in values]
    if missing:
        raise TypeError(f"loss_and_grad takes unknown arguments {missing}")
    args = [values[nm] for nm in names]
    state = np.zeros((N_STATE, w.size), dtype=w.dtype)
    hyper = packed_hyper(cfg.optimizer.hyper)
    diag = np.zeros(N_DIAG)
    kind, lr = kind_of(cfg.optimizer.name), float(cfg.optimizer.lr)
    return (lambda: loss_and_grad(*args),
            lambda t: apply_update(kind, w, grad, state, hyper, t, lr, diag), w)


def _kernel_steps(cfg, k: int) -> np.ndarray:
    """``k`` full-batch steps through homebound's step kernels, all samples in order."""
    grad, update, w = _step_kernels(cfg, np.arange(cfg.data.n), dense=True)
    for t in range(1, k + 1):
        grad()
        update(t)
    return w.astype(np.float64)


def kernel_split(case: Case, dtype: str, quick: bool, seconds: float = 1.0) -> dict:
    """Microseconds per call of the gradient kernel and of the optimiser kernel, each timed
    alone in a Python loop (minus the dispatch cost of the same calls on a tiny problem)."""
    cfg = case.config(dtype, 1, quick)
    B = cfg.batch_size
    batch = np.random.default_rng(0).permutation(cfg.data.n)[:B]
    if B == cfg.data.n:
        batch = np.arange(B)
    grad, update, _ = _step_kernels(cfg, batch)
    tiny_cfg = load_config(case.preset, ["data.n=4", "data.n_test=2", "data.d=4", "data.s=1",
                                         "model.m=1", f"model.dtype={dtype}", "train.steps=1",
                                         "train.batch_size=2"])
    tiny_grad, tiny_update, _ = _step_kernels(tiny_cfg, np.arange(2))

    def per_call(fn, takes_t):
        fn(1) if takes_t else fn()
        calls, t0 = 0, time.perf_counter()
        while True:
            for _ in range(10):
                calls += 1
                fn(calls + 1) if takes_t else fn()
            elapsed = time.perf_counter() - t0
            if elapsed > seconds:
                return elapsed / calls

    overhead_g = per_call(tiny_grad, False)
    overhead_u = per_call(tiny_update, True)
    return {"grad_us": 1e6 * max(0.0, per_call(grad, False) - overhead_g),
            "update_us": 1e6 * max(0.0, per_call(update, True) - overhead_u)}


def agreement(case: Case, quick: bool, backends) -> dict:
    """Three full-batch float64 steps in every implementation from the same data and
    initialisation; ``max|θ − θ_hb| / max|θ_hb − θ_0|`` against homebound's ``train`` and
    against homebound's step kernels called directly."""
    k = 3
    cfg = case.config("float64", k, quick, ["train.batch_size=0"])
    if cfg.data.n * cfg.data.d > 2_000_000:
        return {}
    pb = problem_of(cfg)
    shape = (cfg.model.m, cfg.data.d, bool(cfg.model.bias))
    refs = {"train()": canonical(train(cfg).params, *shape),
            "kernels": canonical(_kernel_steps(cfg, k), *shape)}
    thetas = {b: MAKERS[b](pb, "float64")(k, None) for b in backends}
    out = {}
    for ref_name, ref in refs.items():
        moved = np.max(np.abs(ref - pb.theta0))
        out[ref_name] = {b: float(np.max(np.abs(th - ref)) / moved) for b, th in thetas.items()}
    return out


# ---------------------------------------------------------------------------------------
# sweep (subprocess worker) and startup
# ---------------------------------------------------------------------------------------
def sweep_worker(mode: str, runs: int, repeats: int) -> None:
    import numba
    tiny = load_config("default", ["train.steps=2"])
    train_many([tiny.with_seed(0), tiny.with_seed(1)])
    train(tiny)
    configs = [load_config("default").with_seed(s) for s in range(runs)]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        if mode == "loop":
            for config in configs:
                train(config)
        else:
            train_many(configs)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": median(times), "threads": numba.get_num_threads(),
                      "layer": numba.threading_layer()}))


def _env(**extra):
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def sweep(quick: bool, wait: float = 0.0) -> dict:
    runs, repeats = 64, 3
    out = {"runs": runs}
    for label, mode, threads in (("loop_1", "loop", 1), ("batched_1", "batched", 1),
                                 ("batched_2", "batched", 2)):
        wait_quiet(wait)
        monitor = CpuMonitor()
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--sweep-worker", mode, str(runs),
             str(repeats)], env=_env(NUMBA_NUM_THREADS=str(threads)), cwd=REPO,
            capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"sweep worker {label} failed:\n{proc.stderr[-2000:]}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        out[label] = res["seconds"]
        out[f"{label}_threads"] = res["threads"]
        out[f"{label}_foreign"] = monitor.foreign()
        out["layer"] = res["layer"]
    return out


def startup() -> dict:
    snippet = ("from simulate.loading import load_config; from simulate.run import train; "
               "train(load_config('default'))")
    cli = [sys.executable, "-m", "homebound", "train", "default", "--quiet"]
    fallback = [sys.executable, "-c", snippet]
    out = {}
    with tempfile.TemporaryDirectory(prefix="hb-numba-cache-") as cache:
        env = _env(NUMBA_CACHE_DIR=cache)
        command = cli if (REPO / "homebound" / "__main__.py").exists() else fallback
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
            elapsed = time.perf_counter() - t0
            if proc.returncode and command is cli:
                log(f"startup: `homebound train` failed ({proc.stderr.strip()[-300:]}); "
                    "falling back to a python -c snippet")
                command = fallback
                t0 = time.perf_counter()
                proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
                elapsed = time.perf_counter() - t0
            if proc.returncode:
                raise RuntimeError(f"startup command failed:\n{proc.stderr[-2000:]}")
            out[label] = elapsed
        out["command"] = ("homebound train default --quiet" if command is cli
                          else "python -c 'train(load_config(\"default\"))'")
    # The interpreter plus imports alone, for scale.
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import simulate.run"], env=_env(), cwd=REPO, check=True)
    out["import_only"] = time.perf_counter() - t0
    return out


# ---------------------------------------------------------------------------------------
# reporting
# ---------------------------------------------------------------------------------------
def fmt_rate(x):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.3g}"


def fmt_load(x):
    return "?" if x is None else f"{x:.2f}"


def fmt_ratio(a, b):
    if a is None or b is None:
        return "—"
    return f"{a / b:.2f}×"


def flops_per_step(pb_shape) -> float:
    """``2·(forward + backward)`` multiply-adds: forward ``B·2m·P·d``, the weight gradient the
    same again (bias terms ignored)."""
    B, m, P, d = pb_shape
    return 2.0 * 2.0 * B * 2 * m * P * d


def update_bytes(optimizer: str, n_params: int, itemsize: int) -> float:
    return (7 if optimizer == "adam" else 3) * itemsize * n_params


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shrink step counts (~2 minutes)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(CASE_NAMES)}")
    ap.add_argument("--dtypes", default=",".join(DTYPES), help="float64,float32")
    ap.add_argument("--no-profile", action="store_true", help="skip the step-split profile")
    ap.add_argument("--json", help="also write the raw numbers to this file")
    ap.add_argument("--wait", type=float, default=90.0, metavar="SECONDS",
                    help="before each measurement wait up to this long for other processes to "
                         "leave the CPU (default 90; 0 = don't wait)")
    ap.add_argument("--sweep-worker", nargs=3, metavar=("MODE", "RUNS", "REPEATS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.sweep_worker:
        mode, runs, repeats = args.sweep_worker
        sweep_worker(mode, int(runs), int(repeats))
        return 0

    quick = args.quick
    only = [s for s in args.only.split(",") if s] or list(CASE_NAMES)
    unknown = set(only) - set(CASE_NAMES)
    if unknown:
        ap.error(f"unknown case(s) {', '.join(sorted(unknown))}; allowed: {', '.join(CASE_NAMES)}")
    dtypes = [d for d in args.dtypes.split(",") if d]
    t_start = time.perf_counter()

    info = machine()
    have = {"homebound": (True, ""), "numpy": (True, np.__version__)}
    have["pytorch"] = torch_available()
    have["jax"] = jax_available()
    backends = [b for b in ("pytorch", "jax", "numpy") if have[b][0]]
    if have["pytorch"][0]:
        import torch
        torch.set_num_threads(1)
    log("limits …")
    info["pinning"] = pin_one_cpu()
    limits = measure_limits(quick)
    raw = {"machine": info, "quick": quick, "limits": limits, "available": have, "cases": {}}

    rows, profile, checks = [], [], {}
    for case in CASES:
        if case.name not in only:
            continue
        st = case.quick if quick else case.full
        pb = problem_of(case.config("float64", 1, quick))
        shape = (pb.batch, pb.m, pb.P, pb.d)
        for dtype in dtypes:
            wait_quiet(args.wait)
            monitor = CpuMonitor()
            log(f"{case.name} {dtype}: homebound …")
            hb_res = hb_rate(case, dtype, quick)
            rates = {"homebound": hb_res["rate"]}
            cpu = {}
            for backend in backends:
                log(f"{case.name} {dtype}: {backend} …")
                steps = st.jax if backend == "jax" else st.baseline
                try:
                    res = baseline_rate(backend, pb, dtype, steps, st.repeats)
                    rates[backend], cpu[backend] = res["rate"], res["cpu_per_wall"]
                except Exception as err:  # noqa: BLE001 - a third-party backend failing on one
                    # case (e.g. out of memory) is reported in its table cell, not fatal
                    log(f"  {backend} failed: {type(err).__name__}: {err}")
                    rates[backend] = None
            itemsize = np.dtype(dtype).itemsize
            hb = rates["homebound"]
            flop_frac = flops_per_step(shape) * hb / limits[f"matmul_{dtype}"]
            byte_frac = update_bytes(pb.optimizer, pb.n_params, itemsize) * hb / limits["stream"]
            rows.append({"case": case.name, "dtype": dtype, "rates": rates, "cpu": cpu,
                         "flop_frac": flop_frac, "byte_frac": byte_frac, "note": case.note,
                         "foreign": monitor.foreign(), "hb_runs": hb_res})
            raw["cases"][f"{case.name}/{dtype}"] = rows[-1]
        if case.name != "large":
            try:
                checks[case.name] = agreement(case, quick, backends)
            except Exception as err:  # noqa: BLE001 - runs the third-party backends too;
                # their failure is reported in the agreement table, not fatal
                checks[case.name] = {"error": f"{type(err).__name__}: {err}"}
        if not args.no_profile:
            wait_quiet(args.wait)
            log(f"{case.name}: profile (step kernels timed alone) …")
            split = kernel_split(case, dtypes[0], quick, 0.5 if quick else 2.0)
            if split:
                full_rate = next(r["rates"]["homebound"] for r in rows
                                 if r["case"] == case.name and r["dtype"] == dtypes[0])
                profile.append({"case": case.name, "dtype": dtypes[0], "optimizer": pb.optimizer,
                                "us_step": 1e6 / full_rate, **split, "n_params": pb.n_params})
    raw["checks"] = checks
    raw["profile"] = profile

    sweep_res = startup_res = None
    _unpin()
    if "sweep" in only:
        log("sweep (subprocesses) …")
        sweep_res = sweep(quick, args.wait)
        raw["sweep"] = sweep_res
    if "startup" in only:
        log("startup (subprocesses) …")
        wait_quiet(args.wait)
        startup_res = startup()
        raw["startup"] = startup_res
    raw["wall_seconds"] = time.perf_counter() - t_start
    raw["waited_seconds"] = _WAITED[0]
    try:
        raw["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        pass

    report(raw, rows, profile, checks, sweep_res, startup_res, quick)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2, default=str))
    return 0


def report(raw, rows, profile, checks, sweep_res, startup_res, quick):
    info, limits, have = raw["machine"], raw["limits"], raw["available"]
    p = print
    p(f"# homebound benchmark{' (--quick)' if quick else ''}\n")
    p(f"- date: {info['date']}")
    p(f"- CPU: {info['cpu']}, {info['cores']} cores ({info.get('simd', '')})")
    p(f"- Python {info['python']}, NumPy {info['numpy']}, numba {info['numba']}; "
      f"{info['platform']}")
    for name in ("pytorch", "jax"):
        ok, what = have[name]
        p(f"- {name}: {what}" if ok else f"- {name}: not importable ({what}); column skipped")
    p(f"- one thread everywhere (OPENBLAS/MKL/OMP_NUM_THREADS=1, torch.set_num_threads(1), "
      f"XLA_FLAGS={os.environ['XLA_FLAGS']!r}), and the process {info.get('pinning', '')}; "
      "homebound trains one run per call (one numba thread); sweep and startup subprocesses "
      "see every CPU")
    p(f"- machine limits (same run, one thread): matmul "
      f"{limits['matmul_float64'] / 1e9:.1f} GFLOP/s float64, "
      f"{limits['matmul_float32'] / 1e9:.1f} GFLOP/s float32; streaming b=a·s "
      f"{limits['stream'] / 1e9:.1f} GB/s; m/(√v+ε) on 40k elements "
      f"{1e9 * limits['divsqrt_float64']:.2f} ns/element float64, "
      f"{1e9 * limits['divsqrt_float32']:.2f} float32")
    p(f"- load average at start {info['loadavg']}, at end {raw.get('loadavg_end', '?')}")
    p(f"- total time {raw['wall_seconds']:.0f} s, of which {raw['waited_seconds']:.0f} s "
      "waiting for other processes to leave the CPU\n")

    if rows:
        p("## Training steps per second (higher is better)\n")
        p("| case | dtype | homebound | PyTorch | JAX | NumPy | hb/PyTorch | hb/JAX | hb/NumPy "
          "| FLOP/s vs matmul | update B/s vs stream | other load |")
        p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            rt = r["rates"]
            p(f"| {r['case']} | {r['dtype']} | {fmt_rate(rt['homebound'])} "
              f"| {fmt_rate(rt.get('pytorch'))} | {fmt_rate(rt.get('jax'))} "
              f"| {fmt_rate(rt.get('numpy'))} "
              f"| {fmt_ratio(rt['homebound'], rt.get('pytorch'))} "
              f"| {fmt_ratio(rt['homebound'], rt.get('jax'))} "
              f"| {fmt_ratio(rt['homebound'], rt.get('numpy'))} "
              f"| {100 * r['flop_frac']:.1f}% | {100 * r['byte_frac']:.1f}% "
              f"| {fmt_load(r['foreign'])} |")
        p("")
        p("Cases: " + "; ".join(f"`{c.name}` = {c.note}" for c in CASES
                                if any(r["case"] == c.name for r in rows)) + ".")
        p("FLOP/s vs matmul: homebound's 4·B·2m·P·d FLOP per step (forward + weight gradient, "
          "2 FLOP per multiply-add) × steps/s over the matmul's FLOP/s (the bound of `large`). "
          "Update B/s vs stream: the optimiser's bytes per step (Adam 7, GD 3 numbers per "
          "parameter) × steps/s over the streaming bytes/s (the bound of an update). "
          "Other load: cores' worth of CPU that other processes used while the row was measured "
          "(well above 0 means the numbers are disturbed; re-run on a quiet machine).")
        busy = [f"{r['case']}/{r['dtype']}/{b} {v:.2f}" for r in rows for b, v in r["cpu"].items()
                if v > 1.3]
        if busy:
            p(f"Warning: CPU time / wall time above 1.3 (more than one thread?): {', '.join(busy)}")
        p("")

    if checks:
        p("## Agreement (3 full-batch float64 steps, same data and initialisation)\n")
        p("max |θ_baseline − θ_ref| / max |θ_ref − θ_0| for each baseline, against homebound's "
          "`train(config)` with `train.batch_size=0` and against homebound's step kernels "
          "(`loss_and_grad` + `apply_update`) called directly on all samples. Values near "
          "1e-15 mean the same arithmetic; values near 1 mean a different step.\n")
        p("| case | reference | " + " | ".join(b for b in ("pytorch", "jax", "numpy")
                                               if any(b in v for res in checks.values()
                                                      for v in res.values()
                                                      if isinstance(v, dict))) + " |")
        cols = [b for b in ("pytorch", "jax", "numpy")
                if any(b in v for res in checks.values() for v in res.values()
                       if isinstance(v, dict))]
        p("|---|---|" + "---:|" * len(cols))
        for name, res in checks.items():
            if "error" in res:
                p(f"| {name} | error: {res['error']} |" + " |" * len(cols))
                continue
            if not res:
                p(f"| {name} | skipped (too large) |" + " |" * len(cols))
            for ref, vals in res.items():
                p(f"| {name} | {ref} | " + " | ".join(f"{vals[b]:.1e}" if b in vals else "—"
                                                     for b in cols) + " |")
        p("")

    if profile:
        p("## Where homebound's step goes (same-run profile)\n")
        p("Homebound's two step kernels timed alone on the case's problem (one batch of B "
          "samples, the initial parameters; Python-call cost subtracted): `loss_and_grad` "
          "(forward and backward) and `apply_update` (the optimiser). \"rest\" is the step "
          "time from the main table minus both: batch selection and the loop itself, or "
          "differences between the kernels' work here and along the training trajectory.\n")
        p("| case | dtype | µs/step (train) | gradient µs | update µs | rest µs "
          "| update ns/param | divider floor µs |")
        p("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in profile:
            rest = r["us_step"] - r["grad_us"] - r["update_us"]
            floor = (f"{1e6 * limits['divsqrt_' + r['dtype']] * r['n_params']:.1f}"
                     if r["optimizer"] == "adam" else "—")
            p(f"| {r['case']} ({r['optimizer']}) | {r['dtype']} | {r['us_step']:.1f} "
              f"| {r['grad_us']:.1f} ({100 * r['grad_us'] / r['us_step']:.0f}%) "
              f"| {r['update_us']:.1f} ({100 * r['update_us'] / r['us_step']:.0f}%) "
              f"| {rest:.1f} | {1e3 * r['update_us'] / r['n_params']:.2f} | {floor} |")
        p("\nDivider floor: one square root and one division per parameter (the least an "
          "exact Adam step needs), at NumPy's SIMD `m/(sqrt(v)+eps)` speed measured above.\n")

    if sweep_res:
        s = sweep_res
        p(f"## sweep: {s['runs']} runs of the `default` preset (numba layer {s['layer']})\n")
        p("| how | threads | seconds | runs/s | other load |")
        p("|---|---:|---:|---:|---:|")
        for label, how in (("loop_1", "`train` one at a time"), ("batched_1", "`train_many`"),
                           ("batched_2", "`train_many`")):
            p(f"| {how} | {s[label + '_threads']} | {s[label]:.2f} | {s['runs'] / s[label]:.1f} "
              f"| {fmt_load(s.get(label + '_foreign'))} |")
        p(f"\nbatched: 2 threads vs 1 = {s['batched_1'] / s['batched_2']:.2f}×; "
          f"batched (2 threads) vs one at a time = {s['loop_1'] / s['batched_2']:.2f}×; "
          f"batched vs one at a time, both 1 thread = {s['loop_1'] / s['batched_1']:.2f}×\n")

    if startup_res:
        s = startup_res
        p("## startup: `" + s["command"] + "` end to end\n")
        p("| call | seconds |")
        p("|---|---:|")
        p(f"| first (cold numba cache) | {s['cold']:.2f} |")
        p(f"| second (same cache) | {s['warm']:.2f} |")
        p(f"| `python -c 'import simulate.run'` | {s['import_only']:.2f} |")
        p("")

    targets(rows, sweep_res, startup_res, limits)
    if quick:
        print("(--quick: `large` is the n = 1 000 variant, and every count is shorter; quote the "
              "full run.)\n")


def targets(rows, sweep_res, startup_res, limits):
    """The lead's targets, reported (not tuned to)."""
    def rate(case, backend, dtype="float64"):
        for r in rows:
            if r["case"] == case and r["dtype"] == dtype:
                return r["rates"].get(backend), r
        return None, None

    lines = []

    def ratio_line(case, backend, need):
        hb, r = rate(case, "homebound")
        other, _ = rate(case, backend)
        if hb is None or other is None:
            return
        got = hb / other
        lines.append((f"{case} ≥ {need}× {backend} (float64)", f"{got:.2f}×", got >= need))

    ratio_line("tang-minibatch", "pytorch", 10)
    ratio_line("tang-minibatch", "jax", 1.5)
    ratio_line("kou", "pytorch", 10)
    ratio_line("kou", "jax", 1.5)
    ratio_line("tang-largebatch", "pytorch", 5)
    ratio_line("large", "pytorch", 1)
    _, r = rate("large", "homebound")
    if r:
        lines.append(("large ≥ 70% of matmul FLOP/s (float64)", f"{100 * r['flop_frac']:.1f}%",
                      r["flop_frac"] >= 0.7))
    if sweep_res:
        sp = sweep_res["batched_1"] / sweep_res["batched_2"]
        lines.append(("sweep batched ≥ 1.8× faster on 2 threads than 1", f"{sp:.2f}×", sp >= 1.8))
        vs = sweep_res["loop_1"] / sweep_res["batched_2"]
        lines.append(("sweep batched faster than one at a time", f"{vs:.2f}×", vs > 1))
    if startup_res:
        lines.append(("startup second call ≤ 2 s", f"{startup_res['warm']:.2f} s",
                      startup_res["warm"] <= 2.0))
    if lines:
        print("## Targets\n")
        print("| target | measured | met |")
        print("|---|---:|:---:|")
        for what, got, ok in lines:
            print(f"| {what} | {got} | {'yes' if ok else '**no**'} |")
        print("")


if __name__ == "__main__":
    sys.exit(main())
