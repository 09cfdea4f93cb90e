"""The analytic gradient of the CNN loss against central finite differences (SPEC §2)."""
import itertools

import numpy as np
import pytest

from simulate.network import ACTIVATIONS, flatten, loss_and_grad, n_params, unflatten
from simulate.patches import to_sparse

CASES = [(act, q, scale, bias)
         for act, q in [("relu", 1.0), ("relu", 2.0), ("relu", 3.0), ("relu", 2.5), ("linear", 1.0)]
         for scale, bias in itertools.product(("one", "1/m", "1/P"), (False, True))]


def _problem(bias, seed=0, n=6, P=3, d=7, m=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P, d))
    y = rng.choice([-1.0, 1.0], size=n)
    w = rng.normal(scale=0.5, size=n_params(m, d, bias))
    return X, y, w, m


def _patch_arrays(X, sparse):
    """The ``(X, index, value)`` triple of the kernels, dense or as non-zero lists."""
    n, P, d = X.shape
    if not sparse:
        return X, np.zeros((n, P, 0), np.int32), np.zeros((n, P, 0))
    return (np.zeros((n, P, 0)), *to_sparse(X, d))


def _loss(w, X, y, batch, act, q, c, m, bias, l2, sparse, grad=None):
    P = X.shape[1]
    scratch = (np.zeros(2 * m), np.zeros((P, 2 * m)), np.zeros(2 * m))
    grad = np.zeros_like(w) if grad is None else grad
    return loss_and_grad(w, *_patch_arrays(X, sparse), y, batch, batch.size,
                         ACTIVATIONS.index(act), q, c, bias, l2, grad, *scratch)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("act,q,scale,bias", CASES)
def test_gradient_matches_central_differences(act, q, scale, bias, sparse):
    X, y, w, m = _problem(bias)
    X[X < -0.5] = 0.0                      # some zeros, so the sparse lists have padding
    P = X.shape[1]
    c = {"one": 1.0, "1/m": 1.0 / m, "1/P": 1.0 / P}[scale]
    batch = np.array([4, 1, 3, 0])
    args = (X, y, batch, act, q, c, m, bias, 0.03, sparse)
    grad = np.zeros_like(w)
    _loss(w, *args, grad=grad)
    h = 1e-6
    numeric = np.empty_like(w)
    for k in range(w.size):
        up, down = w.copy(), w.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (_loss(up, *args) - _loss(down, *args)) / (2 * h)
    # central differences are O(h²) accurate; relu kinks are avoided by the random data
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    assert np.abs(grad).max() > 1e-3


@pytest.mark.parametrize("sparse", [False, True])
def test_loss_is_logistic_on_the_cnn_margin(sparse):
    X, y, w, m = _problem(True)
    batch = np.arange(X.shape[0])
    loss = _loss(w, X, y, batch, "relu", 3.0, 0.5, m, True, 0.0, sparse)
    W, b = unflatten(w, m, X.shape[2], True)
    pre = np.einsum("jrd,npd->njrp", W, X) + b[None, :, :, None]
    F = 0.5 * np.maximum(pre, 0.0) ** 3
    f = F[:, 0].sum(axis=(1, 2)) - F[:, 1].sum(axis=(1, 2))
    np.testing.assert_allclose(loss, np.mean(np.log1p(np.exp(-y * f))), rtol=1e-12)


def test_flatten_round_trips():
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3))
    W2, b2 = unflatten(flatten(W, b), 3, 5, True)
    np.testing.assert_array_equal(W, W2)
    np.testing.assert_array_equal(b, b2)


@pytest.mark.parametrize("bias", [False, True])
def test_dense_and_sparse_paths_agree_bitwise(bias):
    """Dense rows (coordinate loops) and sparse lists sum every pre-activation and every
    gradient entry in the same order, so they agree to the last bit."""
    X, y, w, m = _problem(bias, n=9, P=3, d=11, m=3)
    X[X < -0.3] = 0.0
    batch = np.array([3, 1, 4, 7, 0])
    grads = []
    for sparse in (False, True):
        grads.append(np.zeros_like(w))
        _loss(w, X, y, batch, "relu", 2.0, 0.5, m, bias, 0.01, sparse, grad=grads[-1])
    np.testing.assert_array_equal(grads[0], grads[1])


def _signal_rows(X, every=2):
    """Patch 0 of every ``every``-th sample becomes a signal patch ``±2·e_1`` (one non-zero)."""
    X = X.copy()
    X[::every, 0, :] = 0.0
    X[::every, 0, 0] = np.where(np.arange(X[::every].shape[0]) % 2 == 0, 2.0, -2.0)
    return X


BLAS_CASES = {  # name: (n, d, m, signal rows, batch size)
    "all-dense": (50, 2000, 50, False, 0),
    "signal-rows": (50, 2000, 50, True, 0),
    "minibatch": (50, 2000, 50, True, 30),
    "chunks": (700, 200, 5, True, 0),       # 1050 dense rows: two BLAS chunks
}


@pytest.mark.parametrize("case", sorted(BLAS_CASES))
@pytest.mark.parametrize("bias", [False, True])
def test_blas_path_matches_loops(bias, case):
    """Batches with ≥ BLAS_MIN_WORK multiply-adds use BLAS products for their dense rows and
    the non-zero lists for their sparse rows; same loss and gradient as the sparse kernels."""
    from simulate.network import BLAS_CHUNK, BLAS_MIN_WORK, _split_rows, _uses_blas

    n, d, m, signal, B = BLAS_CASES[case]
    X, y, w, m = _problem(bias, n=n, P=2, d=d, m=m)
    if signal:
        X = _signal_rows(X)
    rng = np.random.default_rng(4)
    batch = rng.permutation(n)[:B] if B else np.arange(n)
    assert _uses_blas(2 * batch.size, d, 2 * m) and 2 * batch.size * d * 2 * m >= BLAS_MIN_WORK
    assert not _uses_blas(4, 1000, 40)
    dense, sparse, index, value = _split_rows(X, batch, batch.size)
    expected_sparse = [2 * b for b in range(batch.size) if signal and batch[b] % 2 == 0]
    np.testing.assert_array_equal(sparse, expected_sparse)
    np.testing.assert_array_equal(np.sort(np.concatenate([dense, sparse])), np.arange(2 * batch.size))
    if len(expected_sparse):
        np.testing.assert_array_equal(index, 0)
        np.testing.assert_array_equal(value[:, 0, 0], X[batch[np.array(expected_sparse) // 2], 0, 0])
    assert (dense.size > BLAS_CHUNK) == (case == "chunks")
    results = []
    for sparse_lists in (False, True):             # dense → BLAS; sparse lists → loops
        grad = np.zeros_like(w)
        results.append((_loss(w, X, y, batch, "relu", 2.0, 0.05, m, bias, 0.0, sparse_lists,
                              grad=grad), grad))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    # BLAS reorders sums of up to d = 2000 terms (forward) and 100 rows (backward): rounding
    # error ≲ n·eps relative to the terms' magnitude, so entries that cancel get an absolute
    # tolerance at the gradient's scale.
    scale = np.abs(results[1][1]).max()
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("bias", [False, True])
def test_cleared_rows_give_the_zeroed_gradient(bias):
    """The training loop keeps a small sparse batch's gradient zero between steps by clearing
    the rows it wrote (``clear_batch_rows``) instead of zeroing it: same bits, every step."""
    from simulate.network import clear_batch_rows, sparse_loss_and_grad

    X, y, w, m = _problem(bias, n=12, P=3, d=30, m=3)
    X[np.abs(X) < 1.0] = 0.0                            # ~32% non-zeros: short lists
    X, XI, XV = _patch_arrays(X, sparse=True)
    U = 2 * m
    scratch = (np.zeros(U), np.zeros((3, U)), np.zeros(U))
    kept = np.zeros_like(w)
    rng = np.random.default_rng(2)
    for _ in range(5):
        batch = rng.permutation(12)[:4]
        fresh = np.full_like(w, np.nan)                 # loss_and_grad overwrites everything
        expected = loss_and_grad(w, X, XI, XV, y, batch, 4, 0, 2.0, 0.5, bias, 0.0, fresh,
                                 *scratch)
        got = sparse_loss_and_grad(w, XI, XV, y, batch, 4, 0, 2.0, 0.5, bias, kept, *scratch)
        assert got == expected
        np.testing.assert_array_equal(kept, fresh)
        assert np.any(kept != 0.0) and np.any(kept == 0.0)
        clear_batch_rows(kept, XI, XV, batch, 4, bias, U)
        np.testing.assert_array_equal(kept, 0.0)
        w = w - 0.1 * fresh                             # move on, as a step would
