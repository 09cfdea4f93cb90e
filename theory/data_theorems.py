"""The data-model theorems of SPEC §7 as testable predictions.

``theorems()`` lists the ``Theorem`` records; ``theorems.predict(config, constants=None)``
returns a ``Prediction`` for every theorem in scope for ``config`` (see
``theory.theorem_model`` for the evaluation and ``theory.configs`` for the config fields).

Sources and the conditions encoded (constants are symbols; defaults in
``theory.theorem_model.DEFAULT_CONSTANTS``; "GD" is the optimiser ``sgd`` at full batch;
regimes are tried in the order listed):

* Zou, Cao, Li, Gu, ICLR 2023 ("Understanding the generalization of Adam in learning
  neural networks with proper regularization"), sparse feature-noise data (SPEC §1a), full
  batch ``B = n``: GD learns the feature (test error -> 0); Adam fits the feature noise
  (test error >= 1/2 - o(1)), even with weight decay.  Convex objective (linear
  activation) with weight decay ``lambda > 0``: every optimiser that converges reaches the
  same solution.
* Tang, Zhang, Cao, Zou 2025 ("Understanding the generalization of stochastic gradient
  Adam in learning neural networks", arXiv 2510.11354), sparse data, ``q >= 3``:
  Adam -- Cor 4.3: ``lambda >= C_stall sigma_0^(q-2)`` (``lambda = omega(sigma_0^(q-2))``)
  does not train; Thm 4.1: large batch ``n/B <= C_large`` (``n/B = Theta(1)``) with small
  ``lambda <= C_small sigma_0^(q-2) sigma_p / n`` -> test error >= 1/2 - o(1); Thm 4.2:
  minibatch ``n/B >= C_minibatch log(1/epsilon)`` -> test error o(1).
  AdamW -- Cor 4.6: ``lambda >= C_stall_w min(B^2/n, 1)`` does not train (a reading of a
  garbled formula: verify numerically); Thm 4.4 large batch -> >= 1/2 - o(1); Thm 4.5
  minibatch -> o(1).
* Cao, Chen, Belkin, Gu 2022 ("Benign overfitting in two-layer convolutional neural
  networks"), dense data (SPEC §1b), GD, ``q > 2``, no label noise, with
  ``SNR = ||mu|| / (sigma_p sqrt(d))``: benign when ``n SNR^q >= C_cao_benign``
  (test error -> 0), harmful when ``SNR^(-q) / n >= C_cao_harmful`` (test loss >= a constant).
* Kou, Chen, Chen, Gu 2023 ("Benign overfitting in two-layer ReLU convolutional neural
  networks"), dense data, ReLU ``q = 1``, GD, label noise ``p``: benign when
  ``n ||mu||^4 >= C_kou_benign d sigma_p^4`` (test error -> p), harmful when
  ``n ||mu||^4 <= C_kou_harmful d sigma_p^4`` (test error >= p + 0.1).
* Zhou, Xie, Lin, Yan, TPAMI 2024 ("Towards understanding convergence and generalization
  of AdamW"): qualitative -- AdamW minimises a dynamically regularised loss, unlike
  l2-Adam, and has the smaller generalisation error (Bayesian-posterior argument).
"""

from collections.abc import Mapping
from typing import Any, Optional

import sympy

from . import symbols as S
from .theorem_model import Condition, Regime, Theorem

TEST_ERROR_HALF = "test error >= 1/2 - o(1)"
TEST_ERROR_ZERO = "test error -> 0"
TEST_ERROR_NOISE = "test error -> p (the label-noise rate)"
TEST_ERROR_ABOVE_NOISE = "test error >= p + 0.1"
TEST_LOSS_CONSTANT = "test loss >= a constant (harmful overfitting)"
DOES_NOT_TRAIN = "does not train"
SAME_SOLUTION = "every optimiser that converges reaches the same solution"
ADAMW_BETTER = "AdamW generalises better than l2-Adam (qualitative: no number predicted)"

ZOU = "Zou, Cao, Li, Gu, ICLR 2023"
TANG = "Tang, Zhang, Cao, Zou 2025"
CAO = 'Cao et al. 2022, "Benign overfitting in two-layer CNNs"'
KOU = 'Kou et al. 2023, "Benign overfitting in two-layer ReLU CNNs"'
ZHOU = "Zhou, Xie, Lin, Yan, TPAMI 2024"

FULL_BATCH = Condition("full-batch training (B = n)", sympy.Eq(S.B, S.n))
WEIGHT_DECAY = Condition("weight decay lambda > 0", S.lam > 0)
TANG_POWER = Condition("polynomial ReLU power q >= 3 (Tang et al.'s analysis)", S.q >= 3)
LARGE_BATCH = S.n / S.B <= S.C_large
MINIBATCH = S.n / S.B >= S.C_minibatch * sympy.log(1 / S.epsilon)
KOU_SIGNAL = S.n * S.mu_norm**4
KOU_NOISE = S.d * S.sigma_p**4

THEOREMS = (
    Theorem(
        key="zou2023_gd",
        name="Zou et al. 2023: full-batch GD learns the feature",
        source=ZOU,
        data_kind="sparse",
        activations=("relu",),
        optimizers=("sgd",),
        premises=(FULL_BATCH,),
        regimes=(Regime("full-batch GD", "main theorem (GD)", sympy.true, TEST_ERROR_ZERO),),
    ),
    Theorem(
        key="zou2023_adam",
        name="Zou et al. 2023: full-batch Adam fits the feature noise",
        source=ZOU,
        data_kind="sparse",
        activations=("relu",),
        optimizers=("adam",),
        premises=(FULL_BATCH,),
        regimes=(Regime("full-batch Adam", "main theorem (Adam)", sympy.true, TEST_ERROR_HALF),),
        note="holds with or without weight decay",
    ),
    Theorem(
        key="zou2023_convex",
        name="Zou et al. 2023: convex objective with weight decay",
        source=ZOU,
        data_kind=None,
        activations=("linear",),
        optimizers=None,
        premises=(WEIGHT_DECAY,),
        regimes=(Regime("convex + weight decay", "convex-case theorem", sympy.true,
                        SAME_SOLUTION),),
        note="the prediction is agreement between optimisers, not a test-error value",
    ),
    Theorem(
        key="tang2025_adam",
        name="Tang et al. 2025: stochastic Adam, batch size and weight decay",
        source=TANG,
        data_kind="sparse",
        activations=("relu",),
        optimizers=("adam",),
        premises=(TANG_POWER,),
        regimes=(
            Regime("does not train", "Cor 4.3", S.lam >= S.C_stall * S.sigma0 ** (S.q - 2),
                   DOES_NOT_TRAIN),
            Regime("large batch", "Thm 4.1",
                   sympy.And(LARGE_BATCH,
                             S.lam <= S.C_small * S.sigma0 ** (S.q - 2) * S.sigma_p / S.n),
                   TEST_ERROR_HALF),
            Regime("minibatch", "Thm 4.2", MINIBATCH, TEST_ERROR_ZERO),
        ),
        note="lambda is Adam's coupled weight decay (train.l2 + optimizer.weight_decay); "
        "Thm 4.1 assumes lambda > 0, lambda = 0 is treated as small",
    ),
    Theorem(
        key="tang2025_adamw",
        name="Tang et al. 2025: stochastic AdamW, batch size and weight decay",
        source=TANG,
        data_kind="sparse",
        activations=("relu",),
        optimizers=("adamw",),
        premises=(TANG_POWER,),
        regimes=(
            Regime("does not train", "Cor 4.6",
                   S.lam >= S.C_stall_w * sympy.Min(S.B**2 / S.n, 1), DOES_NOT_TRAIN),
            Regime("large batch", "Thm 4.4", LARGE_BATCH, TEST_ERROR_HALF),
            Regime("minibatch", "Thm 4.5", MINIBATCH, TEST_ERROR_ZERO),
        ),
        note="the AdamW weight-decay window scaling B^2/n ∧ 1 is a reading of a garbled "
        "formula: verify numerically",
    ),
    Theorem(
        key="cao2022",
        name="Cao et al. 2022: benign vs harmful overfitting (polynomial ReLU)",
        source=CAO,
        data_kind="dense",
        activations=("relu",),
        optimizers=("sgd",),
        premises=(
            Condition("activation power q > 2", S.q > 2),
            FULL_BATCH,
            Condition("no label noise (p = 0)", sympy.Eq(S.p, 0)),
        ),
        regimes=(
            Regime("benign", "benign-overfitting theorem", S.n * S.SNR**S.q >= S.C_cao_benign,
                   TEST_ERROR_ZERO),
            Regime("harmful", "harmful-overfitting theorem",
                   S.SNR ** (-S.q) / S.n >= S.C_cao_harmful, TEST_LOSS_CONSTANT),
        ),
    ),
    Theorem(
        key="kou2023",
        name="Kou et al. 2023: benign vs harmful overfitting (ReLU, label noise)",
        source=KOU,
        data_kind="dense",
        activations=("relu",),
        optimizers=("sgd",),
        premises=(Condition("ReLU (q = 1)", sympy.Eq(S.q, 1)), FULL_BATCH),
        regimes=(
            Regime("benign", "benign-overfitting theorem",
                   KOU_SIGNAL >= S.C_kou_benign * KOU_NOISE, TEST_ERROR_NOISE),
            Regime("harmful", "harmful-overfitting theorem",
                   KOU_SIGNAL <= S.C_kou_harmful * KOU_NOISE, TEST_ERROR_ABOVE_NOISE),
        ),
        note="the released experiment (filter biases, 1/P output scale, uniform init) departs "
        "from the analysed network",
    ),
    Theorem(
        key="zhou2024",
        name="Zhou et al. 2024: AdamW vs l2-Adam",
        source=ZHOU,
        data_kind=None,
        activations=None,
        optimizers=("adam", "adamw"),
        premises=(WEIGHT_DECAY,),
        regimes=(Regime("qualitative", "generalisation theorem", sympy.true, ADAMW_BETTER),),
        note="AdamW minimises a dynamically regularised loss, unlike l2-Adam; compare runs "
        "of both at the same lambda",
    ),
)


class TheoremCatalogue:
    """``theorems()`` -> list of ``Theorem``; ``theorems.predict(config)`` -> predictions."""

    def __call__(self) -> list:
        return list(THEOREMS)

    def predict(self, config: Any, constants: Optional[Mapping] = None) -> list:
        """A ``Prediction`` for every theorem in scope for ``config`` (see module doc)."""
        predictions = (theorem.predict(config, constants) for theorem in THEOREMS)
        return [prediction for prediction in predictions if prediction is not None]

    def __repr__(self) -> str:
        return f"<theorems: {', '.join(t.key for t in THEOREMS)}>"


theorems = TheoremCatalogue()
