"""A run as a pure function of its config, and many runs of one shape in one numba call.

``train(config)`` draws the data and initialisation from the config's seeds, trains, and
returns a :class:`RunResult` holding the logged trajectory. ``train_many(configs)`` groups
configs by array shape and trains each group with parallel ``train_batch`` calls of a few
runs per thread, drawing later runs' data on worker threads meanwhile; its results are
bit-identical to calling ``train`` on each config alone.

Parallelism is over independent runs only. The BLAS library (used for large dense batches,
see ``network.BLAS_MIN_WORK``) is held to one thread while training: a multi-threaded BLAS
splits its reductions by thread count, which would make results depend on it.
"""
from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from . import training as tr
from .config import RunConfig
from .data import PatchData, generate, training_set
from .metrics import METRICS
from .network import ACTIVATIONS, flatten, unflatten
from .optimizers import N_DIAG, N_STATE, get_optimizer, kind_of, packed_hyper
from .patches import kernel_arrays, slots


@dataclass(frozen=True)
class RunInputs:
    """Everything ``train_run`` reads for one run (arrays in the run's dtype); ``train_arrays``
    and ``test_arrays`` are the ``(X, index, value)`` triples the kernels take."""

    train: PatchData
    test: PatchData
    train_arrays: tuple
    test_arrays: tuple
    params: np.ndarray
    hyper: np.ndarray
    ints: np.ndarray
    floats: np.ndarray


def init_params(config: RunConfig, dtype) -> np.ndarray:
    """Initial flat ``θ``: ``w ~ N(0, σ_0² I)`` with zero biases, or PyTorch ``Conv1d``'s
    default ``U(±1/√d)`` for weights and biases (drawn in ``W (2, m, d)`` order)."""
    model, d = config.model, config.data.d
    rng = np.random.Generator(np.random.PCG64(config.stream_seed("init")))
    shape = (2, model.m, d)
    if model.init == "normal":
        W = rng.normal(0.0, model.sigma0, size=shape)
        b = np.zeros((2, model.m))
    else:
        bound = 1.0 / math.sqrt(d)
        W = rng.uniform(-bound, bound, size=shape)
        b = rng.uniform(-bound, bound, size=(2, model.m))
    return flatten(W, b if model.bias else None).astype(dtype)


def prepare(config: RunConfig, keep_dense: bool = True) -> RunInputs:
    """Draw data, test data and initialisation; pack the per-run settings.

    With ``keep_dense = False`` the data sets' dense patches ``X`` are dropped (an empty
    ``(n, P, 0)`` array) when the kernels read sparse lists: what a batch of many runs keeps
    in memory is then only what the kernels read."""
    dtype = np.dtype(config.model.dtype)
    data, model, train = config.data, config.model, config.train
    ints = np.zeros(tr.N_INTS, dtype=np.int64)
    ints[tr.I_KIND] = kind_of(config.optimizer.name)
    ints[tr.I_ACT] = ACTIVATIONS.index(model.activation)
    ints[tr.I_M] = model.m
    ints[tr.I_BIAS] = int(model.bias)
    ints[tr.I_BATCH] = config.batch_size
    ints[tr.I_SAMPLING] = tr.SAMPLINGS.index(train.sampling)
    ints[tr.I_SCHEDULE] = tr.SCHEDULES.index(train.schedule)
    ints[tr.I_STEP_SIZE] = train.step_size
    ints[tr.I_SEED] = config.stream_seed("batch")
    floats = np.zeros(tr.N_FLOATS)
    floats[tr.F_Q] = model.q
    floats[tr.F_C] = model.output_scale(data.patches)
    floats[tr.F_LR] = config.optimizer.lr
    floats[tr.F_GAMMA] = train.gamma
    floats[tr.F_L2] = train.l2
    train_data = training_set(data, config.stream_seed("data"), dtype=dtype)
    test_data = generate(data, data.n_test, config.stream_seed("test"), balanced=False, dtype=dtype)
    train_arrays = kernel_arrays(train_data.X, slots(data))
    test_arrays = kernel_arrays(test_data.X, slots(data))
    if not keep_dense and slots(data):
        train_data = replace(train_data, X=train_arrays[0])
        test_data = replace(test_data, X=test_arrays[0])
    return RunInputs(
        train=train_data, test=test_data, train_arrays=train_arrays, test_arrays=test_arrays,
        params=init_params(config, dtype),
        hyper=packed_hyper(config.optimizer.hyper),
        ints=ints, floats=floats)


@dataclass(frozen=True)
class RunResult:
    """One run's logged trajectory.

    ``steps[i]`` is the step of log row ``i``; ``metrics[i, j]`` the value of ``METRICS[j]``;
    ``memorisation[i]`` the per-sample ``max_r ρ_{i,r}``; ``diagnostics[i]`` the optimiser's
    diagnostics (names in ``diagnostic_names``) averaged over the steps since the last row.
    Rows after a divergence are dropped.
    """

    config: RunConfig
    steps: np.ndarray
    metrics: np.ndarray
    memorisation: np.ndarray
    diagnostics: np.ndarray
    diagnostic_names: tuple
    diverged_at: int | None
    steps_done: int
    params: np.ndarray

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def weights(self):
        """Final ``(W (2, m, d), b (2, m) or None)``; row ``j = 0`` is the ``+1`` class."""
        return unflatten(self.params, self.config.model.m, self.config.data.d, self.config.model.bias)

    def metric(self, name: str) -> np.ndarray:
        return self.metrics[:, METRICS.index(name)]

    def diagnostic_means(self) -> dict:
        """Each optimiser diagnostic averaged over every step trained: the window means of the
        log rows weighted by their window lengths (NaN when no window was logged)."""
        widths = np.diff(self.steps).astype(np.float64)
        out = {}
        for j, name in enumerate(self.diagnostic_names):
            values = self.diagnostics[1:, j]
            kept = np.isfinite(values) & (widths > 0)
            out[name] = (float(np.dot(values[kept], widths[kept]) / widths[kept].sum())
                         if kept.any() else math.nan)
        return out

    def never_adaptive(self) -> bool:
        """A HomeAdam run whose every logged window went home (global rule: every step;
        element-wise rule: every coordinate at every step): it took no adaptive step and was
        momentum SGD throughout. False for other optimisers."""
        if "home_share" not in self.diagnostic_names:
            return False
        share = self.diagnostics[1:, self.diagnostic_names.index("home_share")]
        share = share[np.isfinite(share)]
        return share.size > 0 and bool(np.all(share == 1.0))

    def warnings(self) -> list[str]:
        """Plain-language cautions about how to read this run."""
        if not self.never_adaptive():
            return []
        hyper = self.config.optimizer.hyper
        why = ("min v̂ stayed below tau (e.g. on sparse data, where a coordinate that never "
               "receives a gradient keeps v̂ = 0)" if hyper.rule == "global"
               else "every coordinate's v̂ stayed below tau")
        return [f"{self.config.optimizer.name} (rule {hyper.rule}, tau = {hyper.tau:g}) went "
                f"home at every step: {why}; the run took no adaptive step and was momentum "
                "SGD throughout"]

    def final(self) -> dict:
        """The last logged row as the JSON summary's ``final`` object."""
        row = dict(zip(METRICS, self.metrics[-1].tolist()))
        return {
            **{k: row[k] for k in ("train_loss", "train_error", "test_loss", "test_error", "gap")},
            "feature_learning": [row["feature_pos"], row["feature_neg"]],
            "noise_memorization": {"mean": row["noise_mean"], "min": row["noise_min"],
                                   "max": row["noise_max"]},
            "weight_norm": row["weight_norm"],
        }


def shape_key(config: RunConfig) -> tuple:
    """Configs with equal keys batch into one ``train_batch`` call (the sparse-list width
    ``slots`` is part of the shape: dense and sparse data, or sparse data with different
    ``s``, stack into different arrays)."""
    d = config.data
    return (d.n, d.n_test, d.patches, d.d, slots(d), config.model.m, config.model.bias,
            config.model.dtype, tuple(config.log_steps()))


def train_many(configs: Sequence[RunConfig], progress: Callable[[int], None] | None = None
               ) -> list[RunResult]:
    """Train every config; runs of one shape go through parallel numba calls together.

    ``progress``, if given, is called with the number of steps (summed over runs) completed
    since its last call; training then proceeds in about 100 slices per batch of runs, which
    does not change any result."""
    return by_shape(configs, [shape_key(c) for c in configs], lambda group: _train_group(group, progress))


def by_shape(items: Sequence, keys: Sequence, train_group: Callable[[list], list]) -> list:
    """``train_group`` applied to the items of each distinct key (in order of first
    appearance), the results put back in the order of ``items``."""
    groups: dict[tuple, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    results = [None] * len(items)
    for indices in groups.values():
        for index, result in zip(indices, train_group([items[i] for i in indices])):
            results[index] = result
    return results


def train(config: RunConfig, progress: Callable[[int], None] | None = None) -> RunResult:
    """Train one run (a pure function of ``config``)."""
    return train_many([config], progress)[0]


def _slices(log_steps: np.ndarray, progress) -> np.ndarray:
    """Steps at which control returns to Python: the end, or ~100 points for progress."""
    total = int(log_steps[-1])
    if progress is None:
        return np.array([total])
    return np.unique(np.linspace(0, total, 101).astype(np.int64)[1:])


def _prepare_all(configs: list[RunConfig]) -> list[RunInputs]:
    """``prepare`` every config (without dense copies of sparse data), on as many threads as
    numba uses (NumPy's generators and sorts release the GIL; each config's draws depend only
    on its own seeds)."""
    slim = functools.partial(prepare, keep_dense=False)
    if len(configs) == 1:
        return [slim(configs[0])]
    with ThreadPoolExecutor(max_workers=numba.get_num_threads()) as pool:
        return list(pool.map(slim, configs))


@dataclass
class PackedGroup:
    """The stacked arrays of runs of one shape, as ``training.train_batch`` takes them.

    ``inputs`` are the read-only per-run inputs up to ``log_steps`` (parameters and optimiser
    state are advanced in place), ``loop_state`` the resumable ``(cursor, order, diag_sum)``
    and ``outputs`` the preallocated logs ``(logged, metrics, memorisation, diagnostics)``."""

    configs: list
    inputs: tuple
    loop_state: tuple
    outputs: tuple

    @property
    def params(self) -> np.ndarray:
        return self.inputs[6]

    @property
    def cursor(self) -> np.ndarray:
        return self.loop_state[0]

    def results(self, memorisation: bool = True) -> list[RunResult]:
        """One :class:`RunResult` per run, from the logs as they stand; with
        ``memorisation = False`` the per-sample memorisation log (``rows × n`` per run) is
        left out (an empty ``(rows, 0)`` array)."""
        logged, metrics, per_sample, diagnostics = self.outputs
        if not memorisation:
            per_sample = per_sample[:, :, :0]
        cursor, params = self.cursor, self.params
        out = []
        for r, config in enumerate(self.configs):
            rows = logged[r] >= 0
            names = get_optimizer(config.optimizer.name).diagnostics
            diverged_at = int(cursor[r, tr.C_DIVERGED])
            out.append(RunResult(
                config=config, steps=logged[r, rows], metrics=metrics[r, rows],
                memorisation=per_sample[r, rows], diagnostics=diagnostics[r, rows, : len(names)],
                diagnostic_names=names, diverged_at=None if diverged_at < 0 else diverged_at,
                steps_done=int(cursor[r, tr.C_DONE]), params=params[r].astype(np.float64)))
        return out


def pack_group(configs: list[RunConfig], inputs: list[RunInputs] | None = None) -> PackedGroup:
    """Stack the runs' inputs (drawn here on worker threads unless given) for one batched
    call; every config must have the same :func:`shape_key`."""
    if inputs is None:
        inputs = _prepare_all(configs)
    log_steps = configs[0].log_steps()
    R, L, n = len(configs), log_steps.size, configs[0].data.n
    stack = lambda get: np.ascontiguousarray(np.stack([get(x) for x in inputs]))
    triple = lambda get: tuple(stack(lambda x: get(x)[i]) for i in range(3))
    params = stack(lambda x: x.params)
    arrays = (triple(lambda x: x.train_arrays), stack(lambda x: x.train.y),
              triple(lambda x: x.test_arrays), stack(lambda x: x.test.y),
              stack(lambda x: x.train.direction.astype(x.params.dtype)),
              stack(lambda x: x.train.noise), params,
              np.zeros((R, N_STATE, params.shape[1]), dtype=params.dtype),
              stack(lambda x: x.hyper), stack(lambda x: x.ints), stack(lambda x: x.floats),
              log_steps)
    cursor = np.zeros((R, tr.N_CURSOR), dtype=np.int64)
    cursor[:, tr.C_DIVERGED] = -1
    loop_state = (cursor, np.empty((R, n), dtype=np.int64), np.zeros((R, N_DIAG)))
    outputs = (np.empty((R, L), dtype=np.int64), np.empty((R, L, len(METRICS))),
               np.empty((R, L, n)), np.empty((R, L, N_DIAG)))
    return PackedGroup(list(configs), arrays, loop_state, outputs)


#: Runs per ``train_batch`` call, per numba thread, when a group trains on several threads.
RUNS_PER_THREAD = 4


def _train_group(configs: list[RunConfig], progress) -> list[RunResult]:
    """Train one group of same-shape runs. On one numba thread, or with no more runs than one
    chunk: draw every run's data, then train them in one call. Otherwise ``prepare`` the
    configs on as many worker threads and train in chunks of ``RUNS_PER_THREAD`` runs per
    thread as their data arrive, so that drawing overlaps the training of earlier chunks
    instead of preceding all of it."""
    threads = numba.get_num_threads()
    size = RUNS_PER_THREAD * threads
    if threads == 1 or len(configs) <= size:
        return _train_chunk(pack_group(configs), progress)
    results: list[RunResult] = []
    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        pending = [pool.submit(prepare, config, False) for config in configs]
        for start in range(0, len(configs), size):
            inputs = [future.result() for future in pending[start:start + size]]
            results.extend(_train_chunk(pack_group(configs[start:start + size], inputs), progress))
    finally:  # an error (or an interrupt) drops the draws not yet started
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _train_chunk(group: PackedGroup, progress) -> list[RunResult]:
    """One ``train_batch`` call (sliced for ``progress``) over a packed group."""
    done = 0
    with threadpool_limits(limits=1, user_api="blas"):
        for until in _slices(group.inputs[-1], progress):
            tr.train_batch(*group.inputs, until, *group.loop_state, *group.outputs)
            if progress is not None:
                now = int(group.cursor[:, tr.C_DONE].sum())
                progress(now - done)
                done = now
    return group.results()
