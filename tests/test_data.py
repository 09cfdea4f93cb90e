"""Statistics of the two data models (SPEC §1)."""
import numpy as np
import pytest

from simulate.config import DataConfig
from simulate.data import generate


def _signal_and_noise(data):
    n, P, _ = data.X.shape
    rows = np.arange(n)
    signal = data.X[rows, data.signal_position]
    mask = np.ones((n, P), bool)
    mask[rows, data.signal_position] = False
    return signal, data.X[mask].reshape(n, P - 1, -1)


def test_sparse_signal_patch_is_exactly_y_v():
    cfg = DataConfig(kind="sparse", d=50, s=10, v_norm=2.0, alpha=0.3, patches=3)
    data = generate(cfg, 200, seed=1)
    signal, _ = _signal_and_noise(data)
    np.testing.assert_array_equal(signal, data.y_clean[:, None] * data.signal)
    assert data.signal[0] == 2.0 and np.count_nonzero(data.signal) == 1


def test_sparse_noise_has_s_nonzeros_off_coordinate_one_plus_feature_noise():
    cfg = DataConfig(kind="sparse", d=50, s=10, alpha=0.3, v_norm=1.5)
    data = generate(cfg, 300, seed=2)
    _, noise_patches = _signal_and_noise(data)
    np.testing.assert_array_equal(noise_patches[..., 0], -0.3 * 1.5 * data.y_clean[:, None])
    assert (np.count_nonzero(noise_patches[..., 1:], axis=-1) == 10).all()
    np.testing.assert_array_equal(noise_patches[..., 1:], data.noise[..., 1:])
    # every coordinate 2..d is used: supports are spread uniformly
    hits = np.count_nonzero(data.noise[..., 1:], axis=(0, 1))
    expected = 300 * 10 / 49
    assert abs(hits - expected).max() < 6 * np.sqrt(expected)


@pytest.mark.parametrize("kind", ["sparse", "dense"])
def test_noise_variance_within_sampling_error(kind):
    cfg = DataConfig(kind=kind, d=40, s=20, sigma_p=0.7, mu_norm=2.0, orthogonal=False)
    data = generate(cfg, 4000, seed=3)
    values = data.noise[data.noise != 0] if kind == "sparse" else data.noise.ravel()
    var = values.var()
    se = 0.7 ** 2 * np.sqrt(2 / values.size)
    assert abs(var - 0.49) < 5 * se


def test_dense_noise_orthogonal_to_mu_when_asked():
    on = generate(DataConfig(kind="dense", d=30, mu_norm=3.0, orthogonal=True), 100, seed=4)
    off = generate(DataConfig(kind="dense", d=30, mu_norm=3.0, orthogonal=False), 100, seed=4)
    assert np.abs(on.noise @ on.signal).max() < 1e-12
    assert np.abs(off.noise @ off.signal).max() > 0.1
    signal, noise_patches = _signal_and_noise(on)
    np.testing.assert_array_equal(signal, on.y_clean[:, None] * on.signal)
    np.testing.assert_array_equal(noise_patches, on.noise)


def test_label_flip_rate_within_sampling_error():
    p, n = 0.2, 20000
    data = generate(DataConfig(kind="dense", d=5, label_noise=p), n, seed=5)
    rate = np.mean(data.y != data.y_clean)
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_signal_position_uniform_and_balanced_classes():
    data = generate(DataConfig(kind="sparse", d=20, s=5, patches=4, balanced=True), 4000, seed=6)
    counts = np.bincount(data.signal_position, minlength=4)
    assert abs(counts - 1000).max() < 5 * np.sqrt(1000 * 0.75)
    assert (data.y == 1).sum() == 2000


def test_same_seed_same_data_different_seed_differs():
    cfg = DataConfig()
    a, b, c = generate(cfg, 50, 7), generate(cfg, 50, 7), generate(cfg, 50, 8)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
