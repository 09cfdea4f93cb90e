"""Sparse storage of patch data: each patch as a padded list of its non-zero coordinates.

A sparse-model patch has at most ``s + 1`` non-zeros out of ``d`` (SPEC §1a), so the network
kernels touch ``s + 1`` rows of ``Wᵀ`` instead of ``d``. ``index, value`` have shape
``(n, P, K)``; unused slots hold index 0 and value 0 (which the kernels skip). ``K = 0`` means
the data are kept dense.
"""
from __future__ import annotations

import numpy as np

from .config import DataConfig
from .jit import kernel

#: Sparse storage pays off when a patch has at most this share of non-zero coordinates.
SPARSE_SHARE = 0.25


def slots(cfg: DataConfig) -> int:
    """``K`` for a data model: ``s + 1`` for sparse data worth storing sparsely, else 0."""
    if cfg.kind != "sparse" or cfg.s + 1 > SPARSE_SHARE * cfg.d:
        return 0
    return cfg.s + 1


def to_sparse(X: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Padded ``(index int32, value)`` lists of the non-zeros of every patch of ``X``, each
    list in ascending coordinate order."""
    n, P, _ = X.shape
    index = np.zeros((n, P, K), dtype=np.int32)
    value = np.zeros((n, P, K), dtype=X.dtype)
    most = _fill_lists(X, index, value)
    if most > K:
        raise ValueError(f"a patch has {most} non-zeros, more than K = {K}")
    return index, value


@kernel
def _fill_lists(X, index, value):
    """Write each patch's first ``K`` non-zeros (``x != 0``: NaN counts, ``-0.0`` does not)
    into ``index, value (n, P, K)``; returns the largest non-zero count of any patch."""
    n, P, d = X.shape
    K = index.shape[2]
    most = 0
    for i in range(n):
        for p in range(P):
            row, count = X[i, p], 0
            for k in range(d):
                if row[k] != 0.0:
                    if count < K:
                        index[i, p, count], value[i, p, count] = k, row[k]
                    count += 1
            most = max(most, count)
    return most


def kernel_arrays(X: np.ndarray, K: int):
    """``(X_dense, index, value)`` as the kernels take them: dense ``X`` with empty lists,
    or an empty ``X`` with the lists."""
    n, P, _ = X.shape
    if K == 0:
        return X, np.zeros((n, P, 0), dtype=np.int32), np.zeros((n, P, 0), dtype=X.dtype)
    index, value = to_sparse(X, K)
    return np.zeros((n, P, 0), dtype=X.dtype), index, value
