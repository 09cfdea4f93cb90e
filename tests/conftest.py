"""Shared helpers for the test suite."""
import dataclasses

import pytest

from simulate.config import SECTIONS, TOP_LEVEL
from simulate.loading import load_config
from simulate.optimizers import OPTIMIZER_NAMES, get_optimizer


@pytest.fixture
def tiny():
    """A small, fast config (overrides on the default preset)."""
    def make(*overrides):
        base = ["data.n=16", "data.n_test=50", "data.d=40", "data.s=8", "model.m=4",
                "train.batch_size=4", "train.steps=60"]
        return load_config("default", [*base, *overrides])
    return make


@pytest.fixture(scope="session")
def config_keys() -> set[str]:
    """Every config key's own name: top level, section keys, every optimiser's hyperparameters."""
    names = set(TOP_LEVEL) | {"name"}
    for cls in SECTIONS.values():
        names |= {f.name for f in dataclasses.fields(cls)}
    for name in OPTIMIZER_NAMES:
        names |= {f.name for f in dataclasses.fields(get_optimizer(name).hyper_cls)}
    return names
