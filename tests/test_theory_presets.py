"""theory.theorems.predict on the simulator's own preset configs (duck-typed RunConfig)."""
import pytest

from simulate.loading import load_config
from theory import theorems


def _regimes(source, *overrides):
    return {p.theorem: (p.regime, p.outcome) for p in theorems.predict(load_config(source, overrides))}


@pytest.mark.parametrize("batch,regime,outcome", [
    ("100", "large batch", "test error >= 1/2 - o(1)"),
    ("2", "minibatch", "test error -> 0"),
])
def test_tang_batch_size_regimes(batch, regime, outcome):
    assert _regimes("tang2025", f"train.batch_size={batch}")["tang2025_adam"] == (regime, outcome)


def test_kou_benign_and_cao_premise():
    assert _regimes("kou2023")["kou2023"][0] == "benign"
    assert _regimes("kou2023", "data.mu_norm=0.5")["kou2023"][0] != "benign"
    assert _regimes("cao2022")["cao2022"][0] == "premise not met"      # Cao needs q > 2


def test_zou_full_batch_adam_versus_gd():
    assert _regimes("zou2023")["zou2023_adam"][0] == "full-batch Adam"
    gd = _regimes("zou2023", "optimizer.name=sgd")
    assert "zou2023_adam" not in gd
    assert gd["zou2023_gd"] == ("full-batch GD", "test error -> 0")
