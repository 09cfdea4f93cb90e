"""SPEC §2: the two-layer CNN, its logistic loss and analytic gradient, in numba.

``f(W,x) = F_{+1}(W_{+1},x) − F_{−1}(W_{−1},x)``,
``F_j = c·Σ_{r=1..m} Σ_{p=1..P} σ(⟨w_{j,r}, x^(p)⟩ + b_{j,r})`` with ``σ(z) = max(z,0)^q``
(``relu``) or ``σ(z) = z`` (``linear``). Loss ``ℓ(y f) = log(1 + e^{−y f})`` averaged over the
batch, plus ``(λ₂/2)·‖θ‖²`` (coupled L2 on all parameters θ). Gradient
``∂ℓ/∂w_{j,r} = ℓ'(y f)·y·j·c·Σ_p σ'(⟨w_{j,r},x^(p)⟩ + b_{j,r})·x^(p)``, ``ℓ'(z) = −1/(1+e^z)``.

Layout: the ``U = 2m`` filters are "units" ``u = j·m + r`` (``j = 0`` is the ``+1`` class).
The flat parameter vector is ``θ = [Wᵀ.ravel(), b]`` with ``Wᵀ`` of shape ``(d, U)``
(coordinate-major) and biases ``b`` of shape ``(U,)`` when on; :func:`unflatten` gives
``W (2, m, d)`` and ``b (2, m)``. Coordinate-major storage makes every inner loop run over
the units, contiguous and vectorisable without reassociating any sum. Patch data come as a
triple ``(X, index, value)``: dense ``X (n, P, d)`` with empty lists, or sparse padded lists
``index, value (n, P, K)`` of each patch's non-zeros (padding has value 0) with an empty
``X`` (see ``patches``). Dense batches are handled as ``nb·P`` rows: ``Z = rows·Wᵀ`` and
``∇Wᵀ = rowsᵀ·A``, for small batches by loops over coordinates (every pre-activation summed
in coordinate order, as for one sample: the same bits as the sparse lists), from
``BLAS_MIN_WORK`` multiply-adds by single-thread BLAS on the dense rows while rows with few
non-zeros (a signal patch ``y·μ`` has one) go through their non-zero lists; BLAS results are
deterministic on one installation and may differ in the last bits between BLAS builds.
Non-finite values propagate (NaN is never clipped to 0) so divergence is detected.
"""
from __future__ import annotations

import math

import numpy as np

from .jit import kernel

RELU, LINEAR = 0, 1
ACTIVATIONS = ("relu", "linear")
#: Dense batches with at least this many multiply-adds per pass (``nb·P·2m·d``) go through
#: BLAS matrix products instead of the coordinate loops.
BLAS_MIN_WORK = 200_000
#: In a BLAS batch, rows with at most ``d // SPARSE_ROW_FRACTION`` non-zeros (a signal patch
#: has one) go through their non-zero lists instead; only the other rows enter the products.
SPARSE_ROW_FRACTION = 8
#: Dense rows gathered per BLAS call (32 MB at d = 4000 in float64).
BLAS_CHUNK = 1024


def n_params(m: int, d: int, bias: bool) -> int:
    return 2 * m * d + (2 * m if bias else 0)


def flatten(W: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """``W (2, m, d)`` and optional ``b (2, m)`` → flat ``θ`` in the kernel layout."""
    two, m, d = W.shape
    parts = [W.reshape(2 * m, d).T.ravel()]
    if b is not None:
        parts.append(np.asarray(b).ravel())
    return np.concatenate(parts)


def unflatten(theta: np.ndarray, m: int, d: int, bias: bool):
    """Flat ``θ`` → ``(W (2, m, d), b (2, m) or None)``."""
    U = 2 * m
    W = theta[: U * d].reshape(d, U).T.reshape(2, m, d)
    return W, (theta[U * d:].reshape(2, m) if bias else None)


@kernel(inline="always")
def activation(z, act, q):
    """``(σ(z), σ'(z))``; NaN passes through as NaN."""
    if act == LINEAR:
        return z, 1.0
    if z > 0.0:
        if q == 1.0:
            return z, 1.0
        if q == 2.0:
            return z * z, 2.0 * z
        if q == 3.0:
            return z * z * z, 3.0 * z * z
        return z ** q, q * z ** (q - 1.0)
    if z <= 0.0:
        return 0.0, 0.0
    return z, z


@kernel(inline="always")
def softplus(z):
    """``log(1 + e^z)`` computed stably."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@kernel(inline="always")
def _list_length(value, i, p):
    """Slots of list ``(i, p)`` up to and including its last non-zero value.

    Padding trails the non-zeros (``patches.to_sparse``); a zero slot before the last
    non-zero, were there one, adds an exact zero. Looping to this length instead of testing
    every value keeps the branch out of the unit loops, which then run ~3× faster."""
    n = 0
    for e in range(value.shape[2]):
        n = max(n, e + 1 if value[i, p, e] != 0.0 else 0)
    return n


@kernel(inline="always")
def weight_views(w, U, has_bias):
    """``(Wᵀ (d, U), b (U,))`` as views of flat ``θ``; ``b`` is empty without biases.

    The sparse-list helpers below take these views and whole ``(n, P, K)`` list arrays with
    the list's ``(i, p)``: no per-patch array views (each costs reference counting) and no
    per-patch division to recover ``d``."""
    d = (w.size - (U if has_bias else 0)) // U
    return w[: d * U].reshape(d, U), w[d * U:]


@kernel(inline="always")
def preactivations(Wt, b, index, value, i, p, z):
    """``z[u] = ⟨w_u, x⟩ (+ b_u)`` for every unit, from the non-zeros of list ``(i, p)``.

    Each ``z[u]`` is summed over the list in order, four entries per pass:
    ``((((z + a₀) + a₁) + a₂) + a₃)`` rounds as four separate passes do."""
    U = z.size
    for u in range(U):
        z[u] = b[u] if b.size > 0 else 0.0
    n = _list_length(value, i, p)
    n4 = n - n % 4
    for e in range(0, n4, 4):
        x0, x1, x2, x3 = value[i, p, e], value[i, p, e + 1], value[i, p, e + 2], value[i, p, e + 3]
        k0, k1, k2, k3 = index[i, p, e], index[i, p, e + 1], index[i, p, e + 2], index[i, p, e + 3]
        for u in range(U):
            z[u] = (((z[u] + Wt[k0, u] * x0) + Wt[k1, u] * x1) + Wt[k2, u] * x2) + Wt[k3, u] * x3
    for e in range(n4, n):
        x0, k0 = value[i, p, e], index[i, p, e]
        for u in range(U):
            z[u] += Wt[k0, u] * x0


@kernel(inline="always")
def accumulate(G, gb, index, value, i, p, a):
    """``∇w_u += a[u]·x`` (and ``a[u]`` into the bias gradient ``gb``, if not empty) for every
    unit, from the non-zeros of list ``(i, p)``; ``G`` is the ``(d, U)`` view of ``∇Wᵀ``."""
    U = a.size
    if gb.size > 0:
        for u in range(U):
            gb[u] += a[u]
    for e in range(_list_length(value, i, p)):
        x0, k0 = value[i, p, e], index[i, p, e]
        for u in range(U):
            G[k0, u] += a[u] * x0


@kernel(inline="always")
def margin(Wt, b, index, value, i, act, q, c, z, slopes):
    """``f(W, x_i)`` from sample ``i``'s sparse lists; writes ``σ'`` of every unit into
    ``slopes (P, U)``."""
    P, U = slopes.shape
    m = U // 2
    f = 0.0
    for p in range(P):
        preactivations(Wt, b, index, value, i, p, z)
        for u in range(U):
            s, ds = activation(z[u], act, q)
            f += c * s if u < m else -c * s
            slopes[p, u] = ds
    return f


@kernel
def _uses_blas(rows, d, U):
    """Whether products of ``rows`` dense rows with ``Wᵀ (d, U)`` are big enough for BLAS."""
    return rows * d * U >= BLAS_MIN_WORK


@kernel(inline="always")
def _block_count(row, k0):
    """Non-zeros among ``row[k0:k0 + 64]`` (a loop that vectorises)."""
    block = row[k0:k0 + 64]
    count = 0
    for k in range(block.size):
        count += 1 if block[k] != 0.0 else 0
    return count


@kernel
def _split_rows(X, batch, nb):
    """Row ``r = b·P + p`` of a dense batch is patch ``p`` of sample ``batch[b]``. Splits the
    rows into dense ones and sparse ones (at most ``d // SPARSE_ROW_FRACTION`` non-zeros, as
    a signal patch ``y·μ`` with its single one), each in ascending order.

    Returns ``(dense, sparse, index, value)``: row numbers, and the sparse rows' non-zero
    lists ``index, value (len(sparse), 1, K)`` as ``patches`` pads them (one patch per row).
    Rows are scanned in blocks of 64 coordinates; a dense row stops after its first blocks,
    and only blocks holding non-zeros are read element by element."""
    n, P, d = X.shape
    limit = d // SPARSE_ROW_FRACTION
    rows = nb * P
    blocks = -(-d // 64)
    counts = np.zeros((rows, blocks), dtype=np.int64)
    sparse_rows = np.zeros(rows, dtype=np.bool_)
    n_sparse, K = 0, 0
    for r in range(rows):
        row, total = X[batch[r // P], r % P], 0
        for block in range(blocks):
            counts[r, block] = _block_count(row, 64 * block)
            total += counts[r, block]
            if total > limit:
                break
        if total <= limit:
            sparse_rows[r] = True
            n_sparse += 1
            K = max(K, total)
    dense = np.empty(rows - n_sparse, dtype=np.int64)
    sparse = np.empty(n_sparse, dtype=np.int64)
    index = np.zeros((n_sparse, 1, K), dtype=np.int32)
    value = np.zeros((n_sparse, 1, K), dtype=X.dtype)
    i, j = 0, 0
    for r in range(rows):
        if not sparse_rows[r]:
            dense[i] = r
            i += 1
            continue
        sparse[j] = r
        row, e = X[batch[r // P], r % P], 0
        for block in range(blocks):
            if counts[r, block] > 0:
                for k in range(64 * block, min(64 * block + 64, d)):
                    if row[k] != 0.0:
                        index[j, 0, e], value[j, 0, e] = k, row[k]
                        e += 1
        j += 1
    return dense, sparse, index, value


@kernel
def _whole_set(batch, nb, n):
    """Whether ``batch[:nb]`` is every sample in order (a full batch)."""
    if nb != n:
        return False
    for b in range(nb):
        if batch[b] != b:
            return False
    return True


@kernel
def _gather_rows(X, batch, nb, rows, out):
    """``out[i] = `` row ``rows[i]`` of the batch; a view of ``X`` instead when the batch is
    the whole set in order and ``rows`` a run of consecutive rows."""
    n, P, d = X.shape
    k = rows.size
    if k > 0 and rows[k - 1] - rows[0] == k - 1 and _whole_set(batch, nb, n):
        return X.reshape(n * P, d)[rows[0]:rows[0] + k]
    for i in range(k):
        source, target = X[batch[rows[i] // P], rows[i] % P], out[i]
        for j in range(d):
            target[j] = source[j]
    return out[:k]


@kernel
def _batch_rows(X, batch, nb):
    """The ``(nb·P, d)`` rows of ``X[batch[:nb]]`` (a view for the whole set in order)."""
    n, P, d = X.shape
    if _whole_set(batch, nb, n):
        return X.reshape(n * P, d)
    rows = np.empty((nb * P, d), dtype=X.dtype)
    for b in range(nb):
        rows[b * P:(b + 1) * P] = X[batch[b]]
    return rows


@kernel
def _rows_times_weights(rows, w, U, Z):
    """``Z[row, u] += Σ_k rows[row, k]·Wᵀ[k, u]``, ``k`` ascending for every entry.

    Four coordinates per pass: ``((((Z + a₀) + a₁) + a₂) + a₃)`` rounds exactly as four
    separate passes do, with a quarter of the loads and stores of ``Z``. (Rows of ``Wᵀ`` and
    ``Z`` are taken as 1-d views: the loops over them vectorise far better than flat
    indexing.)"""
    r, d = rows.shape
    Wt = w[: d * U].reshape(d, U)
    d4 = d - d % 4
    for k in range(0, d4, 4):
        w0, w1, w2, w3 = Wt[k], Wt[k + 1], Wt[k + 2], Wt[k + 3]
        for row in range(r):
            x0, x1, x2, x3 = rows[row, k], rows[row, k + 1], rows[row, k + 2], rows[row, k + 3]
            z = Z[row]
            for u in range(U):
                z[u] = (((z[u] + w0[u] * x0) + w1[u] * x1) + w2[u] * x2) + w3[u] * x3
    for k in range(d4, d):
        w0 = Wt[k]
        for row in range(r):
            x0 = rows[row, k]
            z = Z[row]
            for u in range(U):
                z[u] += w0[u] * x0


@kernel
def _rows_transposed_times(rows, A, grad):
    """``grad[k·U + u] = Σ_row rows[row, k]·A[row, u]``, rows ascending for every entry
    (four rows per pass, rounding as one row at a time)."""
    r, d = rows.shape
    U = A.shape[1]
    G = grad[: d * U].reshape(d, U)
    r4 = r - r % 4
    for k in range(d):
        g = G[k]
        g[:] = 0.0
        for row in range(0, r4, 4):
            x0, x1, x2, x3 = rows[row, k], rows[row + 1, k], rows[row + 2, k], rows[row + 3, k]
            a0, a1, a2, a3 = A[row], A[row + 1], A[row + 2], A[row + 3]
            for u in range(U):
                g[u] = (((g[u] + a0[u] * x0) + a1[u] * x1) + a2[u] * x2) + a3[u] * x3
        for row in range(r4, r):
            x0 = rows[row, k]
            a0 = A[row]
            for u in range(U):
                g[u] += a0[u] * x0


@kernel
def dense_split(X, batch, nb, U):
    """What every step of a full batch shares on the BLAS path: the row split of
    :func:`_split_rows` and, when the dense rows fit one chunk, those rows gathered
    (``(dense, sparse, index, value, gathered)``; ``loss_and_grad``'s ``rows``). Empty when
    the batch takes the loops (or ``nb = 0``)."""
    n, P, d = X.shape
    gathered = np.empty((0, d), dtype=X.dtype)
    if not _uses_blas(nb * P, d, U):
        empty = np.empty(0, dtype=np.int64)
        return (empty, empty, np.empty((0, 1, 0), dtype=np.int32),
                np.empty((0, 1, 0), dtype=X.dtype), gathered)
    dense, sparse, index, value = _split_rows(X, batch, nb)
    if dense.size <= BLAS_CHUNK:
        gathered = _gather_rows(X, batch, nb, dense, np.empty((dense.size, d), dtype=X.dtype))
    return dense, sparse, index, value, gathered


@kernel
def _split_of(X, batch, nb, U, rows):
    """``rows`` if it is a split of ``nb`` samples' rows, else the split computed here."""
    if rows is not None:
        if rows[0].size + rows[1].size == nb * X.shape[1]:
            return rows
    return dense_split(X, batch, nb, U)


@kernel
def _dense_preactivations(w, X, batch, nb, has_bias, U, split):
    """``Z = rows·Wᵀ (+ b)`` for the ``nb·P`` rows of a dense batch (row ``b·P + p``).

    Small batches: coordinate loops, ``k`` outermost (each ``Wᵀ`` row read once per batch;
    each ``Z[row, u]`` summed in ``k`` order, as for a sparse list). Others: the sparse rows
    of ``split`` (:func:`dense_split`) through their lists and the dense ones in chunks of
    ``BLAS_CHUNK`` gathered rows through BLAS. Returns ``(Z, rows)``: the loops' row matrix
    or the last chunk."""
    n, P, d = X.shape
    Wt, bias = weight_views(w, U, has_bias)
    Z = np.empty((nb * P, U), dtype=X.dtype)
    if not _uses_blas(nb * P, d, U):
        rows = _batch_rows(X, batch, nb)
        if has_bias:
            Z[:] = w[d * U:]
        else:
            Z[:] = 0.0
        _rows_times_weights(rows, w, U, Z)
        return Z, rows
    dense, sparse, index, value, gathered = split
    single = gathered.shape[0] == dense.size
    chunk = gathered if single else np.empty((min(BLAS_CHUNK, dense.size), d), dtype=X.dtype)
    rows = chunk
    for c0 in range(0, dense.size, BLAS_CHUNK):
        part = dense[c0:c0 + BLAS_CHUNK]
        if not single:
            rows = _gather_rows(X, batch, nb, part, chunk)
        products = np.dot(rows, Wt)
        for i in range(part.size):
            z, product = Z[part[i]], products[i]
            for u in range(U):
                z[u] = product[u] + w[d * U + u] if has_bias else product[u]
    for j in range(sparse.size):
        preactivations(Wt, bias, index, value, j, 0, Z[sparse[j]])
    return Z, rows


@kernel
def _dense_margins(w, X, y, batch, nb, act, q, c, has_bias, U, split):
    """Margins ``y·f`` of ``X[batch[:nb]]``; ``Z`` overwritten with the slopes ``σ'``.

    Returns ``(yf, slopes, rows)`` (see :func:`_dense_preactivations`)."""
    n, P, d = X.shape
    m = U // 2
    Z, rows = _dense_preactivations(w, X, batch, nb, has_bias, U, split)
    yf = np.zeros(nb)
    for b in range(nb):
        f = 0.0
        for p in range(P):
            z = Z[b * P + p]
            for u in range(U):
                s, ds = activation(z[u], act, q)
                f += c * s if u < m else -c * s
                z[u] = ds
        yf[b] = y[batch[b]] * f
    return yf, Z, rows


@kernel
def _dense_weight_gradient(X, batch, A, rows, split, has_bias, grad, U):
    """``∇Wᵀ = rowsᵀ·A`` and the bias gradient ``Σ_rows A``, by the same path as the forward
    pass: loops summing rows in order, or BLAS per chunk of dense rows (chunks in order; a
    single chunk is still in ``rows``) plus the sparse rows' lists after them."""
    n, P, d = X.shape
    nb = A.shape[0] // P
    G, gb = weight_views(grad, U, has_bias)
    if not _uses_blas(A.shape[0], d, U):
        _rows_transposed_times(rows, A, grad)
        if has_bias:
            grad[d * U:] = 0.0
            for row in range(A.shape[0]):
                for u in range(U):
                    grad[d * U + u] += A[row, u]
        return
    dense, sparse, index, value = split[:4]
    if dense.size == 0:
        G[:] = 0.0
    chunk = rows if dense.size <= BLAS_CHUNK else np.empty((BLAS_CHUNK, d), dtype=X.dtype)
    for c0 in range(0, dense.size, BLAS_CHUNK):
        part = dense[c0:c0 + BLAS_CHUNK]
        if dense.size > BLAS_CHUNK:
            rows = _gather_rows(X, batch, nb, part, chunk)
        coefficients = np.empty((part.size, U), dtype=X.dtype)
        for i in range(part.size):
            source, target = A[part[i]], coefficients[i]
            for u in range(U):
                target[u] = source[u]
        if c0 == 0:
            np.dot(rows.T, coefficients, G)
        else:
            G += np.dot(rows.T, coefficients)
    if has_bias:
        grad[d * U:] = 0.0
        for i in range(dense.size):
            for u in range(U):
                grad[d * U + u] += A[dense[i], u]
    for j in range(sparse.size):
        accumulate(G, gb, index, value, j, 0, A[sparse[j]])


@kernel
def _dense_loss_and_grad(w, X, y, batch, nb, act, q, c, has_bias, grad, U, split):
    """Mean logistic loss of a dense batch and its gradient ``∇Wᵀ = rowsᵀ·A``."""
    n, P, d = X.shape
    m = U // 2
    yf, A, rows = _dense_margins(w, X, y, batch, nb, act, q, c, has_bias, U, split)
    total = 0.0
    for b in range(nb):
        if not math.isfinite(yf[b]):
            return math.nan
        total += softplus(-yf[b])
        coef = -y[batch[b]] * c / (1.0 + math.exp(yf[b])) / nb
        for p in range(P):
            for u in range(U):
                A[b * P + p, u] *= coef if u < m else -coef
    _dense_weight_gradient(X, batch, A, rows, split, has_bias, grad, U)
    return total / nb


@kernel
def loss_and_grad(w, X, XI, XV, y, batch, nb, act, q, c, has_bias, l2, grad, z, slopes, a,
                  rows=None):
    """Mean logistic loss over ``batch[:nb]`` (plus L2) and its gradient into ``grad``.

    Returns the loss; a non-finite margin makes it non-finite (NaN). ``rows``, optional:
    :func:`dense_split` of this batch (computed here when absent or not for ``nb`` samples),
    which every step of a dense full batch can share.
    """
    P, U = slopes.shape
    m = U // 2
    if XI.shape[2] == 0:
        split = _split_of(X, batch, nb, U, rows)
        total = _dense_loss_and_grad(w, X, y, batch, nb, act, q, c, has_bias, grad, U, split)
        return _add_l2(w, grad, l2, total)
    grad[:] = 0.0
    total = sparse_loss_and_grad(w, XI, XV, y, batch, nb, act, q, c, has_bias, grad, z, slopes, a)
    return _add_l2(w, grad, l2, total)


@kernel
def sparse_loss_and_grad(w, XI, XV, y, batch, nb, act, q, c, has_bias, grad, z, slopes, a):
    """:func:`loss_and_grad` on sparse lists without L2, adding the gradient into ``grad``
    (zero on entry): only the rows of the batch's non-zero coordinates and the biases are
    written, so :func:`clear_batch_rows` restores a zero gradient."""
    P, U = slopes.shape
    m = U // 2
    Wt, b = weight_views(w, U, has_bias)
    G, gb = weight_views(grad, U, has_bias)
    total = 0.0
    for k in range(nb):
        i = batch[k]
        yf = y[i] * margin(Wt, b, XI, XV, i, act, q, c, z, slopes)
        if not math.isfinite(yf):
            return math.nan
        total += softplus(-yf)
        coef = -y[i] * c / (1.0 + math.exp(yf)) / nb
        for p in range(P):
            active = False
            for u in range(U):
                a[u] = (coef if u < m else -coef) * slopes[p, u]
                active = active or a[u] != 0.0
            if active:
                accumulate(G, gb, XI, XV, i, p, a)
    return total / nb


@kernel
def clear_batch_rows(grad, XI, XV, batch, nb, has_bias, U):
    """Zero what :func:`sparse_loss_and_grad` wrote for ``batch[:nb]``: the gradient rows of
    its non-zero coordinates, and the biases."""
    G, gb = weight_views(grad, U, has_bias)
    for k in range(nb):
        i = batch[k]
        for p in range(XI.shape[1]):
            for e in range(_list_length(XV, i, p)):
                G[XI[i, p, e]] = 0.0
    gb[:] = 0.0


@kernel
def _add_l2(w, grad, l2, loss):
    """Coupled L2: ``grad += λ₂ θ``; returns ``loss + (λ₂/2)‖θ‖²``."""
    if l2 == 0.0:
        return loss
    sq = 0.0
    for k in range(w.size):
        sq += w[k] * w[k]
        grad[k] += l2 * w[k]
    return loss + 0.5 * l2 * sq


@kernel
def set_margins(w, X, XI, XV, y, act, q, c, has_bias, z, slopes):
    """Margins ``y_i·f(θ, x_i)`` of every point of a whole set (dense rows through
    :func:`dense_split`'s path, sparse lists one sample at a time)."""
    n = y.size
    if XI.shape[2] == 0:
        everyone = np.arange(n)
        split = dense_split(X, everyone, n, z.size)
        return _dense_margins(w, X, y, everyone, n, act, q, c, has_bias, z.size, split)[0]
    Wt, b = weight_views(w, z.size, has_bias)
    margins = np.empty(n)
    for i in range(n):
        margins[i] = y[i] * margin(Wt, b, XI, XV, i, act, q, c, z, slopes)
    return margins


@kernel
def loss_and_error(w, X, XI, XV, y, act, q, c, has_bias, z, slopes):
    """Mean logistic loss and 0-1 error (``y·f ≤ 0`` counts as an error) over a whole set."""
    margins = set_margins(w, X, XI, XV, y, act, q, c, has_bias, z, slopes)
    loss = 0.0
    wrong = 0
    for yf in margins:
        loss += softplus(-yf)
        if not (yf > 0.0):
            wrong += 1
    return loss / y.size, wrong / y.size
