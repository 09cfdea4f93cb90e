"""Sparse patch lists (``patches.to_sparse``) and patch placement (``data._place_patches``)
against independent NumPy transcriptions."""
import numpy as np
import pytest

from simulate.config import DataConfig
from simulate.data import _dense_noise, _place_patches, _sparse_noise, generate
from simulate.patches import to_sparse


def _reference_lists(X, K):
    """``np.nonzero`` lists every non-zero in C order: by sample, patch, ascending coordinate."""
    n, P, _ = X.shape
    index = np.zeros((n, P, K), dtype=np.int32)
    value = np.zeros((n, P, K), dtype=X.dtype)
    for i, p in np.ndindex(n, P):
        (coordinates,) = np.nonzero(X[i, p])
        index[i, p, : coordinates.size] = coordinates
        value[i, p, : coordinates.size] = X[i, p, coordinates]
    return index, value


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lists_match_nonzero(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3, 40)).astype(dtype)
    X[rng.random(X.shape) < 0.8] = 0.0
    X[0, 0] = 0.0                                   # an empty patch
    X[1, 2, :6] = 1.0                               # the longest patch starts at coordinate 0
    X[2, 1, 5], X[2, 1, 7] = np.nan, -0.0          # NaN is a non-zero, −0.0 is not
    K = int(np.count_nonzero(X, axis=-1).max())
    index, value = to_sparse(X, K)
    ref_index, ref_value = _reference_lists(X, K)
    np.testing.assert_array_equal(index, ref_index)
    np.testing.assert_array_equal(value, ref_value)   # NaN compares equal to NaN here
    assert index.dtype == np.int32 and value.dtype == dtype
    assert np.isnan(value[2, 1]).sum() == 1 and 7 not in index[2, 1]


def test_too_many_nonzeros_raise():
    X = np.zeros((2, 2, 10))
    X[1, 0, :4] = 1.0
    with pytest.raises(ValueError, match="4 non-zeros, more than K = 3"):
        to_sparse(X, 3)


def _reference_placement(noise, y, signal, position, alpha, sparse):
    """The patches by boolean masks: noise patches in order at every position but the
    signal's, ``noise − α·y·signal`` for the sparse model."""
    n, k, d = noise.shape
    patches = noise - alpha * y[:, None, None] * signal if sparse else noise
    X = np.empty((n, k + 1, d))
    X[np.arange(k + 1) != position[:, None]] = patches.reshape(n * k, d)
    X[np.arange(n), position] = y[:, None] * signal
    return X


@pytest.mark.parametrize("kind", ["sparse", "dense"])
@pytest.mark.parametrize("patches", [2, 4])
def test_placement_matches_masks(kind, patches):
    cfg = DataConfig(kind=kind, d=30, s=4, patches=patches, alpha=0.3, v_norm=1.7, mu_norm=1.7)
    rng = np.random.default_rng(3)
    n = 9
    y = rng.choice([-1.0, 1.0], size=n)
    signal = np.zeros(cfg.d)
    signal[0] = 1.7
    direction = signal / 1.7
    noise = (_sparse_noise(rng, n, patches - 1, cfg) if kind == "sparse"
             else _dense_noise(rng, n, patches - 1, cfg, direction))
    noise[0, 0, 3] = -0.0                           # kept as −0.0 (dense) or −0.0 − α·y·0
    position = rng.integers(0, patches, size=n)
    X = np.empty((n, patches, cfg.d))
    _place_patches(noise, cfg.alpha * y, kind == "sparse", y, signal, position, X)
    expected = _reference_placement(noise, y, signal, position, cfg.alpha, kind == "sparse")
    np.testing.assert_array_equal(X, expected)
    assert np.array_equal(np.signbit(X), np.signbit(expected))


def test_generated_patches_are_the_placed_ground_truth():
    cfg = DataConfig(kind="sparse", d=25, s=3, patches=3, alpha=0.2, v_norm=1.2)
    data = generate(cfg, 11, seed=5)
    expected = _reference_placement(data.noise, data.y_clean, data.signal, data.signal_position,
                                    cfg.alpha, True)
    np.testing.assert_array_equal(data.X, expected)
