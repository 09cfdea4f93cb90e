"""Rule-specific tests of the optimiser kernels (SPEC §4).

HomeAdam's global and element-wise switching, DualAdam's schedule and hard switch,
bias correction off, and the identities between optimisers (Signum(0) = SignSGD,
AdamW(λ=0) = Adam, ...), plus hand-unrolled SGD momentum / Nesterov steps.
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


def increments(traj: np.ndarray) -> np.ndarray:
    """Per-step parameter decrease w_{t-1} - w_t, shape (T, k)."""
    return traj[:-1] - traj[1:]


def increment_atol(traj: np.ndarray) -> float:
    # w_{t-1} - w_t is a difference of two stored parameters: each carries a rounding of
    # half an ulp of |w|, so an increment is only known to ~2 ulps of max|w|.
    return 4.0 * EPS64 * max(1.0, float(np.max(np.abs(traj))))


def traj_atol(traj: np.ndarray) -> float:
    # As in test_optimizers.traj_atol: a few ulps of the largest value per step.
    return 4.0 * (traj.shape[0] - 1) * EPS64 * max(1.0, float(np.max(np.abs(traj))))


def phased_trace(seed, k, magnitudes_per_phase, phase_len):
    """Random-sign gradients whose magnitude is constant within each phase.

    ``magnitudes_per_phase`` is a list of scalars or (k,) arrays, one per phase.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for mag in magnitudes_per_phase:
        mag = np.broadcast_to(np.asarray(mag, dtype=float), (k,))
        rows.append(rng.choice([-1.0, 1.0], size=(phase_len, k))
                    * mag * rng.uniform(0.9, 1.1, size=(phase_len, k)))
    return rng.standard_normal(k), np.concatenate(rows)


# ---------------------------------------------------------------------------
# HomeAdam: global rule
# ---------------------------------------------------------------------------

def _transitions(flags):
    flags = np.asarray(flags)
    return int(np.sum(flags[1:] != flags[:-1]))


@pytest.mark.parametrize("name", ["homeadam", "homeadamw"])
@pytest.mark.parametrize("bias_correction", [True, False])
def test_homeadam_global_switches_exactly_when_min_vhat_below_tau(name, bias_correction):
    # Large gradients (v̂ ≈ 9 ≥ τ = 1), then tiny ones (v̂ decays below τ), then large again.
    # β2 = 0.5 lets v̂ follow the phases within a few steps.
    k, tau = 5, 1.0
    params0, grads = phased_trace(0, k, [3.0, 1e-2, 3.0, 1e-2, 3.0], phase_len=15)
    hyper = dict(lr=0.01, betas=(0.9, 0.5), eps=1e-8, tau=tau, rule="global",
                 bias_correction=bias_correction)
    run = reference_run(name, params0, grads, **hyper)
    traj, diag = replay(name, params0, grads, return_diagnostics=True, **hyper)

    went_home = np.min(run.internals["v_hat"], axis=1) < tau      # indicator from ref v̂
    np.testing.assert_array_equal(diag["home_share"], went_home.astype(float))
    assert went_home.any() and (~went_home).any()
    assert _transitions(went_home) >= 4            # home and back, twice

    # The step actually taken is the momentum step η m̂ on home steps and the srf step
    # η m̂/(v̂+ε) otherwise (decoupled decay removed via the reference's own decay).
    m_hat, v_hat = run.internals["m_hat"], run.internals["v_hat"]
    expected_step = np.where(went_home[:, None], hyper["lr"] * m_hat,
                             hyper["lr"] * m_hat / (v_hat + hyper["eps"]))
    np.testing.assert_allclose(run.internals["step"], expected_step, rtol=1e-15)
    np.testing.assert_allclose(traj, run.traj, rtol=1e-12, atol=traj_atol(run.traj))
    np.testing.assert_allclose(diag["rho_hat"], np.min(v_hat, axis=1) + hyper["eps"],
                               rtol=1e-12)
    if name == "homeadam":  # no decay: the kernel's increments are exactly these steps
        np.testing.assert_allclose(increments(traj), expected_step, rtol=1e-9,
                                   atol=increment_atol(traj))


def test_homeadam_global_one_small_coordinate_sends_everyone_home():
    # Only coordinate 0 is small, all the others are large: the global rule still takes
    # the momentum step for every coordinate (min over k).
    k = 6
    mags = np.array([1e-2] + [3.0] * (k - 1))
    params0, grads = phased_trace(1, k, [mags], phase_len=30)
    hyper = dict(lr=0.01, betas=(0.9, 0.5), tau=1.0, rule="global")
    traj, diag = replay("homeadam", params0, grads, return_diagnostics=True, **hyper)
    run = reference_run("homeadam", params0, grads, **hyper)
    assert np.all(diag["home_share"] == 1.0)
    np.testing.assert_allclose(increments(traj), hyper["lr"] * run.internals["m_hat"],
                               rtol=1e-9, atol=increment_atol(traj))


@pytest.mark.parametrize("name", ["homeadam", "homeadamw"])
@pytest.mark.parametrize("rule", ["global", "elementwise"])
def test_homeadam_tau_includes_eps_shifts_the_decision(name, rule):
    # ε = 0.5, τ = 1: a phase with |g| ≈ 0.8 has v̂ ≈ 0.64 < τ but v̂ + ε ≈ 1.14 ≥ τ, so the
    # two readings of the test disagree there; phases with |g| ≈ 0.1 / 2 agree.
    k, tau, eps = 4, 1.0, 0.5
    params0, grads = phased_trace(2, k, [2.0, 0.8, 0.1, 0.8, 2.0], phase_len=12)
    base = dict(lr=0.01, betas=(0.9, 0.5), eps=eps, tau=tau, rule=rule)
    results = {}
    for includes in (False, True):
        hyper = dict(base, tau_includes_eps=includes)
        run = reference_run(name, params0, grads, **hyper)
        traj, diag = replay(name, params0, grads, return_diagnostics=True, **hyper)
        tested = run.internals["v_hat"] + (eps if includes else 0.0)
        if rule == "global":
            expected = (np.min(tested, axis=1) < tau).astype(float)
        else:
            expected = np.mean(tested < tau, axis=1)
        np.testing.assert_array_equal(diag["home_share"], expected)
        np.testing.assert_allclose(traj, run.traj, rtol=1e-12, atol=traj_atol(run.traj))
        results[includes] = (diag["home_share"], traj)
    share_plain, traj_plain = results[False]
    share_eps, traj_eps = results[True]
    assert np.any(share_plain != share_eps)           # ε changed some decisions ...
    assert np.all(share_eps <= share_plain)           # ... and only ever towards "not home"
    assert not np.allclose(traj_plain, traj_eps)


@pytest.mark.parametrize("rule", ["global", "elementwise"])
@pytest.mark.parametrize("tau_includes_eps", [False, True])
def test_homeadam_threshold_is_inclusive(rule, tau_includes_eps):
    # β2 = 0 with bias correction gives v̂ = g² exactly (1 − 0^t = 1): |g| = 0.5 makes
    # v̂ = 0.25 = τ exactly (or v̂ + ε = 0.25 + 0.25 = 0.5 = τ), which must NOT go home
    # ("v̂ ≥ τ" takes the srf step); |g| = 0.25 (v̂ = 0.0625) must go home.
    eps, tau = (0.25, 0.5) if tau_includes_eps else (1e-8, 0.25)
    grads = np.array([[0.5, -0.5, 0.5], [-0.5, 0.5, 0.5], [0.25, -0.25, 0.25],
                      [0.5, 0.5, -0.5]])
    params0 = np.zeros(3)
    hyper = dict(lr=0.1, betas=(0.0, 0.0), eps=eps, tau=tau, rule=rule,
                 tau_includes_eps=tau_includes_eps)
    traj, diag = replay("homeadam", params0, grads, return_diagnostics=True, **hyper)
    np.testing.assert_array_equal(diag["home_share"], [0.0, 0.0, 1.0, 0.0])
    # β1 = 0: m̂ = g, so the steps are η g/(g²+ε) at the boundary and η g at home.
    expected = np.where(np.abs(grads) == 0.25, 0.1 * grads, 0.1 * grads / (grads ** 2 + eps))
    np.testing.assert_allclose(increments(traj), expected, rtol=1e-14)


# ---------------------------------------------------------------------------
# HomeAdam: element-wise rule
# ---------------------------------------------------------------------------

def _inline_moments(grads, betas, bias_correction=True):
    """m̂, v̂ per step by the textbook recursion (no weight decay)."""
    b1, b2 = betas
    m = np.zeros(grads.shape[1])
    v = np.zeros(grads.shape[1])
    m_hats, v_hats = [], []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hats.append(m / (1 - b1 ** t) if bias_correction else m)
        v_hats.append(v / (1 - b2 ** t) if bias_correction else v)
    return np.array(m_hats), np.array(v_hats)


def test_homeadam_elementwise_coordinates_go_home_independently():
    # Coordinates 0-1 always large (never home), 2-3 always tiny (always home), 4 and 5
    # alternate between large and tiny with different timing.
    T, phase = 80, 10
    rng = np.random.default_rng(3)
    big, small = 3.0, 1e-2
    mags = np.empty((T, 6))
    mags[:, 0:2] = big
    mags[:, 2:4] = small
    steps = np.arange(T)
    mags[:, 4] = np.where((steps // phase) % 2 == 0, big, small)
    mags[:, 5] = np.where(((steps + phase // 2) // (2 * phase)) % 2 == 0, small, big)
    grads = rng.choice([-1.0, 1.0], size=(T, 6)) * mags * rng.uniform(0.9, 1.1, size=(T, 6))
    params0 = rng.standard_normal(6)

    lr, eps, tau, betas = 0.01, 1e-8, 1.0, (0.9, 0.5)
    hyper = dict(lr=lr, betas=betas, eps=eps, tau=tau, rule="elementwise")
    traj, diag = replay("homeadam", params0, grads, return_diagnostics=True, **hyper)

    m_hat, v_hat = _inline_moments(grads, betas)
    home = v_hat < tau                                   # per coordinate, per step
    h = np.where(home, 1.0, v_hat + eps)
    np.testing.assert_allclose(increments(traj), lr * m_hat / h, rtol=1e-9,
                               atol=increment_atol(traj))
    np.testing.assert_array_equal(diag["home_share"], home.mean(axis=1))

    assert not home[:, 0:2].any() and home[:, 2:4].all()
    for c in (4, 5):
        assert home[:, c].any() and (~home[:, c]).any()
    assert np.any(home[:, 4] != home[:, 5])              # independent decisions
    assert len(np.unique(diag["home_share"])) >= 3       # shares strictly between 0 and 1

    # The global rule on the same trace goes home on every step (coords 2-3 are small).
    _, diag_global = replay("homeadam", params0, grads, return_diagnostics=True,
                            **dict(hyper, rule="global"))
    assert np.all(diag_global["home_share"] == 1.0)


# ---------------------------------------------------------------------------
# DualAdam
# ---------------------------------------------------------------------------

# 0.25 and 0.125 hit α_t = ξ exactly (t = 3, t = 7): the mixed step must still be taken.
@pytest.mark.parametrize("xi", [0.0, 0.01, 0.03, 0.07, 0.1, 0.2, 1 / 3, 0.25, 0.125])
def test_dualadam_alpha_schedule_is_exact(xi):
    T = 120
    params0, grads = phased_trace(4, 5, [1.0], phase_len=T)
    _, diag = replay("dualadam", params0, grads, return_diagnostics=True, switch_rate=xi)
    t = np.arange(1, T + 1, dtype=float)
    alpha = np.maximum(0.0, 1.0 - t * xi)
    np.testing.assert_array_equal(diag["alpha"], alpha)
    np.testing.assert_array_equal(diag["mixed"], (alpha >= xi).astype(float))
    if xi in (0.25, 0.125):
        t_equal = round(1 / xi) - 1
        assert alpha[t_equal - 1] == xi and diag["mixed"][t_equal - 1] == 1.0


@pytest.mark.parametrize("xi", [0.01, 0.03, 0.07, 0.2])
def test_dualadam_hard_switch_to_adam(xi):
    T = 130
    params0, grads = phased_trace(5, 6, [1.0, 0.1, 2.0], phase_len=T // 3 + 1)
    grads = grads[:T]
    hyper = dict(lr=0.01, betas=(0.9, 0.99), eps=1e-8)
    traj, diag = replay("dualadam", params0, grads, return_diagnostics=True,
                        switch_rate=xi, **hyper)
    adam_traj = replay("adam", params0, grads, **hyper)

    t = np.arange(1, T + 1, dtype=float)
    t_switch = int(t[np.maximum(0.0, 1.0 - t * xi) < xi][0])   # first t with α_t < ξ
    assert 1 < t_switch <= T
    assert np.all(diag["mixed"][: t_switch - 1] == 1.0)
    assert np.all(diag["mixed"][t_switch - 1:] == 0.0)

    # Without weight decay the moments of DualAdam and Adam are the same, so from the
    # switch on the increments are Adam's, and before it they are not.
    d_dual, d_adam = increments(traj), increments(adam_traj)
    atol = increment_atol(np.concatenate([traj, adam_traj]))
    np.testing.assert_allclose(d_dual[t_switch - 1:], d_adam[t_switch - 1:], rtol=1e-9,
                               atol=atol)
    for s in range(t_switch - 1):
        assert not np.allclose(d_dual[s], d_adam[s], rtol=1e-6, atol=0), s

    # With decoupled decay: from the switch on, the reference's step equals the Adam
    # direction on the same state (the mixed term is gone).
    run = reference_run("dualadam", params0, grads, switch_rate=xi, weight_decay=0.05, **hyper)
    traj_wd = replay("dualadam", params0, grads, switch_rate=xi, weight_decay=0.05, **hyper)
    np.testing.assert_allclose(traj_wd, run.traj, rtol=1e-12, atol=traj_atol(run.traj))
    m_hat, v_hat = run.internals["m_hat"], run.internals["v_hat"]
    adam_step = hyper["lr"] * m_hat / (np.sqrt(v_hat) + hyper["eps"])
    np.testing.assert_allclose(run.internals["step"][t_switch - 1:],
                               adam_step[t_switch - 1:], rtol=1e-15)


@pytest.mark.parametrize("hyper", [
    dict(),
    dict(lr=0.05, betas=(0.5, 0.9), eps=1e-4, weight_decay=0.03),
    dict(lr=0.01, bias_correction=False, weight_decay=0.01),
])
def test_dualadam_switch_rate_zero_is_invadam(hyper):
    params0, grads = phased_trace(6, 7, [1.0, 0.1, 3.0], phase_len=20)
    dual = replay("dualadam", params0, grads, switch_rate=0.0, **hyper)
    inv = replay("invadam", params0, grads, **hyper)
    # α_t = 1 for every t: the step is 0·(Adam) + 1·(InvAdam), which is exact in floating
    # point; only the association of the factors η, m̂, (√v̂+ε) may differ (≤ 1 ulp/step).
    np.testing.assert_allclose(dual, inv, rtol=1e-15, atol=traj_atol(inv))


# ---------------------------------------------------------------------------
# Bias correction off
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ADAM_FAMILY)
def test_bias_correction_off(name):
    params0, grads = phased_trace(7, 6, [1.0, 0.3], phase_len=20)
    hyper = dict(lr=0.01, betas=(0.9, 0.999))
    if name in ("homeadam", "homeadamw"):
        hyper["tau"] = 0.02    # v̂ (corrected) ≳ 0.08 ≥ τ, v (uncorrected) starts ≈ 1e-3 < τ
    traj = replay(name, params0, grads, bias_correction=False, **hyper)
    ref_off, _ = reference_trajectory(name, params0, grads, bias_correction=False, **hyper)
    ref_on, _ = reference_trajectory(name, params0, grads, bias_correction=True, **hyper)
    np.testing.assert_allclose(traj, ref_off, rtol=1e-12, atol=traj_atol(ref_off))
    # ... and is not the corrected trajectory (the difference is O(1) relative, first step).
    first_off = traj[1] - traj[0]
    first_on = ref_on[1] - ref_on[0]
    assert np.max(np.abs(first_off - first_on)) > 1e-2 * np.max(np.abs(first_on))


# ---------------------------------------------------------------------------
# Identities between optimisers
# ---------------------------------------------------------------------------

def _trace(seed=8, k=9, T=40):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(k), rng.standard_normal((T, k)) * 10 ** rng.uniform(-1, 1, k)


def test_signum_momentum_zero_is_signsgd():
    params0, grads = _trace()
    np.testing.assert_array_equal(replay("signum", params0, grads, lr=0.01, momentum=0.0),
                                  replay("signsgd", params0, grads, lr=0.01))


def test_sign_of_zero_is_zero():
    params0 = np.array([1.0, -2.0, 3.0])
    grads = np.array([[0.0, 1.0, -1.0], [0.0, 0.0, 2.0], [0.0, -3.0, 0.0]])
    traj = replay("signsgd", params0, grads, lr=0.1)
    np.testing.assert_allclose(traj, [[1.0, -2.0, 3.0], [1.0, -2.1, 3.1],
                                      [1.0, -2.1, 3.0], [1.0, -2.0, 3.0]], rtol=1e-15)
    # Signum: a zero first gradient leaves m = 0 and w unmoved.
    traj = replay("signum", params0, np.zeros((1, 3)), lr=0.1, momentum=0.5)
    np.testing.assert_array_equal(traj[1], params0)
    # SignSGDW with g = 0 only decays: w ← (1 − ηλ) w.
    traj = replay("signsgdw", params0, np.zeros((1, 3)), lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(traj[1], 0.95 * params0, rtol=1e-15)


@pytest.mark.parametrize("decoupled,coupled", [
    ("adamw", "adam"), ("adamw_srf", "adam_srf"), ("homeadamw", "homeadam"),
])
@pytest.mark.parametrize("extra", [
    dict(), dict(bias_correction=False), dict(tau=0.5, rule="elementwise"),
    dict(tau=0.5, rule="global", tau_includes_eps=True, eps=0.3),
])
def test_decoupled_with_zero_decay_equals_coupled(decoupled, coupled, extra):
    if "tau" in extra and not decoupled.startswith("home"):
        extra = {k: v for k, v in extra.items() if k not in ("tau", "rule", "tau_includes_eps")}
    params0, grads = _trace()
    hyper = dict(lr=0.01, betas=(0.8, 0.95), **extra)
    a, da = replay(decoupled, params0, grads, return_diagnostics=True, weight_decay=0.0,
                   **hyper)
    b, db = replay(coupled, params0, grads, return_diagnostics=True, weight_decay=0.0,
                   **hyper)
    np.testing.assert_array_equal(a, b)
    for key in da:
        np.testing.assert_array_equal(da[key], db[key])
    # ... while the default (non-zero) decoupled decay does change the trajectory.
    c = replay(decoupled, params0, grads, **hyper)
    assert not np.allclose(c, b, rtol=1e-6)


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_sgd_momentum_zero_is_plain_gradient_descent(weight_decay):
    params0, grads = _trace()
    lr = 0.03
    traj = replay("sgd", params0, grads, lr=lr, weight_decay=weight_decay)
    w = params0.copy()
    expected = [w.copy()]
    for g in grads:
        w = w - lr * (g + weight_decay * w)
        expected.append(w.copy())
    np.testing.assert_allclose(traj, np.array(expected), rtol=1e-14,
                               atol=traj_atol(np.array(expected)))


def test_sgd_nesterov_hand_unrolled_three_steps():
    lr, mu, lam = 0.1, 0.9, 0.2
    w0 = np.array([1.0, -0.5])
    G = np.array([[0.3, -1.2], [-0.7, 0.4], [1.5, 0.25]])
    # step 1: b1 = g1 (PyTorch: no dampening, no μ on the first step)
    g1 = G[0] + lam * w0
    b1 = g1
    w1 = w0 - lr * (g1 + mu * b1)
    # step 2
    g2 = G[1] + lam * w1
    b2 = mu * b1 + g2
    w2 = w1 - lr * (g2 + mu * b2)
    # step 3
    g3 = G[2] + lam * w2
    b3 = mu * b2 + g3
    w3 = w2 - lr * (g3 + mu * b3)
    traj = replay("sgd", w0, G, lr=lr, momentum=mu, nesterov=True, weight_decay=lam)
    np.testing.assert_allclose(traj, np.array([w0, w1, w2, w3]), rtol=1e-14)
    # Spelled out numerically for coordinate 0 (guards against a shared mistake above):
    # g1=0.5, b1=0.5, w1=1-0.1*(0.5+0.45)=0.905
    assert traj[1, 0] == pytest.approx(0.905, rel=1e-14)


def test_sgd_momentum_dampening_hand_unrolled_three_steps():
    lr, mu, damp = 0.1, 0.5, 0.25
    w0 = np.array([2.0, 0.0])
    G = np.array([[1.0, -2.0], [3.0, 0.5], [-1.0, 1.0]])
    b1 = G[0]                                  # first step: b1 = g1, no dampening
    w1 = w0 - lr * b1
    b2 = mu * b1 + (1 - damp) * G[1]
    w2 = w1 - lr * b2
    b3 = mu * b2 + (1 - damp) * G[2]
    w3 = w2 - lr * b3
    traj = replay("sgd", w0, G, lr=lr, momentum=mu, dampening=damp)
    np.testing.assert_allclose(traj, np.array([w0, w1, w2, w3]), rtol=1e-14, atol=1e-15)
    # coordinate 0 by hand: w1=1.9, b2=0.5+2.25=2.75, w2=1.625, b3=1.375-0.75=0.625, w3=1.5625
    np.testing.assert_allclose(traj[:, 0], [2.0, 1.9, 1.625, 1.5625], rtol=1e-14)


def test_adam_first_step_is_lr_times_sign_with_bias_correction():
    # With bias correction, step 1 is η·g/(|g|+ε) for Adam: a textbook check by hand.
    g = np.array([[2.0, -0.5, 1e-3]])
    w0 = np.zeros(3)
    eps = 1e-8
    traj = replay("adam", w0, g, lr=0.1, eps=eps)
    np.testing.assert_allclose(traj[1], -0.1 * g[0] / (np.abs(g[0]) + eps), rtol=1e-14)
    # InvAdam multiplies instead: η·g·(|g|+ε).
    traj = replay("invadam", w0, g, lr=0.1, eps=eps)
    np.testing.assert_allclose(traj[1], -0.1 * g[0] * (np.abs(g[0]) + eps), rtol=1e-14)
    # Adam-srf: η·g/(g²+ε).
    traj = replay("adam_srf", w0, g, lr=0.1, eps=eps)
    np.testing.assert_allclose(traj[1], -0.1 * g[0] / (g[0] ** 2 + eps), rtol=1e-14)
