"""The numba training loop: learning, logging, divergence, batching, schedules (SPEC §5)."""
import numpy as np
import pytest

from simulate.loading import load_config
from simulate.optimizers import OPTIMIZER_NAMES
from simulate.run import train, train_many


def test_default_preset_fits_the_training_set():
    result = train(load_config("default"))
    assert not result.diverged
    assert result.metric("train_error")[0] > 0.0
    assert result.metric("train_error")[-1] == 0.0
    assert result.metric("train_loss")[-1] < 0.01 * result.metric("train_loss")[0]
    assert result.steps[-1] == result.config.total_steps == result.steps_done


def test_huge_learning_rate_is_reported_as_diverged_not_raised(tiny):
    # after one step of size 1e150 the cubed pre-activations overflow to infinity
    result = train(tiny("optimizer.name=sgd", "optimizer.lr=1e150", "train.steps=50"))
    assert result.diverged
    assert 2 <= result.diverged_at <= 50
    assert result.steps_done == result.diverged_at - 1
    assert result.steps[-1] == result.steps_done
    finite = train(tiny("optimizer.name=sgd", "optimizer.lr=0.1", "train.steps=50"))
    assert not finite.diverged and finite.diverged_at is None


def test_log_every_equal_to_total_logs_start_and_end(tiny):
    result = train(tiny("train.steps=37", "train.log_every=37"))
    np.testing.assert_array_equal(result.steps, [0, 37])
    uneven = train(tiny("train.steps=25", "train.log_every=10"))
    np.testing.assert_array_equal(uneven.steps, [0, 10, 20, 25])


def test_epochs_replace_steps_and_count_partial_batches(tiny):
    config = tiny("train.batch_size=5", "train.epochs=3")
    assert config.train.steps is None and config.total_steps == 3 * 4   # ⌈16/5⌉ = 4


def test_batched_runs_equal_single_runs_bitwise(tiny):
    configs = [tiny(f"seed={s}", f"optimizer.name={name}")
               for s, name in [(0, "adam"), (1, "sgd"), (2, "homeadam"), (3, "dualadam")]]
    batched = train_many(configs)
    for config, result in zip(configs, batched):
        alone = train(config)
        np.testing.assert_array_equal(result.metrics, alone.metrics)
        np.testing.assert_array_equal(result.params, alone.params)



def test_chunked_groups_with_overlapped_drawing_equal_single_runs(tiny, monkeypatch):
    """On several threads a group trains in chunks while later runs' data are drawn: same
    bits as ``train`` alone, and ``progress`` still counts every step once."""
    import simulate.run as run
    monkeypatch.setattr(run, "RUNS_PER_THREAD", 1)
    monkeypatch.setattr(run.numba, "get_num_threads", lambda: 2)   # chunks of 2, 2 and 1
    configs = [tiny(f"seed={s}") for s in range(5)]
    counted = []
    batched = run.train_many(configs, progress=counted.append)
    assert sum(counted) == sum(config.total_steps for config in configs)
    for config, result in zip(configs, batched):
        alone = train(config)
        np.testing.assert_array_equal(result.params, alone.params)
        np.testing.assert_array_equal(result.metrics, alone.metrics)
        np.testing.assert_array_equal(result.memorisation, alone.memorisation)

@pytest.mark.parametrize("schedule", ["cosine", "step"])
def test_schedules_change_the_logged_learning_rate(tiny, schedule):
    result = train(tiny(f"train.schedule={schedule}", "train.step_size=20", "train.gamma=0.5",
                        "train.log_every=1", "optimizer.lr=0.01"))
    lr = result.metric("lr")
    t = result.steps[1:]
    expected = (0.01 * 0.5 * (1 + np.cos(np.pi * (t - 1) / 60)) if schedule == "cosine"
                else 0.01 * 0.5 ** ((t - 1) // 20))
    np.testing.assert_allclose(lr[1:], expected, rtol=1e-14)


def test_sampling_with_replacement_differs_from_reshuffling(tiny):
    a = train(tiny("train.sampling=replacement"))
    b = train(tiny("train.sampling=reshuffle"))
    assert not np.array_equal(a.params, b.params)


def test_float32_runs_close_to_float64(tiny):
    a = train(tiny("model.dtype=float32", "optimizer.name=sgd", "optimizer.lr=0.05"))
    b = train(tiny("model.dtype=float64", "optimizer.name=sgd", "optimizer.lr=0.05"))
    np.testing.assert_allclose(a.metrics, b.metrics, rtol=1e-3, atol=1e-4)
    assert not np.array_equal(a.metrics, b.metrics)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_every_optimiser_lowers_the_convex_loss(name):
    # step scales differ: SGD ∝ g, sign and Adam-like ∝ 1, srf ∝ 1/g, InvAdam ∝ g²
    lr = {"sgd": 0.1, "invadam": 1.0, "adam_srf": 1e-4, "adamw_srf": 1e-4}.get(name, 1e-2)
    result = train(load_config("convex", [f"optimizer.name={name}", f"optimizer.lr={lr}",
                                          "train.steps=100"]))
    assert not result.diverged
    loss = result.metric("train_loss")
    assert loss[-1] < 0.9 * loss[0], (name, loss[0], loss[-1])


def test_diagnostics_are_logged(tiny):
    home = train(tiny("optimizer.name=homeadam", "optimizer.tau=1e30"))
    assert home.diagnostic_names == ("rho_hat", "home_share")
    np.testing.assert_array_equal(home.diagnostics[1:, 1], 1.0)    # v̂ < τ always: home
    mixed = train(tiny("optimizer.name=homeadam", "optimizer.rule=elementwise",
                       "optimizer.tau=1e-6"))
    share = mixed.diagnostics[1:, 1]
    assert ((share > 0) & (share < 1)).all()
    dual = train(tiny("optimizer.name=dualadam", "optimizer.switch_rate=0.01", "train.log_every=1"))
    np.testing.assert_allclose(dual.diagnostics[1:, 0], np.maximum(0, 1 - dual.steps[1:] * 0.01))


def test_slicing_for_progress_changes_nothing(tiny):
    config = tiny("optimizer.name=homeadam", "train.steps=57", "train.log_every=10")
    reported = []
    sliced = train(config, progress=reported.append)
    whole = train(config)
    np.testing.assert_array_equal(sliced.params, whole.params)
    np.testing.assert_array_equal(sliced.metrics, whole.metrics)
    np.testing.assert_array_equal(sliced.diagnostics, whole.diagnostics)
    assert sum(reported) == 57 and len(reported) > 1


def test_full_batch_is_deterministic_gradient_descent(tiny):
    """Full batch uses every sample every step: the batch seed plays no role, and one step
    is w − η·∇L(w) over the whole training set."""
    from simulate.network import loss_and_grad
    from simulate.run import prepare

    a = train(tiny("train.batch_size=0", "batch_seed=1", "optimizer.name=sgd", "train.steps=1"))
    b = train(tiny("train.batch_size=0", "batch_seed=2", "optimizer.name=sgd", "train.steps=1"))
    np.testing.assert_array_equal(a.params, b.params)
    inputs = prepare(a.config)
    w = inputs.params.copy()
    grad = np.zeros_like(w)
    m, P = a.config.model.m, a.config.data.patches
    everyone = np.arange(a.config.data.n)
    loss_and_grad(w, *inputs.train_arrays, inputs.train.y, everyone, everyone.size, 0,
                  a.config.model.q, 1.0, False, 0.0, grad, np.zeros(2 * m), np.zeros((P, 2 * m)),
                  np.zeros(2 * m))
    np.testing.assert_array_equal(a.params, w - a.config.optimizer.lr * grad)
