"""Shared correctness suite for the optimiser kernels (SPEC §4), run over every optimiser.

Every kernel is compared against the plain-NumPy reference in ``optimizer_reference.py``
(which is written independently from SPEC §4 and imports nothing from ``simulate``):
trajectories and diagnostics in float64 on random gradient traces with hyperparameters
drawn by hypothesis, float32 runs against the float64 reference, state initialisation,
the hyperparameter dataclasses, and the validation errors.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulate.optimizers import OPTIMIZER_NAMES, get_optimizer, replay

try:  # works whether or not tests/ is a package
    from tests.optimizer_reference import (
        ADAM_FAMILY, DEFAULTS, DIAGNOSTICS, REFERENCE_NAMES, SIGN_BASED,
        UNDOCUMENTED_DEFAULTS, reference_trajectory,
    )
except ImportError:  # pragma: no cover - depends on how pytest sets sys.path
    from optimizer_reference import (
        ADAM_FAMILY, DEFAULTS, DIAGNOSTICS, REFERENCE_NAMES, SIGN_BASED,
        UNDOCUMENTED_DEFAULTS, reference_trajectory,
    )

EXPECTED_NAMES = (
    "sgd", "signsgd", "signum", "signsgdw", "adam", "adamw", "adam_srf", "adamw_srf",
    "homeadam", "homeadamw", "invadam", "dualadam",
)
EPS64 = np.finfo(np.float64).eps
EPS32 = float(np.finfo(np.float32).eps)

# Reproducible in CI: derandomize makes hypothesis draw the same examples every run and
# keeps no example database between runs.
HYPO = settings(
    max_examples=30, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_optimizer_names_are_the_twelve():
    # A new optimiser without a reference implementation must fail here, loudly.
    assert tuple(OPTIMIZER_NAMES) == EXPECTED_NAMES
    assert REFERENCE_NAMES == EXPECTED_NAMES


# ---------------------------------------------------------------------------
# Gradient traces and hyperparameter strategies
# ---------------------------------------------------------------------------

def make_trace(seed: int, k: int, T: int):
    """Random params0 (k,) and gradients (T, k) with scales spread over decades.

    Per-coordinate scales in [1e-2, 10] and per-block (10 steps) time scales in
    [10^-1.5, 10] make v̂ move over roughly 1e-8 .. 1e4, so thresholds τ drawn on a log
    scale fall both above and below it (both HomeAdam branches occur).
    """
    rng = np.random.default_rng(seed)
    coord_scale = 10.0 ** rng.uniform(-2.0, 1.0, size=k)
    n_blocks = -(-T // 10)
    time_scale = np.repeat(10.0 ** rng.uniform(-1.5, 1.0, size=n_blocks), 10)[:T]
    grads = rng.standard_normal((T, k)) * coord_scale[None, :] * time_scale[:, None]
    params0 = rng.standard_normal(k)
    return params0, grads


def log_uniform(lo: float, hi: float):
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda x: float(10.0 ** x))


_lr = log_uniform(1e-4, 1.0)
_beta = st.floats(0.0, 0.999)
_eps = log_uniform(1e-10, 1e-3)
_wd = st.floats(0.0, 0.1)
_unit_open = st.floats(0.0, 1.0, exclude_max=True)
_tau = log_uniform(1e-6, 1e2)


@st.composite
def _sgd_hyper(draw):
    momentum = draw(_unit_open)
    nesterov = draw(st.booleans()) if momentum > 0 else False
    dampening = 0.0 if nesterov else draw(_unit_open)
    return dict(lr=draw(_lr), momentum=momentum, dampening=dampening,
                nesterov=nesterov, weight_decay=draw(_wd))


def _adam_common():
    return dict(lr=_lr, betas=st.tuples(_beta, _beta), eps=_eps,
                bias_correction=st.booleans(), weight_decay=_wd)


HYPER_STRATEGIES = {
    "sgd": _sgd_hyper(),
    "signsgd": st.fixed_dictionaries(dict(lr=_lr)),
    "signum": st.fixed_dictionaries(dict(lr=_lr, momentum=_unit_open)),
    "signsgdw": st.fixed_dictionaries(dict(lr=_lr, weight_decay=_wd)),
    **{n: st.fixed_dictionaries(_adam_common())
       for n in ("adam", "adamw", "adam_srf", "adamw_srf", "invadam")},
    **{n: st.fixed_dictionaries(dict(
        _adam_common(), tau=_tau, rule=st.sampled_from(["global", "elementwise"]),
        tau_includes_eps=st.booleans()))
       for n in ("homeadam", "homeadamw")},
    "dualadam": st.fixed_dictionaries(dict(_adam_common(), switch_rate=st.floats(0.0, 0.2))),
}


def test_every_optimizer_has_a_strategy():
    assert set(HYPER_STRATEGIES) == set(EXPECTED_NAMES)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
@settings(max_examples=5, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_strategy_draws_every_documented_hyperparameter(name, data):
    # The random tests exercise every hyperparameter, none is left at its default.
    assert set(data.draw(HYPER_STRATEGIES[name])) == set(DEFAULTS[name])


def traj_atol(ref_traj: np.ndarray) -> float:
    """Absolute tolerance for float64 trajectories.

    rtol=1e-12 does the real work. The atol only covers coordinates that pass close to
    0: every step adds a rounding error of a few ulps of the largest value involved
    (|w| or |step|), and a different but equally valid operation order (e.g. (1-ηλ)w vs
    w-ηλw, pow vs running product for β^t) changes those ulps, so after T steps the
    absolute difference can be ~T·4·eps64·max|w|, which is ≈1e-13·scale for T≈60-100.
    """
    T = ref_traj.shape[0] - 1
    scale = max(1.0, float(np.max(np.abs(ref_traj))))
    return 4.0 * T * EPS64 * scale


# ---------------------------------------------------------------------------
# Kernel vs reference, float64, random traces and hyperparameters
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXPECTED_NAMES)
@HYPO
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), k=st.integers(5, 40),
       T=st.integers(50, 100))
def test_kernel_matches_reference_float64(name, data, seed, k, T):
    hyper = data.draw(HYPER_STRATEGIES[name], label="hyper")
    params0, grads = make_trace(seed, k, T)
    ref_traj, ref_diag = reference_trajectory(name, params0, grads, **hyper)
    assert np.all(np.isfinite(ref_traj))

    traj, diag = replay(name, params0, grads, return_diagnostics=True, **hyper)
    assert traj.dtype == np.float64 and traj.shape == (T + 1, k)
    assert np.array_equal(traj[0], params0)
    np.testing.assert_allclose(traj, ref_traj, rtol=1e-12, atol=traj_atol(ref_traj),
                               err_msg=f"{name} {hyper}")

    assert set(diag) == set(ref_diag)
    for key, ref_values in ref_diag.items():
        got = np.asarray(diag[key])
        assert got.dtype == np.float64 and got.shape == (T,), key
        if key in ("home_share", "mixed", "alpha"):
            # Branch indicators, shares of coordinates and the DualAdam schedule are
            # computed from exact quantities: they must agree exactly.
            np.testing.assert_array_equal(got, ref_values, err_msg=f"{name} {key} {hyper}")
        else:
            # v̂ statistics and ρ̂ are sums of positive terms: relative accuracy holds, up
            # to the coupled-weight-decay feedback of the (atol-sized) weight differences.
            np.testing.assert_allclose(got, ref_values, rtol=1e-12,
                                       atol=1e-14 * float(np.max(np.abs(ref_values))),
                                       err_msg=f"{name} {key} {hyper}")

    # The same call without diagnostics returns the same trajectory, bit for bit.
    traj_plain = replay(name, params0, grads, **hyper)
    np.testing.assert_array_equal(traj_plain, traj)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_defaults_match_reference(name):
    # No hyperparameters at all: the kernel's defaults must be the documented ones.
    params0, grads = make_trace(1234, 9, 60)
    ref_traj, ref_diag = reference_trajectory(name, params0, grads)
    traj, diag = replay(name, params0, grads, return_diagnostics=True)
    np.testing.assert_allclose(traj, ref_traj, rtol=1e-12, atol=traj_atol(ref_traj))
    assert set(diag) == set(ref_diag)
    for key in ref_diag:
        np.testing.assert_allclose(diag[key], ref_diag[key], rtol=1e-12,
                                   atol=1e-14 * float(np.max(np.abs(ref_diag[key]))))
    # and the optimiser actually moved the parameters
    assert not np.array_equal(traj[-1], traj[0])


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_replay_does_not_mutate_inputs(name):
    params0, grads = make_trace(7, 6, 20)
    p_copy, g_copy = params0.copy(), grads.copy()
    replay(name, params0, grads, return_diagnostics=True)
    assert np.array_equal(params0, p_copy) and np.array_equal(grads, g_copy)


# ---------------------------------------------------------------------------
# Spec objects: hyperparameter dataclass, diagnostics, state initialisation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_hyper_cls_fields_and_defaults(name):
    spec = get_optimizer(name)
    cls = spec.hyper_cls
    assert dataclasses.is_dataclass(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert set(fields) == set(DEFAULTS[name])
    instance = cls()
    for key, expected in DEFAULTS[name].items():
        if (name, key) in UNDOCUMENTED_DEFAULTS:
            continue
        got = getattr(instance, key)
        if isinstance(expected, tuple):
            assert tuple(got) == expected, key
        else:
            assert got == expected and type(got) is type(expected), (key, got)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, "lr", 0.5)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_spec_diagnostics_names(name):
    spec = get_optimizer(name)
    assert tuple(spec.diagnostics) == DIAGNOSTICS[name]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_init_state_zeros(name, dtype):
    spec = get_optimizer(name)
    assert isinstance(spec.n_state, int) and spec.n_state >= 0
    for k in (1, 13):
        state = spec.init(k, dtype)
        assert isinstance(state, np.ndarray)
        assert state.shape == (spec.n_state, k)
        assert state.dtype == np.dtype(dtype)
        assert not np.any(state)


# ---------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------

def make_float32_trace(seed: int, k: int, T: int, kind: str, constant_sign: bool):
    """float32 params0 and gradients with |g| bounded away from 0 and from τ=1 in v̂.

    Each coordinate's |g| stays in a band: 'low' gives |g| in [0.21, 0.39] (v̂ < 0.16),
    'high' |g| in [2.1, 3.9] (v̂ > 4.4), so v̂ never comes near the default τ = 1 and
    float32 rounding cannot flip a HomeAdam decision. With ``constant_sign`` each
    coordinate keeps one sign, so Signum's momentum never crosses 0 and no sign flips.
    """
    rng = np.random.default_rng(seed)
    if kind == "high":
        band = np.full(k, 3.0)
    else:  # mixed
        band = np.where(np.arange(k) % 2 == 0, 0.3, 3.0)
    mag = band[None, :] * rng.uniform(0.7, 1.3, size=(T, k))
    if constant_sign:
        signs = np.broadcast_to(rng.choice([-1.0, 1.0], size=k), (T, k))
    else:
        signs = rng.choice([-1.0, 1.0], size=(T, k))
    grads = (signs * mag).astype(np.float32)
    params0 = rng.standard_normal(k).astype(np.float32)
    return params0, grads


FLOAT32_HYPER = {
    "sgd": [{}, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
            dict(lr=0.05, momentum=0.5, dampening=0.3)],
    "signsgd": [{}, dict(lr=0.05)],
    "signum": [{}, dict(lr=0.05, momentum=0.5)],
    "signsgdw": [{}, dict(lr=0.05, weight_decay=0.05)],
    **{n: [{}, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.05, bias_correction=False)]
       for n in ("adam", "adamw", "adam_srf", "adamw_srf", "invadam")},
    **{n: [{}, dict(lr=0.05, rule="elementwise"),
           dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.05, tau_includes_eps=True)]
       for n in ("homeadam", "homeadamw")},
    "dualadam": [{}, dict(lr=0.05, switch_rate=0.1, weight_decay=0.05)],
}


@pytest.mark.parametrize("kind", ["high", "mixed"])
@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_float32_matches_float64_reference(name, kind):
    T, k = 20, 12
    constant_sign = name in SIGN_BASED
    for i, hyper in enumerate(FLOAT32_HYPER[name]):
        params0, grads = make_float32_trace(100 + i, k, T, kind, constant_sign)
        # The reference sees exactly the float32 inputs, in float64 arithmetic.
        ref_traj, ref_diag = reference_trajectory(
            name, params0.astype(np.float64), grads.astype(np.float64), **hyper)
        traj, diag = replay(name, params0, grads, return_diagnostics=True, **hyper)
        assert traj.dtype == np.float64 and traj.shape == (T + 1, k)
        assert np.all(np.isfinite(traj))
        # Ran in float32: every value it returns is a float32 value.
        assert np.array_equal(traj.astype(np.float32).astype(np.float64), traj)
        # rtol 1e-4 ≈ 20 steps × a few float32 ulps (6e-8) with ample margin; atol for
        # coordinates passing near 0, same reasoning as traj_atol with eps32.
        scale = max(1.0, float(np.max(np.abs(ref_traj))))
        np.testing.assert_allclose(traj, ref_traj, rtol=1e-4, atol=4 * T * EPS32 * scale,
                                   err_msg=f"{name} {hyper}")
        for key in ("home_share", "mixed", "alpha"):
            if key in ref_diag:  # decisions are far from the threshold: must agree exactly
                np.testing.assert_array_equal(diag[key], ref_diag[key], err_msg=key)


@pytest.mark.parametrize("name", ADAM_FAMILY + ("sgd",))
def test_float32_really_is_float32(name):
    # Same float32-representable inputs in float32 and float64 must give different
    # results (float64 results are not float32 values) -- i.e. the dtype is honoured.
    params0, grads = make_float32_trace(5, 8, 10, "mixed", False)
    hyper = dict(lr=0.0123, momentum=0.9) if name == "sgd" else dict(lr=0.0123)
    t32 = replay(name, params0, grads, **hyper)
    t64 = replay(name, params0.astype(np.float64), grads.astype(np.float64), **hyper)
    assert not np.array_equal(t32, t64)
    assert not np.array_equal(t64.astype(np.float32).astype(np.float64), t64)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_float64_params_with_float32_grads_runs_in_float64(name):
    # grads are cast to params0's dtype, so float64 params with float32 grads must equal
    # the all-float64 run exactly.
    params0, grads = make_float32_trace(9, 6, 15, "mixed", name in SIGN_BASED)
    a = replay(name, params0.astype(np.float64), grads)
    b = replay(name, params0.astype(np.float64), grads.astype(np.float64))
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

_P0 = np.zeros(3)
_G = np.ones((2, 3))


def test_unknown_optimizer_name_lists_allowed():
    for call in (lambda: replay("nadam", _P0, _G), lambda: get_optimizer("nadam")):
        with pytest.raises(ValueError) as excinfo:
            call()
        message = str(excinfo.value)
        assert "nadam" in message
        for allowed in EXPECTED_NAMES:
            assert allowed in message, allowed


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_unknown_hyperparameter_names_key_and_allowed(name):
    with pytest.raises(ValueError) as excinfo:
        replay(name, _P0, _G, lr=1e-3, bogus_key=1.0)
    message = str(excinfo.value)
    assert "bogus_key" in message
    for allowed in DEFAULTS[name]:
        assert allowed in message, allowed


def _bad_values(name):
    """(hyper overrides, field expected in the message) for every documented range."""
    keys = DEFAULTS[name]
    cases = [(dict(lr=0.0), "lr"), (dict(lr=-1e-3), "lr")]
    if "betas" in keys:
        cases += [(dict(betas=(1.0, 0.999)), "betas"), (dict(betas=(0.9, 1.0)), "betas"),
                  (dict(betas=(-0.1, 0.999)), "betas"), (dict(betas=(0.9, -0.5)), "betas"),
                  (dict(betas=(1.5, 0.999)), "betas")]
    if "momentum" in keys:
        cases += [(dict(momentum=1.0), "momentum"), (dict(momentum=-0.1), "momentum")]
    if "eps" in keys:
        cases += [(dict(eps=-1e-8), "eps")]
    if "tau" in keys:
        cases += [(dict(tau=0.0), "tau"), (dict(tau=-1.0), "tau")]
    if "switch_rate" in keys:
        cases += [(dict(switch_rate=-0.01), "switch_rate")]
    if "weight_decay" in keys:
        cases += [(dict(weight_decay=-0.01), "weight_decay")]
    if "rule" in keys:
        cases += [(dict(rule="sometimes"), "rule")]
    if name == "sgd":
        cases += [(dict(nesterov=True, momentum=0.0), "nesterov"),
                  (dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov")]
    return cases


_RANGE_CASES = [(name, hyper, fld) for name in EXPECTED_NAMES for hyper, fld in _bad_values(name)]


@pytest.mark.parametrize(
    "name,hyper,fld", _RANGE_CASES,
    ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in h.items())}" for n, h, _ in _RANGE_CASES])
def test_out_of_range_hyperparameter_raises(name, hyper, fld):
    with pytest.raises(ValueError, match=fld):
        replay(name, _P0, _G, **hyper)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_boundary_values_are_accepted(name):
    # The closed ends of the documented ranges are valid (beta = 0, eps = 0, wd = 0, ...).
    keys = DEFAULTS[name]
    hyper = {}
    if "betas" in keys:
        hyper["betas"] = (0.0, 0.0)
        hyper["eps"] = 0.0 if name not in ("adam_srf", "adamw_srf", "homeadam",
                                           "homeadamw") else 1e-12
    if "momentum" in keys:
        hyper["momentum"] = 0.0
    if "weight_decay" in keys:
        hyper["weight_decay"] = 0.0
    if "switch_rate" in keys:
        hyper["switch_rate"] = 0.0
    traj = replay(name, np.ones(3), np.full((2, 3), 0.5), **hyper)
    ref, _ = reference_trajectory(name, np.ones(3), np.full((2, 3), 0.5), **hyper)
    np.testing.assert_allclose(traj, ref, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_spec_update_keeps_state_shape_and_dtype(name, dtype):
    # Drive the exposed kernel ``spec.update(w, g, state, h, t, lr, diag)`` by hand on the
    # state from ``spec.init``: the state keeps its shape and dtype, the moments move, and
    # the result is the replay trajectory.
    from simulate.optimizers import N_DIAG, packed_hyper

    spec = get_optimizer(name)
    hyper = dict(lr=0.01, momentum=0.9) if name == "sgd" else dict(lr=0.01)  # buffer in use
    record = spec.hyper(hyper)
    k, T = 7, 6
    params0, grads = make_float32_trace(3, k, T, "mixed", name in SIGN_BASED)
    w = params0.astype(dtype)
    state = spec.init(k, dtype)
    diag = np.zeros(N_DIAG)
    rows = [w.astype(np.float64)]
    for t in range(1, T + 1):
        spec.update(w, grads[t - 1].astype(dtype), state, packed_hyper(record), t, record.lr,
                    diag)
        assert state.shape == (spec.n_state, k) and state.dtype == np.dtype(dtype)
        assert w.dtype == np.dtype(dtype) and np.all(np.isfinite(w))
        rows.append(w.astype(np.float64))
    if spec.n_state:
        assert np.any(state)
    np.testing.assert_array_equal(np.array(rows),
                                  replay(name, params0.astype(dtype), grads, **hyper))
