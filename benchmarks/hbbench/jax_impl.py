"""The JAX baseline: ``jax.jit`` + ``lax.scan`` + optax on one thread, and ``vmap`` over runs."""
from __future__ import annotations

from functools import partial

import numpy as np

from .cases import Problem


def available():
    try:
        import jax
        import optax
        jax.config.update("jax_enable_x64", True)
        return True, f"{jax.__version__} (optax {optax.__version__})"
    except (ImportError, OSError, RuntimeError) as err:  # absent, or a broken binary wheel
        return False, f"{type(err).__name__}: {err}"


def _model(pb: Problem, dtype: str):
    """``(params, opt, update)``: the initial parameters, the optax optimiser and one step
    ``update((params, opt_state), xb, yb) -> (params, opt_state)``."""
    import jax
    import jax.numpy as jnp
    import optax
    jax.config.update("jax_enable_x64", True)
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

    return params, opt, update


def _flat(p, bias):
    parts = [np.asarray(p["W"]).ravel()] + ([np.asarray(p["b"]).ravel()] if bias else [])
    return np.concatenate(parts).astype(np.float64)


def make(pb: Problem, dtype: str):
    import jax
    import jax.numpy as jnp
    from jax import lax
    params, opt, update = _model(pb, dtype)
    X = jnp.asarray(pb.X, dtype=dtype)
    y = jnp.asarray(pb.y, dtype=dtype)

    @jax.jit
    def run_batches(carry, X, y, idxs):
        def body(carry, idx):
            return update(carry, X[idx], y[idx]), None
        return lax.scan(body, carry, idxs)[0]

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
        return _flat(carry[0], pb.bias)

    return run


def make_vmap(problems: list[Problem], dtype: str):
    """Many minibatch runs of one shape (e.g. one per seed) at once: ``jit`` of a ``scan``
    over steps of ``vmap(update)`` over the runs. Returns ``run(steps, batches)`` with
    ``batches (steps, runs, B)``, returning the runs' parameters ``(runs, k)``."""
    import jax
    import jax.numpy as jnp
    from jax import lax
    models = [_model(pb, dtype) for pb in problems]
    update, opt = models[0][2], models[0][1]
    params = jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *[m[0] for m in models])
    X = jnp.asarray(np.stack([pb.X for pb in problems]), dtype=dtype)
    y = jnp.asarray(np.stack([pb.y for pb in problems]), dtype=dtype)
    step_all = jax.vmap(update)
    rows = jax.vmap(lambda data, index: data[index])

    @jax.jit
    def run_batches(carry, X, y, idxs):
        def body(carry, idx):
            return step_all(carry, rows(X, idx), rows(y, idx)), None
        return lax.scan(body, carry, idxs)[0]

    state = [(params, jax.vmap(opt.init)(params))]

    def run(steps, batches):
        carry = run_batches(state[0], X, y, jnp.asarray(batches[:steps]))
        jax.block_until_ready(carry)
        state[0] = carry
        return np.stack([_flat(jax.tree_util.tree_map(lambda leaf: leaf[r], carry[0]),
                               problems[0].bias) for r in range(len(problems))])

    return run
