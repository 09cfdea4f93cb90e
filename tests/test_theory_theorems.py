"""Data-model theorems: regimes and predictions on the project's preset configs."""

import copy
import math
from types import SimpleNamespace

import pytest
import sympy

from theory import INTERMEDIATE, PREMISE_NOT_MET, Theorem, theorems
from theory import data_theorems as D


def tang2025(**train):
    config = {
        "data": dict(kind="sparse", d=1000, n=200, s=100, sigma_p=0.1, alpha=0.2,
                     n_test=10_000, v_norm=1.0, label_noise=0.0),
        "model": dict(m=20, activation="relu", q=3, scale="one", init="gaussian",
                      sigma0=0.01, bias=False),
        "optimizer": dict(name="adam", lr=5e-5, betas=(0.9, 0.999), eps=1e-8,
                          weight_decay=0.0),
        "train": dict(batch_size=100, epochs=10_000, steps=None, l2=0.0),
    }
    config["train"].update(train)
    return config


def kou2023(**data):
    config = {
        "data": dict(kind="dense", n=20, n_test=1000, label_noise=0.1, sigma_p=1.0,
                     orthogonal=False, mu_norm=5.0, d=1000, patches=2),
        "model": dict(m=10, activation="relu", q=1, bias=True, scale="1/P", init="uniform"),
        "optimizer": dict(name="sgd", lr=0.1),
        "train": dict(batch_size=0, steps=100, epochs=None, l2=0.0),
    }
    config["data"].update(data)
    return config


def cao2022(q=2):
    return {
        "data": dict(kind="dense", n=200, d=2000, mu_norm=2.0, sigma_p=0.5, label_noise=0.0,
                     orthogonal=True),
        "model": dict(m=20, activation="relu", q=q, scale="1/m", sigma0=0.01),
        "optimizer": dict(name="sgd", lr=0.5),
        "train": dict(batch_size=0, steps=2000, epochs=None),
    }


def by_key(config, constants=None):
    return {p.theorem: p for p in theorems.predict(config, constants)}


def test_theorems_is_callable_with_predict():
    listed = theorems()
    assert isinstance(listed, list) and all(isinstance(t, Theorem) for t in listed)
    assert {t.key for t in listed} >= {"zou2023_gd", "zou2023_adam", "zou2023_convex",
                                       "tang2025_adam", "tang2025_adamw", "cao2022",
                                       "kou2023", "zhou2024"}
    assert callable(theorems.predict)
    for theorem in listed:
        for regime in theorem.regimes:
            assert isinstance(regime.condition, sympy.logic.boolalg.Boolean)


def test_tang_large_batch_adam():
    prediction = by_key(tang2025(batch_size=100))["tang2025_adam"]
    assert prediction.regime == "large batch" and prediction.reference == "Thm 4.1"
    assert prediction.outcome == D.TEST_ERROR_HALF
    ratio = next(e for e in prediction.evidence if e.condition == "n/B <= C_large")
    assert (ratio.lhs, ratio.rhs, ratio.holds) == (2.0, 2.0, True)


def test_tang_minibatch_adam():
    prediction = by_key(tang2025(batch_size=2))["tang2025_adam"]
    assert prediction.regime == "minibatch" and prediction.reference == "Thm 4.2"
    assert prediction.outcome == D.TEST_ERROR_ZERO


def test_tang_between_regimes_is_intermediate_until_constants_move():
    config = tang2025(batch_size=50)  # n/B = 4: above C_large = 2, below log(100) = 4.6
    assert by_key(config)["tang2025_adam"].regime == INTERMEDIATE
    assert by_key(config, {"C_large": 5})["tang2025_adam"].regime == "large batch"
    assert by_key(config, {"epsilon": 0.05})["tang2025_adam"].regime == "minibatch"


def test_tang_adam_large_weight_decay_does_not_train():
    # lambda = 0.05 >= sigma0^(q-2) = 0.01, coupled L2 of Adam
    prediction = by_key(tang2025(batch_size=2, l2=0.05))["tang2025_adam"]
    assert prediction.regime == "does not train" and prediction.outcome == D.DOES_NOT_TRAIN
    assert prediction.evidence[-1].lhs == pytest.approx(0.05)
    assert prediction.evidence[-1].rhs == pytest.approx(0.01)


def test_tang_adamw_window_and_its_caveat():
    config = tang2025(batch_size=2)
    config["optimizer"].update(name="adamw", weight_decay=0.01)  # window min(4/200, 1) = 0.02
    prediction = by_key(config)["tang2025_adamw"]
    assert prediction.regime == "minibatch" and prediction.reference == "Thm 4.5"
    assert "garbled formula: verify numerically" in prediction.note
    config["optimizer"]["weight_decay"] = 0.05
    assert by_key(config)["tang2025_adamw"].regime == "does not train"
    assert "tang2025_adam" not in by_key(config)


def test_zou_full_batch_adam_and_gd():
    config = tang2025(batch_size=0)  # the zou2023 preset: tang data, full-batch Adam
    predictions = by_key(config)
    assert predictions["zou2023_adam"].outcome == D.TEST_ERROR_HALF
    assert predictions["tang2025_adam"].regime == "large batch"
    config["optimizer"] = dict(name="sgd", lr=0.1)
    assert by_key(config)["zou2023_gd"].outcome == D.TEST_ERROR_ZERO


def test_zou_needs_full_batch():
    prediction = by_key(tang2025(batch_size=100))["zou2023_adam"]
    assert prediction.regime == PREMISE_NOT_MET and "full-batch" in prediction.reason


def test_zou_convex_with_and_without_weight_decay():
    for name in ("adam", "sgd", "signsgd"):
        config = tang2025(batch_size=2, l2=1e-3)
        config["model"]["activation"] = "linear"
        config["optimizer"]["name"] = name
        predictions = by_key(config)
        assert predictions["zou2023_convex"].outcome == D.SAME_SOLUTION
        assert not {"zou2023_adam", "tang2025_adam"} & set(predictions)
    config["train"]["l2"] = 0.0
    assert by_key(config)["zou2023_convex"].regime == PREMISE_NOT_MET


@pytest.mark.parametrize("mu_norm", [5.0, 1.0, 2.0])
def test_kou_regime_follows_the_arithmetic(mu_norm):
    n, d, sigma_p = 20, 1000, 1.0
    signal, noise = n * mu_norm**4, 1 * d * sigma_p**4  # C = C' = 1
    expected = "benign" if signal >= noise else "harmful"
    prediction = by_key(kou2023(mu_norm=mu_norm))["kou2023"]
    assert prediction.regime == expected
    assert prediction.evidence[-1].lhs == pytest.approx(signal)
    assert prediction.evidence[-1].rhs == pytest.approx(noise)
    outcome = D.TEST_ERROR_NOISE if expected == "benign" else D.TEST_ERROR_ABOVE_NOISE
    assert prediction.outcome == outcome


def test_kou_preset_is_benign_and_cao_premise_fails_there():
    predictions = by_key(kou2023())
    assert predictions["kou2023"].regime == "benign"  # 20 * 5^4 = 12500 >= 1000
    assert predictions["cao2022"].regime == PREMISE_NOT_MET


def test_cao_preset_q2_premise_not_met():
    predictions = by_key(cao2022(q=2))
    assert predictions["cao2022"].regime == PREMISE_NOT_MET
    assert "q > 2" in predictions["cao2022"].reason and predictions["cao2022"].outcome is None
    assert predictions["kou2023"].regime == PREMISE_NOT_MET  # Kou needs q = 1


def test_cao_q3_regime_follows_the_arithmetic():
    snr = 2.0 / (0.5 * math.sqrt(2000))
    benign, harmful = 200 * snr**3 >= 1, snr**-3 / 200 >= 1
    assert (benign, harmful) == (False, True)  # the arithmetic this test relies on
    assert by_key(cao2022(q=3))["cao2022"].regime == "harmful"
    assert by_key(cao2022(q=3), {"C_cao_benign": 0.1})["cao2022"].regime == "benign"


def test_zhou_is_qualitative():
    config = tang2025(batch_size=2)
    config["optimizer"].update(name="adamw", weight_decay=0.01)
    prediction = by_key(config)["zhou2024"]
    assert prediction.regime == "qualitative" and prediction.outcome == D.ADAMW_BETTER


class OptimizerRecord:
    """Like the simulator's optimiser config: hyperparameters in ``.hyper``, and ``to_dict``."""

    def __init__(self, name, **hyper):
        self.name, self.hyper = name, SimpleNamespace(**hyper)

    def to_dict(self):
        return {"name": self.name, **vars(self.hyper)}


def test_object_config_matches_dict_config():
    config = tang2025(batch_size=2)
    as_object = SimpleNamespace(**{k: SimpleNamespace(**v) for k, v in config.items()})
    assert theorems.predict(as_object) == theorems.predict(config)


def test_object_optimizer_section_is_read_through_to_dict():
    config = tang2025(batch_size=2)
    sections = {k: SimpleNamespace(**v) for k, v in config.items() if k != "optimizer"}
    as_object = SimpleNamespace(optimizer=OptimizerRecord("adam", lr=5e-5, weight_decay=0.05),
                                **sections)
    assert by_key(as_object)["tang2025_adam"].regime == "does not train"


def test_out_of_scope_optimiser_gets_no_predictions():
    config = tang2025()
    config["optimizer"]["name"] = "invadam"
    assert theorems.predict(config) == []


def test_missing_field_and_unknown_constant_raise():
    config = kou2023()
    del config["data"]["mu_norm"]
    with pytest.raises(ValueError, match="data.mu_norm"):
        theorems.predict(config)
    with pytest.raises(ValueError, match="C_large"):
        theorems.predict(kou2023(), {"C_huge": 1})


def test_regime_holds_is_a_python_predicate():
    theorem = next(t for t in theorems() if t.key == "tang2025_adam")
    large = next(r for r in theorem.regimes if r.label == "large batch")
    assert large.holds(tang2025(batch_size=100))
    assert not large.holds(tang2025(batch_size=2))
    assert large.holds(tang2025(batch_size=50), constants={"C_large": 4})
    before = copy.deepcopy(tang2025())
    large.holds(before)
    assert before == tang2025()  # evaluation does not mutate the config
