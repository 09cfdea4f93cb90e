"""Built-in presets: nested dicts in the TOML layout, validated by ``config_from_dict``.

Settings are SPEC §1 and §2's published ones where the papers state them; where they do not,
the choice is named in the preset's description.
"""
from __future__ import annotations

_ADAM = {"name": "adam", "betas": [0.9, 0.999], "eps": 1e-8}

#: Tang et al. 2025, App. D.2 (SPEC §1a); q = 3 and ε = 1e-8 are not stated there.
_TANG_DATA = {"kind": "sparse", "n": 200, "n_test": 10_000, "d": 1000, "s": 100,
              "sigma_p": 0.1, "alpha": 0.2, "v_norm": 1.0, "balanced": True}

PRESETS: dict[str, tuple[str, dict]] = {
    "default": (
        "small high-SNR sparse model, Adam minibatch; trains in seconds",
        {"data": {"kind": "sparse", "n": 32, "n_test": 500, "d": 200, "s": 20, "sigma_p": 0.3,
                  "alpha": 0.1, "balanced": True},
         "model": {"m": 10, "activation": "relu", "q": 3.0, "sigma0": 0.05},
         "optimizer": {**_ADAM, "lr": 1e-2},
         "train": {"batch_size": 8, "epochs": 100}},
    ),
    "tang2025": (
        "Tang et al. 2025 App. D.2: sparse model, n=200, d=1000, Adam lr 5e-5, B=100, 10^4 epochs",
        {"data": _TANG_DATA,
         "model": {"m": 20, "activation": "relu", "q": 3.0, "scale": "one", "sigma0": 0.01},
         "optimizer": {**_ADAM, "lr": 5e-5},
         "train": {"batch_size": 100, "epochs": 10_000, "log_every": 2000}},
    ),
    "zou2023": (
        "Zou et al. 2023: full-batch Adam on the Tang sparse data (their exact settings are "
        "not in the sources; GD via --set optimizer.name=sgd)",
        {"data": _TANG_DATA,
         "model": {"m": 20, "activation": "relu", "q": 3.0, "scale": "one", "sigma0": 0.01},
         "optimizer": {**_ADAM, "lr": 1e-4},
         "train": {"batch_size": 0, "steps": 2000}},
    ),
    "kou2023": (
        "Kou et al. 2023 released heat-map cell: dense, ReLU+bias, n=20, d=1000, ‖μ‖=5, "
        "label noise 0.1, GD lr 0.1, 100 steps",
        {"data": {"kind": "dense", "n": 20, "n_test": 1000, "d": 1000, "sigma_p": 1.0,
                  "mu_norm": 5.0, "orthogonal": False, "label_noise": 0.1},
         "model": {"m": 10, "activation": "relu", "q": 1.0, "scale": "1/P", "init": "uniform",
                   "bias": True},
         "optimizer": {"name": "sgd", "lr": 0.1},
         "train": {"batch_size": 0, "steps": 100, "log_every": 10}},
    ),
    "cao2022": (
        "Cao et al. 2022 dense model, setting of Huang et al.: q=2, m=20, n=200, d=2000, "
        "‖μ‖=2, σ_p=0.5, GD lr 0.5, 2000 steps",
        {"data": {"kind": "dense", "n": 200, "n_test": 1000, "d": 2000, "sigma_p": 0.5,
                  "mu_norm": 2.0, "orthogonal": True},
         "model": {"m": 20, "activation": "relu", "q": 2.0, "scale": "1/m", "sigma0": 0.01},
         "optimizer": {"name": "sgd", "lr": 0.5},
         "train": {"batch_size": 0, "steps": 2000}},
    ),
    "convex": (
        "linear activation (convex logistic regression on the patches), full-batch GD",
        {"data": {"kind": "sparse", "n": 32, "n_test": 500, "d": 200, "s": 20, "sigma_p": 0.3,
                  "alpha": 0.1, "balanced": True},
         "model": {"m": 2, "activation": "linear", "q": 1.0, "sigma0": 0.01},
         "optimizer": {"name": "sgd", "lr": 0.1},
         "train": {"batch_size": 0, "steps": 200}},
    ),
}
