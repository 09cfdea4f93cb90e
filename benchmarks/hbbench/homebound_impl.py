"""Homebound timed through its public API, and its two step kernels timed alone."""
from __future__ import annotations

import time

import numpy as np

from simulate.loading import load_config
from simulate.run import prepare, train

from .cases import Case
from .machine import median


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
    grad = np.zeros_like(w)
    batch = np.asarray(batch, dtype=np.int64)
    values = {
        "w": w, "X": X, "XI": XI, "XV": XV, "y": y, "batch": batch,
        "nb": len(batch), "act": ACTIVATIONS.index(model.activation), "q": float(model.q),
        "c": float(model.output_scale(P)), "m": model.m, "has_bias": bool(model.bias),
        "l2": float(cfg.train.l2), "grad": grad, "z": np.zeros(U, dtype=w.dtype),
        "slopes": np.zeros((P, U), dtype=w.dtype), "a": np.zeros(U, dtype=w.dtype)}
    if "rows" in names:  # as train_run: a full batch's row split is shared by every step
        from simulate.network import dense_split
        whole = len(batch) == n and np.array_equal(batch, np.arange(n))
        values["rows"] = dense_split(X, batch, n if whole else 0, U)
    missing = [nm for nm in names if nm not in values]
    if missing:
        raise TypeError(f"loss_and_grad takes unknown arguments {missing}")
    args = [values[nm] for nm in names]
    state = np.zeros((N_STATE, w.size), dtype=w.dtype)
    hyper = packed_hyper(cfg.optimizer.hyper)
    diag = np.zeros(N_DIAG)
    kind, lr = kind_of(cfg.optimizer.name), float(cfg.optimizer.lr)
    return (lambda: loss_and_grad(*args),
            lambda t: apply_update(kind, w, grad, state, hyper, t, lr, diag), w, values)


def kernel_steps(cfg, k: int) -> np.ndarray:
    """``k`` full-batch steps through homebound's step kernels, all samples in order."""
    grad, update, w, _ = _step_kernels(cfg, np.arange(cfg.data.n), dense=True)
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
    grad, update, _, values = _step_kernels(cfg, batch)
    tiny_cfg = load_config(case.preset, ["data.n=4", "data.n_test=2", "data.d=4", "data.s=1",
                                         "model.m=1", f"model.dtype={dtype}", "train.steps=1",
                                         "train.batch_size=2"])
    tiny_grad, tiny_update, _, _ = _step_kernels(tiny_cfg, np.arange(2))

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
    out = {"grad_us": 1e6 * max(0.0, per_call(grad, False) - overhead_g),
           "update_us": 1e6 * max(0.0, per_call(update, True) - overhead_u)}
    products = _blas_products(values)
    if products is not None:
        out["blas_us"] = 1e6 * per_call(products, False)
    return out


def _blas_products(values):
    """For a dense batch on the BLAS path whose dense rows fit one chunk: the step's two
    BLAS products alone (``rows·Wᵀ`` and ``rowsᵀ·A`` on the gathered dense rows), else None."""
    rows = values.get("rows")
    if rows is None or rows[4].shape[0] == 0 or rows[4].shape[0] != rows[0].size:
        return None
    R, w = rows[4], values["w"]
    U = values["z"].size
    d = R.shape[1]
    Wt = w[: d * U].reshape(d, U)
    Z = np.empty((R.shape[0], U), dtype=R.dtype)
    G = np.empty((d, U), dtype=R.dtype)

    def products():
        np.matmul(R, Wt, out=Z)
        np.matmul(R.T, Z, out=G)
    return products
