"""Neighbouring data sets (SPEC §6): S′ replaces one sample by an independent draw and leaves
everything else bit-identical; coupled pairs in numba equal the runs trained alone."""
import numpy as np
import pytest

from simulate.data import generate, training_set
from simulate.fields import ConfigError
from simulate.loading import load_config
from simulate.pairs import train_pairs
from simulate.run import prepare, train


@pytest.mark.parametrize("preset", ["default", "kou2023"])
def test_replacing_one_sample_leaves_everything_else_identical(preset):
    base = load_config(preset, ["data.n=20", "data.n_test=30"])
    neighbour = load_config(preset, ["data.n=20", "data.n_test=30", "data.replace_index=7"])
    a, b = prepare(base), prepare(neighbour)
    others = np.arange(20) != 7
    for field in ("X", "y", "y_clean", "signal_position", "noise"):
        np.testing.assert_array_equal(getattr(a.train, field)[others], getattr(b.train, field)[others])
    assert not np.array_equal(a.train.X[7], b.train.X[7])
    assert not np.array_equal(a.train.noise[7], b.train.noise[7])
    for field in ("X", "y", "noise"):
        np.testing.assert_array_equal(getattr(a.test, field), getattr(b.test, field))
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.ints, b.ints)       # includes the batch seed
    np.testing.assert_array_equal(a.floats, b.floats)


def test_the_replacement_is_an_independent_draw_from_the_model():
    cfg = load_config("default", ["data.n=8", "data.replace_index=3", "data.replace_seed=99"]).data
    new = training_set(cfg, seed=5)
    fresh = generate(cfg, 1, 99, balanced=False)
    np.testing.assert_array_equal(new.X[3], fresh.X[0])
    assert new.y[3] == fresh.y[0]
    # a derived replacement seed depends on the index: two neighbours of S differ
    other = training_set(load_config("default", ["data.n=8", "data.replace_index=4"]).data, seed=5)
    derived = training_set(load_config("default", ["data.n=8", "data.replace_index=3"]).data, seed=5)
    assert not np.array_equal(other.X[4], derived.X[3])


def test_replaced_sample_has_the_models_structure():
    cfg = load_config("default", ["data.n=40", "data.replace_index=0"]).data
    replaced = training_set(cfg, seed=1)
    x, y = replaced.X[0], replaced.y[0]
    signal = x[replaced.signal_position[0]]
    assert signal[0] == y * cfg.v_norm and np.count_nonzero(signal) == 1
    noise_patch = x[1 - replaced.signal_position[0]]
    assert np.count_nonzero(noise_patch[1:]) == cfg.s                    # s noise coordinates
    assert noise_patch[0] == pytest.approx(-cfg.alpha * y * cfg.v_norm)  # feature noise


@pytest.mark.parametrize("override,message", [
    ("data.replace_index=20", "data.replace_index = 20: must be an integer in [0, n−1] = [0, 19]"),
    ("data.replace_index=-1", "data.replace_index = -1: must be an integer ≥ 0"),
])
def test_replace_index_is_validated(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config("default", ["data.n=20", override])


def test_replace_seed_needs_an_index():
    with pytest.raises(ConfigError, match="data.replace_seed: needs data.replace_index"):
        load_config("default", ["data.replace_seed=3"])


def test_pairs_equal_runs_trained_alone(tiny):
    cells = [(0, "adam"), (1, "sgd")]
    configs = [tiny(f"seed={s}", f"optimizer.name={name}") for s, name in cells]
    neighbours = [tiny(f"seed={s}", f"optimizer.name={name}", "data.replace_index=2")
                  for s, name in cells]
    results = train_pairs(list(zip(configs, neighbours)))
    for config, neighbour, pair in zip(configs, neighbours, results):
        alone, other = train(config), train(neighbour)
        np.testing.assert_array_equal(pair.run.params, alone.params)
        np.testing.assert_array_equal(pair.neighbour.params, other.params)
        np.testing.assert_array_equal(pair.run.metrics, alone.metrics)
        assert pair.delta[0] == 0.0
        assert pair.delta[-1] == pytest.approx(np.linalg.norm(alone.params - other.params), rel=1e-12)


def test_identical_pair_has_zero_distance_at_every_step(tiny):
    config = tiny("optimizer.name=adam")
    (pair,) = train_pairs([(config, config)])
    assert np.all(pair.delta == 0.0)
    assert np.all(pair.loss_diff_max == 0.0) and np.all(pair.loss_diff_mean == 0.0)

