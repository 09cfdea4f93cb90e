"""Plain-NumPy float64 reference implementations of the twelve optimisers (SPEC §4).

Written straight from the formulas, one short per-step loop per optimiser, so that
it can be read against SPEC §4 line by line. It deliberately imports nothing from
``simulate``: the kernels in ``simulate/optimizers`` are tested against this file.

Entry points
------------
``reference_trajectory(name, params0, grads, **hyper) -> (traj, diagnostics)``
    ``traj`` has shape (T+1, k), row 0 = params0, row t = parameters after step t
    (which used ``grads[t-1]``); ``diagnostics`` maps each diagnostic name to a
    float64 array of shape (T,), entry t-1 written by step t.
``reference_run(name, params0, grads, **hyper) -> ReferenceRun``
    the same plus per-step internals (bias-corrected moments, the step direction,
    the home mask) that the rule-specific tests use.

Conventions (all from SPEC §4 and the API brief):
* ``t`` is the 1-based step counter; moments start at zero.
* sign(0) = 0 (``np.sign``).
* ε sits outside the square root everywhere.
* coupled weight decay: ``g <- g + λ w`` before anything else;
  decoupled weight decay: ``w <- w - η λ w`` before the optimiser step.
* Adam family: ``m̂ = m/(1-β1^t)`` and ``v̂ = v/(1-β2^t)`` as SPEC writes them (the
  ``m_hat``/``v_hat`` internals, HomeAdam's home test ``v̂ (+ε) ≥ τ``, the diagnostics);
  the step itself folds the corrections into per-step scalars, as ``torch.optim.Adam``
  does and as the kernels round it: ``step_size = η/(1-β1^t)``, ``√v̂ + ε`` computed as
  ``√v·(1/√(1-β2^t)) + ε`` and ``v̂ + ε`` as ``v·(1/(1-β2^t)) + ε``, then
  ``step_size·(m/denominator)``. Algebraically the SPEC step; the rounding differs from
  the literal ``η·m̂/(√v̂+ε)`` by a few ulps per step (the rule tests bound it at 1e-15
  relative), and matching the kernels' rounding keeps ill-conditioned traces comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# ---------------------------------------------------------------------------
# Defaults (replicated from the brief; NOT read from the kernel package).
# ---------------------------------------------------------------------------

_ADAM_COMMON = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, bias_correction=True)
_HOME_COMMON = dict(tau=1.0, rule="global", tau_includes_eps=False)

DEFAULTS: dict[str, dict] = {
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
    "signsgd": dict(lr=1e-3),
    "signum": dict(lr=1e-3, momentum=0.9),
    "signsgdw": dict(lr=1e-3, weight_decay=0.01),
    "adam": dict(_ADAM_COMMON, weight_decay=0.0),
    "adamw": dict(_ADAM_COMMON, weight_decay=0.01),
    "adam_srf": dict(_ADAM_COMMON, weight_decay=0.0),
    "adamw_srf": dict(_ADAM_COMMON, weight_decay=0.01),
    "homeadam": dict(_ADAM_COMMON, weight_decay=0.0, **_HOME_COMMON),
    "homeadamw": dict(_ADAM_COMMON, weight_decay=0.01, **_HOME_COMMON),
    "invadam": dict(_ADAM_COMMON, weight_decay=0.0),
    "dualadam": dict(_ADAM_COMMON, weight_decay=0.0, switch_rate=0.01),
}

# Defaults the brief states explicitly. The sign optimisers' lr default is not stated
# there, so tests must not pin it (the 1e-3 above is only a placeholder for the reference).
UNDOCUMENTED_DEFAULTS = {("signsgd", "lr"), ("signum", "lr"), ("signsgdw", "lr")}

_ADAM_DIAG = ("v_hat_min", "v_hat_max")
DIAGNOSTICS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "signsgd": (),
    "signum": (),
    "signsgdw": (),
    "adam": _ADAM_DIAG,
    "adamw": _ADAM_DIAG,
    "adam_srf": _ADAM_DIAG,
    "adamw_srf": _ADAM_DIAG,
    "homeadam": ("rho_hat", "home_share"),
    "homeadamw": ("rho_hat", "home_share"),
    "invadam": _ADAM_DIAG,
    "dualadam": ("alpha", "mixed"),
}

REFERENCE_NAMES = tuple(DEFAULTS)

# Which Adam-family members use coupled (L2-in-the-gradient) weight decay.
COUPLED_DECAY = {"sgd", "adam", "adam_srf", "homeadam"}
DECOUPLED_DECAY = {"signsgdw", "adamw", "adamw_srf", "homeadamw", "invadam", "dualadam"}
ADAM_FAMILY = (
    "adam", "adamw", "adam_srf", "adamw_srf", "homeadam", "homeadamw", "invadam", "dualadam",
)
SIGN_BASED = ("signsgd", "signum", "signsgdw")


@dataclass
class ReferenceRun:
    traj: np.ndarray                      # (T+1, k)
    diagnostics: dict                     # name -> (T,)
    internals: dict = field(default_factory=dict)  # name -> (T, k) or (T,)


def resolve_hyper(name: str, hyper: dict) -> dict:
    """Defaults overridden by ``hyper``; unknown keys are an error (in the reference too)."""
    if name not in DEFAULTS:
        raise ValueError(f"reference: unknown optimiser {name!r}")
    unknown = set(hyper) - set(DEFAULTS[name])
    if unknown:
        raise ValueError(f"reference: unknown hyperparameters {sorted(unknown)} for {name}")
    h = dict(DEFAULTS[name])
    h.update(hyper)
    return h


# ---------------------------------------------------------------------------
# SGD / momentum SGD / Nesterov (PyTorch form)
# ---------------------------------------------------------------------------

def _run_sgd(w, G, h):
    lr, mu, damp = h["lr"], h["momentum"], h["dampening"]
    nesterov, lam = h["nesterov"], h["weight_decay"]
    T, k = G.shape
    traj = [w.copy()]
    steps = np.empty((T, k))
    b = np.zeros(k)
    for t in range(1, T + 1):
        g = G[t - 1] + lam * w                  # coupled weight decay
        if mu != 0.0:
            if t == 1:
                b = g.copy()                     # b_1 = g (no dampening on the first step)
            else:
                b = mu * b + (1.0 - damp) * g
            if nesterov:
                g = g + mu * b
            else:
                g = b
        steps[t - 1] = lr * g
        w = w - lr * g
        traj.append(w.copy())
    return ReferenceRun(np.array(traj), {}, {"step": steps})


# ---------------------------------------------------------------------------
# Sign methods
# ---------------------------------------------------------------------------

def _run_signsgd(w, G, h):
    lr = h["lr"]
    traj = [w.copy()]
    for t in range(1, G.shape[0] + 1):
        w = w - lr * np.sign(G[t - 1])
        traj.append(w.copy())
    return ReferenceRun(np.array(traj), {})


def _run_signum(w, G, h):
    lr, beta = h["lr"], h["momentum"]
    T, k = G.shape
    traj = [w.copy()]
    m = np.zeros(k)
    ms = np.empty((T, k))
    for t in range(1, T + 1):
        m = beta * m + (1.0 - beta) * G[t - 1]
        ms[t - 1] = m
        w = w - lr * np.sign(m)
        traj.append(w.copy())
    return ReferenceRun(np.array(traj), {}, {"m": ms})


def _run_signsgdw(w, G, h):
    lr, lam = h["lr"], h["weight_decay"]
    traj = [w.copy()]
    for t in range(1, G.shape[0] + 1):
        w = w - lr * lam * w                    # decoupled decay first: (1 - ηλ) w
        w = w - lr * np.sign(G[t - 1])
        traj.append(w.copy())
    return ReferenceRun(np.array(traj), {})


# ---------------------------------------------------------------------------
# Adam family
# ---------------------------------------------------------------------------

def _run_adam_family(name, w, G, h):
    lr = h["lr"]
    beta1, beta2 = h["betas"]
    eps, lam, bias_correction = h["eps"], h["weight_decay"], h["bias_correction"]
    coupled = name in COUPLED_DECAY
    T, k = G.shape

    m = np.zeros(k)
    v = np.zeros(k)
    traj = [w.copy()]
    diag = {d: np.empty(T) for d in DIAGNOSTICS[name]}
    internals = {
        "m_hat": np.empty((T, k)),
        "v_hat": np.empty((T, k)),
        "step": np.empty((T, k)),   # the optimiser step, excluding decoupled decay
        "home": np.zeros((T, k), dtype=bool),   # HomeAdam: which coordinates went home
    }

    for t in range(1, T + 1):
        g = G[t - 1].copy()
        if coupled:
            g = g + lam * w                     # coupled L2: g <- g + λ w
        else:
            w = w - lr * lam * w                # decoupled: w <- w - η λ w first

        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        if bias_correction:
            c1, c2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        else:
            c1, c2 = 1.0, 1.0
        m_hat = m / c1
        v_hat = v / c2
        # The bias corrections folded into per-step scalars, as torch.optim.Adam folds them
        # (module docstring): the SPEC formulas, rounded as the kernels round them.
        step_size, root, inverse = lr / c1, 1.0 / np.sqrt(c2), 1.0 / c2
        adam_denom = np.sqrt(v) * root + eps                # √v̂ + ε
        srf_denom = v * inverse + eps                       # v̂ + ε

        if name in ("adam", "adamw"):
            step = step_size * (m / adam_denom)             # η·m̂/(√v̂ + ε)
        elif name in ("adam_srf", "adamw_srf"):
            step = step_size * (m / srf_denom)              # η·m̂/(v̂ + ε)
        elif name in ("homeadam", "homeadamw"):
            tested = v_hat + eps if h["tau_includes_eps"] else v_hat
            if h["rule"] == "global":
                if np.min(tested) >= h["tau"]:
                    home = np.zeros(k, dtype=bool)
                    step = step_size * (m / srf_denom)      # srf step η·m̂/(v̂ + ε)
                else:
                    home = np.ones(k, dtype=bool)
                    step = step_size * m                    # momentum step η·m̂ ("go home")
                diag["home_share"][t - 1] = 1.0 if home[0] else 0.0
            elif h["rule"] == "elementwise":
                home = tested < h["tau"]
                denom = np.where(home, 1.0, v_hat + eps)
                step = step_size * (m / denom)              # η·m̂/h
                diag["home_share"][t - 1] = np.mean(home)
            else:
                raise ValueError(f"reference: unknown rule {h['rule']!r}")
            internals["home"][t - 1] = home
            diag["rho_hat"][t - 1] = np.min(v_hat) + eps
        elif name == "invadam":
            step = step_size * (m * adam_denom)             # η·m̂⊙(√v̂ + ε)
        elif name == "dualadam":
            xi = h["switch_rate"]
            alpha = max(0.0, 1.0 - t * xi)
            if alpha >= xi:
                # η·((1−α)·m̂/(√v̂+ε) + α·m̂⊙(√v̂+ε))
                step = step_size * ((1.0 - alpha) * m / adam_denom + alpha * m * adam_denom)
                diag["mixed"][t - 1] = 1.0
            else:
                step = step_size * (m / adam_denom)
                diag["mixed"][t - 1] = 0.0
            diag["alpha"][t - 1] = alpha
        else:  # pragma: no cover
            raise AssertionError(name)

        if "v_hat_min" in diag:
            diag["v_hat_min"][t - 1] = np.min(v_hat)
            diag["v_hat_max"][t - 1] = np.max(v_hat)

        internals["m_hat"][t - 1] = m_hat
        internals["v_hat"][t - 1] = v_hat
        internals["step"][t - 1] = step
        w = w - step
        traj.append(w.copy())

    return ReferenceRun(np.array(traj), diag, internals)


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------

def reference_run(name, params0, grads, **hyper) -> ReferenceRun:
    h = resolve_hyper(name, hyper)
    w = np.array(params0, dtype=np.float64).copy()
    G = np.array(grads, dtype=np.float64)
    if G.ndim != 2 or w.ndim != 1 or G.shape[1] != w.shape[0]:
        raise ValueError("reference: params0 must be (k,) and grads (T, k)")
    if name == "sgd":
        return _run_sgd(w, G, h)
    if name == "signsgd":
        return _run_signsgd(w, G, h)
    if name == "signum":
        return _run_signum(w, G, h)
    if name == "signsgdw":
        return _run_signsgdw(w, G, h)
    return _run_adam_family(name, w, G, h)


def reference_trajectory(name, params0, grads, **hyper):
    """(traj (T+1, k) float64, diagnostics dict name -> (T,) float64)."""
    run = reference_run(name, params0, grads, **hyper)
    return run.traj, run.diagnostics
