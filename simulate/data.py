"""SPEC §1: the feature-plus-noise patch data models, with their ground truth.

Every input is ``P`` patches in ``R^d``; one patch, at a uniformly random position, is the
signal patch, the others are noise patches.

- sparse (Zou et al. 2023; Tang et al. 2025): signal ``y·v`` with ``v = ‖v‖·e_1``; noise
  ``ξ̃`` has ``s`` coordinates drawn uniformly from ``{2..d}`` with ``N(0, σ_p²)`` entries, and
  the patch is ``ξ̃ − α·y·v`` (feature noise).
- dense (Cao et al. 2022; Kou et al. 2023): signal ``y·μ`` with ``μ = ‖μ‖·e_1``; noise
  ``ξ̃ ~ N(0, σ_p²(I − μμᵀ/‖μ‖²))`` (projection optional, identity when ``‖μ‖ = 0``).

Each observed label is flipped with probability ``label_noise`` (train and test). The
generator is NumPy's PCG64 seeded explicitly, so a data set is a pure function of its seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DataConfig
from .jit import kernel


@dataclass(frozen=True)
class PatchData:
    """Patches ``X (n, P, d)``, observed labels ``y`` and the ground truth behind them."""

    X: np.ndarray
    y: np.ndarray
    y_clean: np.ndarray
    signal_position: np.ndarray
    noise: np.ndarray
    signal: np.ndarray

    @property
    def direction(self) -> np.ndarray:
        """Unit feature direction ``v/‖v‖`` or ``μ/‖μ‖`` (``e_1`` when ``‖μ‖ = 0``)."""
        norm = np.linalg.norm(self.signal)
        if norm == 0:
            out = np.zeros_like(self.signal)
            out[0] = 1.0
            return out
        return self.signal / norm


def _labels(rng: np.random.Generator, n: int, balanced: bool) -> np.ndarray:
    if balanced:
        return rng.permutation(np.repeat([1.0, -1.0], n // 2))
    return rng.choice([1.0, -1.0], size=n)


def _sparse_noise(rng, n: int, k: int, cfg: DataConfig) -> np.ndarray:
    """``s`` Gaussian coordinates per noise patch, drawn from ``{2..d}`` without replacement."""
    noise = np.zeros((n, k, cfg.d))
    if cfg.d == 1:
        return noise
    keys = rng.random((n, k, cfg.d - 1))
    support = np.argpartition(keys, cfg.s - 1, axis=-1)[..., : cfg.s] + 1
    values = rng.normal(0.0, cfg.sigma_p, size=(n, k, cfg.s))
    np.put_along_axis(noise, support, values, axis=-1)
    return noise


def _dense_noise(rng, n: int, k: int, cfg: DataConfig, direction: np.ndarray) -> np.ndarray:
    noise = rng.normal(0.0, cfg.sigma_p, size=(n, k, cfg.d))
    if cfg.orthogonal and cfg.mu_norm > 0:
        noise -= np.einsum("nkd,d->nk", noise, direction)[..., None] * direction
    return noise


@kernel
def _place_patches(noise, feature_noise, subtract, y, signal, position, X):
    """``X[i, position[i]] = y_i·signal`` and the other patches, in order, the noise patches
    ``noise[i, j] − feature_noise[i]·signal`` (``subtract``, the sparse model's feature noise
    ``α·y_i·v``) or ``noise[i, j]``."""
    n, P, d = X.shape
    for i in range(n):
        j = 0
        for p in range(P):
            patch = X[i, p]
            if p == position[i]:
                for c in range(d):
                    patch[c] = y[i] * signal[c]
                continue
            source = noise[i, j]
            j += 1
            if subtract:
                for c in range(d):
                    patch[c] = source[c] - feature_noise[i] * signal[c]
            else:
                patch[:] = source


def generate(cfg: DataConfig, n: int, seed: int, balanced: bool | None = None,
             dtype=np.float64) -> PatchData:
    """Draw ``n`` samples of the model ``cfg`` from ``seed``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    balanced = cfg.balanced if balanced is None else balanced
    y = _labels(rng, n, balanced and n % 2 == 0)
    signal = np.zeros(cfg.d)
    signal[0] = cfg.v_norm if cfg.kind == "sparse" else cfg.mu_norm
    direction = np.zeros(cfg.d)
    direction[0] = 1.0
    k = cfg.patches - 1
    sparse = cfg.kind == "sparse"
    if sparse:
        noise = _sparse_noise(rng, n, k, cfg)
    else:
        noise = _dense_noise(rng, n, k, cfg, direction)
    position = rng.integers(0, cfg.patches, size=n)
    X = np.empty((n, cfg.patches, cfg.d))
    _place_patches(noise, cfg.alpha * y, sparse, y, signal, position, X)
    flips = rng.random(n) < cfg.label_noise
    observed = np.where(flips, -y, y)
    return PatchData(X=X.astype(dtype, copy=False), y=observed.astype(dtype, copy=False),
                     y_clean=y, signal_position=position, noise=noise.astype(dtype, copy=False),
                     signal=signal)


def replacement_seed(cfg: DataConfig, seed: int) -> int:
    """Seed of the independent draw that replaces sample ``cfg.replace_index`` (SPEC §6):
    ``cfg.replace_seed``, else derived from the data seed and the index."""
    if cfg.replace_seed is not None:
        return cfg.replace_seed
    sequence = np.random.SeedSequence([seed, cfg.replace_index, 0x5E1])
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def with_sample_replaced(data: PatchData, index: int, replacement: PatchData) -> PatchData:
    """``data`` with sample ``index`` (patches, labels, signal position, noise) taken from the
    one-sample set ``replacement``; every other sample is the same array content."""
    def put(array, new):
        out = array.copy()
        out[index] = new[0]
        return out

    return PatchData(X=put(data.X, replacement.X), y=put(data.y, replacement.y),
                     y_clean=put(data.y_clean, replacement.y_clean),
                     signal_position=put(data.signal_position, replacement.signal_position),
                     noise=put(data.noise, replacement.noise), signal=data.signal)


def training_set(cfg: DataConfig, seed: int, dtype=np.float64) -> PatchData:
    """The training set ``S`` drawn from ``seed`` or, when ``cfg.replace_index = i`` is set, its
    neighbour ``S′``: ``S`` with sample ``i`` replaced by an independent draw from the data
    distribution (label uniform on ±1, whatever ``balanced`` says: balancing is a property of
    the set, not of one sample's distribution)."""
    data = generate(cfg, cfg.n, seed, dtype=dtype)
    if cfg.replace_index is None:
        return data
    replacement = generate(cfg, 1, replacement_seed(cfg, seed), balanced=False, dtype=dtype)
    return with_sample_replaced(data, cfg.replace_index, replacement)
