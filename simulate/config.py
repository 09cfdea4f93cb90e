"""Run configuration: frozen dataclasses for the data, model, optimiser and training sections.

A run is a pure function of its :class:`RunConfig`. Configurations come from built-in presets
(:mod:`simulate.presets`) or TOML files, with ``section.key=value`` overrides; every value is
validated here and a bad one raises :class:`~simulate.fields.ConfigError` with a one-line
message naming the key, the value and what is allowed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np

from .fields import ConfigError, build, describe, field_names, rule, to_plain
from .optimizers import get_optimizer

_POS_INT = dict(kind="int", allowed="an integer ≥ 1", check=lambda v: v >= 1)
_POS_FLOAT = dict(kind="float", allowed="a number > 0", check=lambda v: v > 0)
_NONNEG_FLOAT = dict(kind="float", allowed="a number ≥ 0", check=lambda v: v >= 0)
_SEED = dict(kind="optional_int", allowed="an integer ≥ 0", check=lambda v: v >= 0)

STREAMS = ("data", "test", "init", "batch")


@dataclass(frozen=True)
class DataConfig:
    """SPEC §1: the sparse (1a, Zou/Tang) and dense (1b, Cao/Kou) feature-plus-noise models.

    ``replace_index = i`` makes the training set the neighbour ``S′`` of the set ``S`` the same
    seed draws (SPEC §6): sample ``i`` is replaced by an independent draw from the same
    distribution (seeded by ``replace_seed``, derived from the data seed and ``i`` when
    absent); every other sample, the test set, the initialisation and the batch order are
    unchanged, bit for bit."""

    kind: str = rule("sparse", "str", choices=("sparse", "dense"))
    n: int = rule(32, "int", "an integer ≥ 2", lambda v: v >= 2)
    n_test: int = rule(500, **_POS_INT)
    d: int = rule(200, **_POS_INT)
    patches: int = rule(2, "int", "an integer ≥ 2", lambda v: v >= 2)
    s: int = rule(20, **_POS_INT)
    sigma_p: float = rule(0.5, **_NONNEG_FLOAT)
    alpha: float = rule(0.1, "float", "in [0, 1)", lambda v: 0 <= v < 1)
    v_norm: float = rule(1.0, **_POS_FLOAT)
    mu_norm: float = rule(1.0, **_NONNEG_FLOAT)
    orthogonal: bool = rule(True, "bool")
    label_noise: float = rule(0.0, "float", "in [0, 0.5)", lambda v: 0 <= v < 0.5)
    balanced: bool = rule(False, "bool")
    replace_index: int | None = rule(None, "optional_int", "an integer ≥ 0", lambda v: v >= 0)
    replace_seed: int | None = rule(None, **_SEED)

    def __post_init__(self):
        if self.replace_index is not None and self.replace_index >= self.n:
            raise ConfigError(f"data.replace_index = {self.replace_index}: must be an integer in "
                              f"[0, n−1] = [0, {self.n - 1}]")
        if self.replace_seed is not None and self.replace_index is None:
            raise ConfigError("data.replace_seed: needs data.replace_index (the sample to replace)")
        if self.kind == "sparse" and self.s > self.d - 1:
            raise ConfigError(f"data.s = {self.s}: must be an integer in [1, d−1] = [1, {self.d - 1}]")
        if self.balanced and self.n % 2:
            raise ConfigError(f"data.n = {self.n}: must be even when data.balanced = true")


@dataclass(frozen=True)
class ModelConfig:
    """SPEC §2: the two-layer CNN ``f = F_{+1} − F_{−1}``, ``F_j = c·Σ_r Σ_p σ(⟨w_{j,r},x^(p)⟩ + b_{j,r})``."""

    m: int = rule(10, **_POS_INT)
    activation: str = rule("relu", "str", choices=("relu", "linear"))
    q: float = rule(3.0, "float", "a number ≥ 1", lambda v: v >= 1)
    scale: str = rule("one", "str", choices=("one", "1/m", "1/P"))
    init: str = rule("normal", "str", choices=("normal", "uniform"))
    sigma0: float = rule(0.01, **_POS_FLOAT)
    bias: bool = rule(False, "bool")
    dtype: str = rule("float64", "str", choices=("float64", "float32"))

    def output_scale(self, patches: int) -> float:
        """The constant ``c``: 1, 1/m or 1/P."""
        return {"one": 1.0, "1/m": 1.0 / self.m, "1/P": 1.0 / patches}[self.scale]


@dataclass(frozen=True)
class OptimizerConfig:
    """SPEC §4: the optimiser's name and its validated hyperparameter record."""

    name: str
    hyper: Any

    @property
    def lr(self) -> float:
        return self.hyper.lr

    def to_dict(self) -> dict:
        return {"name": self.name, **to_plain(self.hyper)}


@dataclass(frozen=True)
class TrainConfig:
    """SPEC §5: batching, length, coupled L2, learning-rate schedule and logging.

    ``batch_size = 0`` is full batch. Exactly one of ``epochs`` and ``steps`` is set; an epoch
    is ``⌈n/B⌉`` steps. Schedules: ``constant``; ``cosine`` ``η_t = η·(1+cos(π(t−1)/T))/2``;
    ``step`` ``η_t = η·gamma^⌊(t−1)/step_size⌋``. ``l2`` is λ₂ of ``(λ₂/2)‖W‖²`` in the
    objective. ``log_every`` defaults to about 50 log points.
    """

    batch_size: int = rule(0, "int", "an integer ≥ 0 (0 = full batch)", lambda v: v >= 0)
    epochs: int | None = rule(None, "optional_int", "an integer ≥ 1", lambda v: v >= 1)
    steps: int | None = rule(200, "optional_int", "an integer ≥ 1", lambda v: v >= 1)
    sampling: str = rule("reshuffle", "str", choices=("reshuffle", "replacement"))
    schedule: str = rule("constant", "str", choices=("constant", "cosine", "step"))
    step_size: int = rule(1000, **_POS_INT)
    gamma: float = rule(0.1, "float", "in (0, 1]", lambda v: 0 < v <= 1)
    l2: float = rule(0.0, **_NONNEG_FLOAT)
    log_every: int | None = rule(None, "optional_int", "an integer ≥ 1", lambda v: v >= 1)

    def __post_init__(self):
        if (self.epochs is None) == (self.steps is None):
            raise ConfigError("train.epochs, train.steps: set exactly one of them")


@dataclass(frozen=True)
class RunConfig:
    """A whole run. ``seed`` derives the four random streams (train data, test data,
    initialisation, batch order) unless a stream's own seed (``data_seed`` …) is given, so
    two runs can share any subset of their randomness."""

    seed: int = rule(0, "int", "an integer ≥ 0", lambda v: v >= 0)
    data_seed: int | None = rule(None, **_SEED)
    test_seed: int | None = rule(None, **_SEED)
    init_seed: int | None = rule(None, **_SEED)
    batch_seed: int | None = rule(None, **_SEED)
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    optimizer: OptimizerConfig = None
    train: TrainConfig = TrainConfig()

    def __post_init__(self):
        if self.optimizer is None:
            object.__setattr__(self, "optimizer", OptimizerConfig("sgd", get_optimizer("sgd").hyper()))
        b = self.train.batch_size
        if b > self.data.n:
            raise ConfigError(f"train.batch_size = {b}: must be in [0, data.n] = [0, {self.data.n}]")

    # ---- derived quantities -------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        """Effective batch size (``n`` for full batch)."""
        return self.train.batch_size or self.data.n

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.data.n / self.batch_size)

    @property
    def total_steps(self) -> int:
        t = self.train
        return t.steps if t.steps is not None else t.epochs * self.steps_per_epoch

    @property
    def log_every(self) -> int:
        return self.train.log_every or max(1, math.ceil(self.total_steps / 50))

    def log_steps(self) -> np.ndarray:
        """Steps at which metrics are logged: 0, every ``log_every``, and the last step."""
        steps = list(range(0, self.total_steps + 1, self.log_every))
        if steps[-1] != self.total_steps:
            steps.append(self.total_steps)
        return np.asarray(steps, dtype=np.int64)

    def stream_seed(self, stream: str) -> int:
        """Seed of one random stream: its explicit seed, else derived from ``seed``."""
        explicit = getattr(self, f"{stream}_seed")
        if explicit is not None:
            return explicit
        sequence = np.random.SeedSequence([self.seed, STREAMS.index(stream)])
        return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))

    def with_seed(self, seed: int) -> "RunConfig":
        return replace(self, seed=seed)

    def to_dict(self) -> dict:
        """Nested plain dict (round-trips through :func:`config_from_dict`)."""
        out = {k: getattr(self, k) for k in ("seed", *(f"{s}_seed" for s in STREAMS))
               if getattr(self, k) is not None}
        out["data"] = to_plain(self.data)
        out["model"] = to_plain(self.model)
        out["optimizer"] = self.optimizer.to_dict()
        out["train"] = to_plain(self.train)
        return out


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
TOP_LEVEL = tuple(k for k in field_names(RunConfig) if k not in (*SECTIONS, "optimizer"))


def config_from_dict(tree: Mapping[str, Any]) -> RunConfig:
    """Validate a nested mapping ``{seed…, data: {…}, model: {…}, optimizer: {…}, train: {…}}``."""
    top = {}
    for key, value in tree.items():
        if key in SECTIONS or key == "optimizer":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{key} = {describe(value)}: must be a table [{key}]")
        elif key in TOP_LEVEL:
            top[key] = value
        else:
            allowed = ", ".join((*TOP_LEVEL, *SECTIONS, "optimizer"))
            raise ConfigError(f"{key}: unknown key; allowed keys are {allowed}")
    train = dict(tree.get("train", {}))
    if "epochs" in train and "steps" not in train:
        train["steps"] = None  # a length given in epochs replaces the default step count
    sections = {name: build(cls, train if name == "train" else tree.get(name, {}), f"{name}.")
                for name, cls in SECTIONS.items()}
    opt = dict(tree.get("optimizer", {}))
    name = opt.pop("name", "sgd")
    if not isinstance(name, str):
        raise ConfigError(f"optimizer.name = {describe(name)}: must be a string")
    spec = get_optimizer(name)
    optimizer = OptimizerConfig(name, spec.hyper(opt, "optimizer."))
    return replace(build(RunConfig, top), optimizer=optimizer, **sections)
