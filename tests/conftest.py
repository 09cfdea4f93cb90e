"""Shared helpers for the test suite."""
import pytest

from simulate.loading import load_config


@pytest.fixture
def tiny():
    """A small, fast config (overrides on the default preset)."""
    def make(*overrides):
        base = ["data.n=16", "data.n_test=50", "data.d=40", "data.s=8", "model.m=4",
                "train.batch_size=4", "train.steps=60"]
        return load_config("default", [*base, *overrides])
    return make
