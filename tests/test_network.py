"""The analytic gradient of the CNN loss against central finite differences (SPEC §2)."""
import itertools

import numpy as np
import pytest

from simulate.network import ACTIVATIONS, loss_and_grad, n_params

CASES = [(act, q, scale, bias)
         for act, q in [("relu", 1.0), ("relu", 2.0), ("relu", 3.0), ("relu", 2.5), ("linear", 1.0)]
         for scale, bias in itertools.product(("one", "1/m", "1/P"), (False, True))]


def _problem(bias, seed=0, n=6, P=3, d=7, m=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P, d))
    y = rng.choice([-1.0, 1.0], size=n)
    w = rng.normal(scale=0.5, size=n_params(m, d, bias))
    return X, y, w, m


@pytest.mark.parametrize("act,q,scale,bias", CASES)
def test_gradient_matches_central_differences(act, q, scale, bias):
    X, y, w, m = _problem(bias)
    P = X.shape[1]
    c = {"one": 1.0, "1/m": 1.0 / m, "1/P": 1.0 / P}[scale]
    batch = np.array([4, 1, 3, 0])
    slopes = np.zeros((2, m, P))
    args = (X, y, batch, batch.size, ACTIVATIONS.index(act), q, c, m, bias, 0.03)
    grad = np.zeros_like(w)
    loss_and_grad(w, *args, grad, slopes)
    scratch = np.zeros_like(w)
    h = 1e-6
    numeric = np.empty_like(w)
    for k in range(w.size):
        up, down = w.copy(), w.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (loss_and_grad(up, *args, scratch, slopes)
                      - loss_and_grad(down, *args, scratch, slopes)) / (2 * h)
    # central differences are O(h²) accurate; relu kinks are avoided by the random data
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    assert np.abs(grad).max() > 1e-3


def test_loss_is_logistic_on_margin():
    X, y, w, m = _problem(False)
    slopes = np.zeros((2, m, X.shape[1]))
    batch = np.arange(X.shape[0])
    loss = loss_and_grad(w, X, y, batch, batch.size, 1, 1.0, 1.0, m, False, 0.0, np.zeros_like(w), slopes)
    W = w.reshape(2, m, -1)
    f = np.einsum("rd,npd->n", W[0], X) - np.einsum("rd,npd->n", W[1], X)
    np.testing.assert_allclose(loss, np.mean(np.log1p(np.exp(-y * f))), rtol=1e-13)
