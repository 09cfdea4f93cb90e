"""The Adam family's bias corrections folded into per-step scalars (``adam_family``).

The kernels compute ``η·m̂/(√v̂+ε)`` as ``step·(m/(√v·root + ε))`` with ``step = η/(1−β1^t)``
and ``root = 1/√(1−β2^t)`` (one square root and one division per coordinate, as
``torch.optim.Adam`` arranges it). Checked here: the NumPy reference transcribes that
arrangement bit for bit; the arrangement is the SPEC formula to a few ulps per step; and the
trajectories agree with ``torch.optim`` (when PyTorch is installed).
"""
from __future__ import annotations

import numpy as np
import pytest

from simulate.optimizers import replay

try:  # works whether or not tests/ is a package
    from tests.optimizer_reference import ADAM_FAMILY, reference_run, reference_trajectory
except ImportError:  # pragma: no cover - depends on how pytest sets sys.path
    from optimizer_reference import ADAM_FAMILY, reference_run, reference_trajectory

EPS64 = np.finfo(np.float64).eps


def _trace(seed, k=13, T=60):
    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((T, k)) * 10.0 ** rng.uniform(-3, 1, size=k)
    return rng.standard_normal(k), grads, rng


def _hyper(name, rng):
    hyper = dict(lr=10 ** rng.uniform(-4, -1), betas=(rng.uniform(0, 0.999), rng.uniform(0, 0.999)),
                 eps=10 ** rng.uniform(-10, -3), bias_correction=bool(rng.integers(2)),
                 weight_decay=rng.uniform(0, 0.1))
    if name.startswith("homeadam"):
        hyper.update(tau=10 ** rng.uniform(-4, 1), rule=("global", "elementwise")[rng.integers(2)])
    if name == "dualadam":
        hyper.update(switch_rate=rng.uniform(0, 0.05))
    return hyper


@pytest.mark.parametrize("name", ADAM_FAMILY)
def test_kernels_round_as_the_reference_transcription(name):
    # Same operations in the same order: the float64 trajectories are identical, bit for bit
    # (one libm pow, IEEE sqrt and division; no fast-math, no contraction into FMAs).
    for seed in range(6):
        params0, grads, rng = _trace(seed)
        hyper = _hyper(name, rng)
        ref, _ = reference_trajectory(name, params0, grads, **hyper)
        np.testing.assert_array_equal(replay(name, params0, grads, **hyper), ref,
                                      err_msg=f"{name} {hyper}")


@pytest.mark.parametrize("name,formula", [
    ("adam", lambda lr, m, v, eps: lr * m / (np.sqrt(v) + eps)),
    ("adam_srf", lambda lr, m, v, eps: lr * m / (v + eps)),
    ("invadam", lambda lr, m, v, eps: lr * m * (np.sqrt(v) + eps)),
])
def test_folded_step_is_the_spec_formula_to_a_few_ulps(name, formula):
    # Each arrangement rounds about 7 times (half an ulp each, the square root halving its
    # argument's error), so the two steps differ by at most ~7 ulps; 8·eps is the bound.
    for seed in range(20):
        params0, grads, rng = _trace(100 + seed)
        hyper = dict(lr=10 ** rng.uniform(-4, -1), eps=10 ** rng.uniform(-10, -3),
                     betas=(rng.uniform(0, 0.999), rng.uniform(0, 0.999)))
        run = reference_run(name, params0, grads, **hyper)
        spec = formula(hyper["lr"], run.internals["m_hat"], run.internals["v_hat"], hyper["eps"])
        np.testing.assert_allclose(run.internals["step"], spec, rtol=8 * EPS64, atol=0)


@pytest.mark.parametrize("name,decoupled", [("adam", False), ("adamw", True)])
def test_agrees_with_torch_optim(name, decoupled):
    torch = pytest.importorskip("torch")
    params0, grads, _ = _trace(7, k=50, T=200)
    hyper = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    traj = replay(name, params0, grads, **hyper)
    p = torch.tensor(params0, dtype=torch.float64, requires_grad=True)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([p], foreach=False, **hyper)
    expected = [params0]
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        expected.append(p.detach().numpy().copy())
    expected = np.array(expected)
    # PyTorch divides by √(1−β2^t) where the kernel multiplies by its reciprocal (≤ 1 ulp per
    # step); coordinates passing near 0 get the few-ulps-of-max|w| atol of test_optimizers.
    atol = 4 * grads.shape[0] * EPS64 * max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(traj, expected, rtol=1e-12, atol=atol)
